"""Process-wide settings that PyTorch scripts set: intra-op threads (``set_num_threads``), print
options, the default device, deterministic algorithms and float32 matmul precision.

Threads are real: ember's heavy kernels run in a BLAS library, so ``set_num_threads`` sets that library's
thread pool; without it an adaptive policy chooses (:mod:`ember.thread_policy` says how and why).
"""

from __future__ import annotations

from .device import canonical as _canonical_device, default_device as _default_device
from .tensor import PRINT_OPTIONS
from .thread_policy import get_num_threads, set_num_threads  # noqa: F401

__all__ = ["set_num_threads", "get_num_threads", "set_num_interop_threads", "get_num_interop_threads",
           "set_printoptions", "set_default_device", "get_default_device", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled", "set_float32_matmul_precision", "get_float32_matmul_precision"]

_interop = [1]


def set_num_interop_threads(n: int) -> None:
    """Recorded only: ember runs ops one after another, with no inter-op pool (``torch.set_num_interop_threads``).
    RuntimeError unless ``n`` is a positive int."""
    if not isinstance(n, int) or n < 1:
        raise RuntimeError(f"set_num_interop_threads expects a positive integer, got {n!r}")
    _interop[0] = n


def get_num_interop_threads() -> int:
    """The inter-op thread count last set by :func:`set_num_interop_threads` (1 by default; ember runs ops one
    after another) (``torch.get_num_interop_threads``)."""
    return _interop[0]


_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80, sci_mode=None),
             "full": dict(precision=4, threshold=2 ** 63 - 1, edgeitems=3, linewidth=80, sci_mode=None)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """As ``torch.set_printoptions``: digits after the point, element count before summarising, items
    kept at each edge when summarising, line width, a named profile ("default", "short", "full"), and
    ``sci_mode`` (True/False force, None automatic). Applies to ``repr``/``str`` of every tensor."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}; expected one of {sorted(_PROFILES)}")
        PRINT_OPTIONS.update(_PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                       ("linewidth", linewidth)):
        if value is not None:
            PRINT_OPTIONS[key] = value
    PRINT_OPTIONS["sci_mode"] = sci_mode


def set_default_device(device) -> None:
    """Make ``device`` where factories (``zeros``, ``tensor``, ``randn``...) put tensors when no ``device=``
    is given (``torch.set_default_device``); ``None`` restores the CPU."""
    _default_device.device = None if device is None else _canonical_device(device)


def get_default_device():
    """The device factories use when none is given: the CPU unless :func:`set_default_device` changed it
    (``torch.get_default_device``)."""
    return _canonical_device(None)


_deterministic = [False, False]
_matmul_precision = ["highest"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Recorded for ``are_deterministic_algorithms_enabled``: every ember kernel is already deterministic on the
    CPU (numpy), so there is nothing to switch (``torch.use_deterministic_algorithms``)."""
    _deterministic[:] = [bool(mode), bool(warn_only)]


def are_deterministic_algorithms_enabled() -> bool:
    """Whether :func:`use_deterministic_algorithms` turned the mode on
    (``torch.are_deterministic_algorithms_enabled``)."""
    return _deterministic[0]


def set_float32_matmul_precision(precision: str) -> None:
    """Recorded only: ember's float32 matmul is always full float32 ("highest"); there is no TF32 path
    (``torch.set_float32_matmul_precision``). RuntimeError for a precision other than 'highest', 'high' or
    'medium'."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"set_float32_matmul_precision: invalid precision {precision!r}; "
                           f"expected 'highest', 'high' or 'medium'")
    _matmul_precision[0] = precision


def get_float32_matmul_precision() -> str:
    """The precision last set by :func:`set_float32_matmul_precision`, "highest" by default
    (``torch.get_float32_matmul_precision``)."""
    return _matmul_precision[0]
