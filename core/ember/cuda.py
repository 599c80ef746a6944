"""``ember.cuda``: PyTorch's ``torch.cuda`` questions, answered by whichever plugin registered the
"cuda" device (ember's own CuPy backend, or a third party's). Scripts that ask
``ember.cuda.is_available()`` run everywhere; without a GPU the answer is simply False.
"""

from __future__ import annotations

from .device import DeviceError, device as _device

__all__ = ["is_available", "device_count", "current_device", "synchronize", "manual_seed", "manual_seed_all",
           "memory_allocated"]


def _backend():
    return _device._backends.get("cuda")


def is_available() -> bool:
    """Whether a CUDA device can hold tensors here (a registered backend that reports a GPU)."""
    backend = _backend()
    return backend is not None and backend.is_available()


def device_count() -> int:
    backend = _backend()
    return backend.device_count() if backend is not None else 0


def _require(what: str):
    if not is_available():
        raise DeviceError(f"ember.cuda.{what}: no CUDA device is available (is_available() is False)")
    return _backend()


def current_device() -> int:
    """The index of the device ``"cuda"`` means; ember always uses device 0 for a bare ``"cuda"``."""
    _require("current_device")
    return 0


def synchronize(device=None) -> None:
    """Wait for all queued work on ``device`` (default ``cuda:0``)."""
    backend = _require("synchronize")
    backend.synchronize(_device("cuda" if device is None else device).ordinal)


def manual_seed(seed: int) -> None:
    """Seed the default generator of ``cuda:0`` (``torch.cuda.manual_seed``); a no-op without CUDA."""
    if _backend() is not None:
        from .random import default_generator
        default_generator("cuda").manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Seed every CUDA device's default generator; a no-op without CUDA."""
    if _backend() is not None:
        from .random import default_generator
        for index in range(max(device_count(), 1)):
            default_generator(_device("cuda", index)).manual_seed(seed)


def memory_allocated(device=None) -> int:
    backend = _require("memory_allocated")
    return backend.memory_allocated(_device("cuda" if device is None else device).ordinal)
