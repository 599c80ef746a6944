"""``ember.cuda``: PyTorch's ``torch.cuda`` questions, answered by whichever plugin registered the
"cuda" device (ember's own CuPy backend, or a third party's). Scripts that ask
``ember.cuda.is_available()`` run everywhere; without a GPU the answer is simply False.
"""

from __future__ import annotations

from .device import DeviceError, device as _device

__all__ = ["is_available", "device_count", "current_device", "synchronize", "manual_seed", "manual_seed_all",
           "memory_allocated", "unavailable_reason", "Event", "Stream", "current_stream", "stream", "max_memory_allocated", "memory_reserved", "max_memory_reserved", "empty_cache",
           "reset_peak_memory_stats", "reset_max_memory_allocated", "set_device", "is_bf16_supported",
           "get_device_name", "get_device_capability", "get_device_properties", "OutOfMemoryError", "amp"]


def _backend():
    return _device._backends.get("cuda")


def is_available() -> bool:
    """Whether a CUDA device can hold tensors here (a registered backend that reports a GPU)."""
    backend = _backend()
    return backend is not None and backend.is_available()


def device_count() -> int:
    backend = _backend()
    return backend.device_count() if backend is not None else 0


def unavailable_reason() -> str | None:
    """None when CUDA can be used; otherwise why not (ember's own addition: PyTorch has no counterpart)."""
    backend = _backend()
    if backend is None:
        return "no plugin registered a 'cuda' device (ember's own is the 'cuda' entry point of ember)"
    return backend.unavailable_reason()


def _require(what: str):
    reason = unavailable_reason()
    if reason is not None:
        raise DeviceError(f"ember.cuda.{what}: no CUDA device is available: {reason}")
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
    """Bytes held by tensors on ``device``; 0 without CUDA, as PyTorch answers on a CPU-only machine."""
    backend = _backend()
    if backend is None or not backend.is_available():
        return 0
    return backend.memory_allocated(_device("cuda" if device is None else device).ordinal)


class Event:
    """``torch.cuda.Event``: a marker in a CUDA stream, for timing GPU work without synchronising on
    every op. ``record()`` it before and after the work, ``synchronize()`` the later one, then
    ``start.elapsed_time(end)`` is the time between them in milliseconds. DeviceError without CUDA
    (PyTorch raises RuntimeError there too; DeviceError is one)."""
def max_memory_allocated(device=None) -> int:
    """The peak of :func:`memory_allocated`. ember's backends report only the current figure, so this is
    that figure (a lower bound of the true peak); 0 without CUDA, as in PyTorch."""
    return memory_allocated(device)


def memory_reserved(device=None) -> int:
    """Bytes reserved by the allocator; ember reports what tensors hold (0 without CUDA, as PyTorch)."""
    return memory_allocated(device)


max_memory_reserved = memory_reserved


def empty_cache() -> None:
    """Release cached blocks: CuPy's default memory pool when CUDA is in use; nothing to do otherwise
    (PyTorch's is a no-op too when CUDA was never initialised)."""
    if is_available():
        import cupy
        cupy.get_default_memory_pool().free_all_blocks()


def reset_peak_memory_stats(device=None) -> None:
    """Nothing to reset: peaks are not tracked (see :func:`max_memory_allocated`)."""


reset_max_memory_allocated = reset_peak_memory_stats


def set_device(device) -> None:
    """Select the current CUDA device. ember binds a bare ``"cuda"`` to device 0, so only 0 (or a
    negative index, a no-op in PyTorch) is accepted; without CUDA this raises, as PyTorch does."""
    index = device if isinstance(device, int) else _device(device).ordinal
    if index < 0:
        return
    _require("set_device")
    if index != 0:
        raise DeviceError(f"ember.cuda.set_device({index}): ember uses device 0 for a bare 'cuda'; "
                          f"address other GPUs explicitly as 'cuda:{index}'")


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: ember's CUDA backend has no bfloat16 kernels (and there is no CUDA without a GPU)."""
    return False


def get_device_properties(device=None):
    """Name, total memory and compute capability of a CUDA device (CuPy's runtime query)."""
    _require("get_device_properties")
    import cupy
    from types import SimpleNamespace
    index = 0 if device is None else (device if isinstance(device, int) else _device(device).ordinal)
    props = cupy.cuda.runtime.getDeviceProperties(index)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    return SimpleNamespace(name=name, total_memory=props["totalGlobalMem"], major=props["major"],
                           minor=props["minor"], multi_processor_count=props["multiProcessorCount"])


def get_device_name(device=None) -> str:
    return get_device_properties(device).name


def get_device_capability(device=None) -> tuple:
    props = get_device_properties(device)
    return props.major, props.minor


class OutOfMemoryError(RuntimeError):
    """Raised when a CUDA allocation fails (``torch.cuda.OutOfMemoryError``)."""



def _bind_amp():
    # ``torch.cuda.amp`` must be importable as a submodule (``from torch.cuda.amp import GradScaler``).
    from .amp import cuda_namespace
    return cuda_namespace()


amp = _bind_amp()


class Stream:
    """A CUDA stream (``torch.cuda.Stream``), backed by a CuPy stream. Needs CUDA, as in PyTorch."""

    def __init__(self, device=None, priority: int = 0, **kwargs):
        _require("Stream")
        import cupy
        self._stream = cupy.cuda.Stream(non_blocking=True)
        self.device = _device("cuda" if device is None else device)

    def synchronize(self) -> None:
        self._stream.synchronize()

    def wait_stream(self, stream) -> None:
        self._stream.wait_event(stream._stream.record())

    def query(self) -> bool:
        return self._stream.done

    def __enter__(self):
        self._stream.__enter__()
        return self

    def __exit__(self, *exc):
        return self._stream.__exit__(*exc)


