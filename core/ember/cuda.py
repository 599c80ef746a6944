"""``ember.cuda``: PyTorch's ``torch.cuda`` questions, answered by whichever plugin registered the
"cuda" device (ember's own CuPy backend, or a third party's). Scripts that ask
``ember.cuda.is_available()`` run everywhere; without a GPU the answer is simply False.
"""

from __future__ import annotations

from .device import DeviceError, device as _device

__all__ = ["is_available", "device_count", "current_device", "synchronize", "manual_seed", "manual_seed_all",
           "memory_allocated", "unavailable_reason", "Event", "Stream", "current_stream", "stream"]


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
    backend = _require("memory_allocated")
    return backend.memory_allocated(_device("cuda" if device is None else device).ordinal)


class Event:
    """``torch.cuda.Event``: a marker in a CUDA stream, for timing GPU work without synchronising on
    every op. ``record()`` it before and after the work, ``synchronize()`` the later one, then
    ``start.elapsed_time(end)`` is the time between them in milliseconds. DeviceError without CUDA
    (PyTorch raises RuntimeError there too; DeviceError is one)."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False):
        _require("Event")
        import cupy
        self._event = cupy.cuda.Event(block=blocking, disable_timing=not enable_timing, interprocess=interprocess)

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
