"""Grad modes: whether ops record nodes on the tape (``no_grad``, ``enable_grad``, ``inference_mode``).

The state is one object read on every op. As in PyTorch it is thread-local: each thread starts with
grad enabled and inference mode off, and a ``no_grad`` block in one thread never changes what another
thread records. Each mode works as a context manager and as a decorator, as in PyTorch.

Reading a thread-local attribute costs several times a plain read, and ops ask on every call; so
``ALL_ENABLED[0]`` says whether grad mode is on in every thread (the usual case while training), and
only when it is not does an op read its own thread's ``STATE.enabled``. Every change of grad mode goes
through :func:`set_enabled`, which keeps the two in step.
"""

from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _GradState(threading.local):
    """Per-thread grad mode; ``__init__`` runs once in each thread that reads it, giving the defaults."""

    def __init__(self):
        self.enabled = True
        self.inference = False
        self.off = None  # a _GradOff while grad mode is off


STATE = _GradState()

ALL_ENABLED = [True]  # [no thread has grad mode off]: ``ALL_ENABLED[0] or STATE.enabled`` is this thread's mode
_threads_off = 0
_switch_lock = threading.RLock()  # re-entrant: a _GradOff may be collected while its thread holds it


class _GradOff:
    """Held by a thread's state while its grad mode is off; when the thread ends with grad mode still
    off, its thread-local state is dropped, and this takes the thread out of the count."""

    __slots__ = ("armed",)

    def __init__(self):
        self.armed = True

    def __del__(self):
        if self.armed:
            _count_off(-1)


def _count_off(change: int) -> None:
    global _threads_off
    with _switch_lock:
        _threads_off += change
        ALL_ENABLED[0] = _threads_off == 0


def set_enabled(enabled: bool) -> None:
    """Turn this thread's grad mode on or off (what ``no_grad`` and friends call)."""
    global _threads_off
    enabled = bool(enabled)
    state = STATE  # one thread-local lookup (each costs several plain reads)
    if state.enabled == enabled:  # this thread's own state: no other thread changes it
        return
    with _switch_lock:  # _count_off's work done here, under one acquisition (backward switches twice a step)
        if state.enabled == enabled:
            return
        state.enabled = enabled
        if enabled:
            state.off.armed = False
            state.off = None
            _threads_off -= 1
        else:
            state.off = _GradOff()
            _threads_off += 1
        ALL_ENABLED[0] = _threads_off == 0


def is_grad_enabled() -> bool:
    """True when ops record the graph (``torch.is_grad_enabled``)."""
    return STATE.enabled


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode`` in this thread (``torch.is_inference_mode_enabled``)."""
    return STATE.inference


class _Mode:
    """A context manager that sets the grad state on entry and restores it on exit; also a decorator."""

    _enabled = True
    _inference = None  # None: leave inference mode as it is (only inference_mode sets it)

    def __enter__(self):
        self._saved = (STATE.enabled, STATE.inference)
        set_enabled(self._enabled)
        if self._inference is not None:
            STATE.inference = self._inference
        return self

    def __exit__(self, *exc):
        set_enabled(self._saved[0])
        STATE.inference = self._saved[1]
        return False

    def __call__(self, fn):
        enabled, inference = self._enabled, self._inference

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            saved = (STATE.enabled, STATE.inference)
            set_enabled(enabled)
            if inference is not None:
                STATE.inference = inference
            try:
                return fn(*args, **kwargs)
            finally:
                set_enabled(saved[0])
                STATE.inference = saved[1]
        return wrapper


class no_grad(_Mode):
    """Ops run without recording the graph; their outputs do not require grad (``torch.no_grad``)."""

    _enabled = False


class enable_grad(_Mode):
    """Turn recording back on inside a ``no_grad`` block (``torch.enable_grad``)."""

    _enabled = True


class set_grad_enabled(_Mode):
    """Set grad mode: takes effect at once when called, and is undone on exit when used with ``with``."""

    def __init__(self, mode: bool):
        self._saved = (STATE.enabled, STATE.inference)
        self._enabled = bool(mode)
        set_enabled(self._enabled)

    def __enter__(self):
        return self

    def __call__(self, fn):
        set_enabled(self._saved[0])  # as a decorator it applies per call, not from now on
        return super().__call__(fn)


class inference_mode(_Mode):
    """Like ``no_grad``, for inference-only code (``torch.inference_mode``).

    Difference from PyTorch: tensors made here are ordinary tensors, not inference tensors; ember has no
    extra bookkeeping for no_grad to skip, so the two modes cost the same.
    """

    def __init__(self, mode: bool = True):
        self._enabled = not mode
        self._inference = bool(mode)