class Event:
    """A CUDA event for timing and synchronisation (``torch.cuda.Event``), backed by CuPy. Needs CUDA."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False):
        _require("Event")
        import cupy
        self._event = cupy.cuda.Event(block=blocking, disable_timing=not enable_timing, interprocess=interprocess)
        self._event = cupy.cuda.Event(block=blocking, disable_timing=not enable_timing)

    def record(self, stream=None) -> None:
        self._event.record(None if stream is None else stream._stream)

    def synchronize(self) -> None:
        self._event.synchronize()

    def query(self) -> bool:
        return self._event.done

    def wait(self, stream=None) -> None:
        (current_stream() if stream is None else stream).wait_event(self)

    def elapsed_time(self, end_event: "Event") -> float:
        """Milliseconds from this event to ``end_event`` (both recorded, both with enable_timing)."""
    def elapsed_time(self, end_event) -> float:
        import cupy
        return cupy.cuda.get_elapsed_time(self._event, end_event._event)


class Stream:
    """``torch.cuda.Stream``: a queue of GPU work; ember's ops run on the current stream (use ``with
    ember.cuda.stream(s):`` to change it)."""

    def __init__(self, device=None, priority: int = 0, _stream=None):
        _require("Stream")
        import cupy
        index = _device("cuda" if device is None else device).ordinal
        with cupy.cuda.Device(index):
            self._stream = _stream if _stream is not None else cupy.cuda.Stream(non_blocking=True, priority=priority)

    def synchronize(self) -> None:
        self._stream.synchronize()

    def query(self) -> bool:
        return self._stream.done

    def wait_event(self, event: Event) -> None:
        self._stream.wait_event(event._event)

    def wait_stream(self, stream: "Stream") -> None:
        self.wait_event(stream.record_event())

    def record_event(self, event: Event | None = None) -> Event:
        event = Event() if event is None else event
        event.record(self)
        return event

    def __enter__(self):
        self._stream.__enter__()
        return self

    def __exit__(self, *exc):
        return self._stream.__exit__(*exc)


def current_stream(device=None) -> Stream:
    """The stream ember's ops on ``device`` (default ``cuda:0``) are queued on now."""
    _require("current_stream")
    import cupy
    return Stream(device, _stream=cupy.cuda.get_current_stream())


class stream:
    """``with ember.cuda.stream(s):`` queues the ops inside on ``s``; ``stream(None)`` is a no-op, as in
    PyTorch (so scripts that pass an optional stream run without CUDA)."""

    def __init__(self, stream: Stream | None):
        self._stream = stream

    def __enter__(self):
        if self._stream is not None:
            self._stream.__enter__()
        return self._stream

    def __exit__(self, *exc):
        if self._stream is not None:
            self._stream.__exit__(*exc)
        return False
def current_stream(device=None) -> Stream:
    """The stream work is queued on (``torch.cuda.current_stream``); needs CUDA."""
    _require("current_stream")
    import cupy
    stream = Stream.__new__(Stream)
    stream._stream, stream.device = cupy.cuda.get_current_stream(), _device("cuda" if device is None else device)
    return stream


default_stream = current_stream


class stream:  # noqa: N801 - PyTorch's name
    """``with torch.cuda.stream(s):`` queue work on ``s``; ``stream(None)`` is a no-op, as in PyTorch."""

    def __init__(self, s):
        self.s = s

    def __enter__(self):
        if self.s is not None:
            self.s.__enter__()
        return self.s

    def __exit__(self, *exc):
        if self.s is not None:
            self.s.__exit__(*exc)
        return False


def memory_summary(device=None, abbreviated: bool = False) -> str:
    """A short report of the memory figures ember tracks (PyTorch's is a table of allocator statistics)."""
    return (f"ember CUDA memory summary (device {0 if device is None else device}):\n"
            f"  allocated: {memory_allocated(device)} bytes\n  reserved: {memory_reserved(device)} bytes\n")


def memory_stats(device=None) -> dict:
    """The allocator figures ember tracks, under PyTorch's key names."""
    allocated = memory_allocated(device)
    return {"allocated_bytes.all.current": allocated, "reserved_bytes.all.current": memory_reserved(device)}


def _bind_submodules():
    # ``torch.cuda.memory`` and ``torch.cuda.nccl`` are importable submodules in PyTorch.
    import sys
    import types
    memory = types.ModuleType(f"{__name__}.memory", "torch.cuda.memory's functions (ember.cuda's own).")
    for name in ("memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved",
                 "empty_cache", "reset_peak_memory_stats", "memory_summary", "memory_stats"):
        setattr(memory, name, globals()[name])

    def _record_memory_history(enabled="all", *args, **kwargs):
        """Allocation history needs PyTorch's caching allocator; ember has none to record."""
        raise NotImplementedError("ember.cuda.memory._record_memory_history: ember has no caching allocator "
                                  "history to record")

    def _snapshot(device=None):
        raise NotImplementedError("ember.cuda.memory._snapshot: ember has no caching allocator to snapshot")
    memory._record_memory_history, memory._snapshot = _record_memory_history, _snapshot
    nccl = types.ModuleType(f"{__name__}.nccl", "torch.cuda.nccl: ember does not use NCCL.")

    def version():
        raise RuntimeError("ember.cuda.nccl.version: ember is not built with NCCL (its GPU backend is CuPy)")
    nccl.version = version
    nccl.is_available = lambda tensors=None: False
    sys.modules[memory.__name__], sys.modules[nccl.__name__] = memory, nccl
    return memory, nccl


memory, nccl = _bind_submodules()
