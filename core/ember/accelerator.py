"""``ember.accelerator``: PyTorch's device-generic questions (``torch.accelerator``), answered from
the registered device backends. The current accelerator is CUDA when a CUDA backend reports a device;
otherwise there is none, and the answers are PyTorch's on a CPU-only machine (``is_available()``
False, ``current_accelerator()`` None, ``device_count()`` 0)."""

from __future__ import annotations

from .device import DeviceError, device as _device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "current_device_idx",
           "set_device_index", "set_device_idx", "device_index", "synchronize", "empty_cache",
           "memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "reset_peak_memory_stats"]

_ACCELERATORS = ("cuda",)  # device types PyTorch counts as accelerators that ember has backends for


def _backend():
    for name in _ACCELERATORS:
        backend = _device._backends.get(name)
        if backend is not None and backend.is_available():
            return backend
    return None


def is_available() -> bool:
    """Whether an accelerator device can hold tensors here."""
    return _backend() is not None


def current_accelerator(check_available: bool = False):
    """The accelerator's device type as an ``ember.device`` (``device('cuda')``), or None without one."""
    backend = _backend()
    return None if backend is None else _device(backend.type)


def device_count() -> int:
    """How many accelerator devices there are (0 without one)."""
    backend = _backend()
    return 0 if backend is None else backend.device_count()


def _require(what: str):
    backend = _backend()
    if backend is None:
        raise DeviceError(f"ember.accelerator.{what}: no accelerator is available (is_available() is False)")
    return backend


def current_device_index() -> int:
    """The index of the current accelerator device; ember always uses 0."""
    _require("current_device_index")
    return 0


current_device_idx = current_device_index


def set_device_index(device) -> None:
    """Select the current accelerator device: only index 0 exists as far as ember's bare names go."""
    backend = _require("set_device_index")
    index = device if isinstance(device, int) else _device(device).ordinal
    if not 0 <= index < backend.device_count():
        raise DeviceError(f"ember.accelerator.set_device_index: invalid device index {index}; "
                          f"{backend.device_count()} device(s) available")


set_device_idx = set_device_index


class device_index:  # noqa: N801 - PyTorch's name
    """Context manager selecting an accelerator device index (a no-op for ``None``)."""

    def __init__(self, device):
        self.device = device

    def __enter__(self):
        if self.device is not None:
            set_device_index(self.device)
        return self

    def __exit__(self, *exc):
        return False


def synchronize(device=None) -> None:
    backend = _require("synchronize")
    backend.synchronize(0 if device is None else _device(device).ordinal)


def empty_cache() -> None:
    """Release cached memory; ember's backends keep no cache of their own beyond the array library's."""


def memory_allocated(device=None) -> int:
    backend = _backend()
    return 0 if backend is None else backend.memory_allocated(0 if device is None else _device(device).ordinal)


def max_memory_allocated(device=None) -> int:
    return memory_allocated(device)


def memory_reserved(device=None) -> int:
    return memory_allocated(device)


max_memory_reserved = memory_reserved


def reset_peak_memory_stats(device=None) -> None:
    """Nothing to reset: ember reports current figures as peaks (see ``ember.cuda.max_memory_allocated``)."""
