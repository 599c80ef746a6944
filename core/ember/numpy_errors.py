"""numpy's floating-point warnings, silenced in ember's kernels.

numpy warns ("invalid value encountered in log", "divide by zero") where PyTorch computes the same NaN
and inf silently. This sits at the bottom of the core so that every layer that computes on arrays (the
engine's own gradient sums, primitives' kernels) can run quietly.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["EMBER_MODULES", "run_quiet", "silence_numpy_warnings"]

# numpy warns ("invalid value encountered in log", "divide by zero") where PyTorch computes the same NaN and
# inf silently. Elementwise kernels run in ember's modules, where a warnings filter drops those warnings at
# no cost per op; should the user make warnings errors ahead of that filter, the kernel runs again with
# numpy's error state off. Other kernels (reductions warn from numpy's own frames) always run with it off:
# numpy's error state is a context variable, set directly (cheaper than ``np.errstate``).
try:
    from numpy._core._ufunc_config import _extobj_contextvar as _NUMPY_ERRORS
    with np.errstate(all="ignore"):
        _QUIET = _NUMPY_ERRORS.get()
except (ImportError, AttributeError):  # another numpy layout: fall back to the filter below alone
    _NUMPY_ERRORS = _QUIET = None
_quiet_set = _NUMPY_ERRORS.set if _NUMPY_ERRORS is not None else (lambda value: None)
_quiet_reset = _NUMPY_ERRORS.reset if _NUMPY_ERRORS is not None else (lambda token: None)

# Modules whose numpy calls are ember's kernels: the core and every plugin package named ember_*.
EMBER_MODULES = r"(ember|ember_\w+)(\.|$)"


def run_quiet(forward, *args, **attrs):
    """``forward(*args, **attrs)`` with numpy's floating-point warnings off."""
    token = _quiet_set(_QUIET)
    try:
        return forward(*args, **attrs)
    finally:
        _quiet_reset(token)


def silence_numpy_warnings() -> None:
    """Drop the RuntimeWarnings numpy raises in ember's kernels and checks: one warnings filter on ember's
    modules, which leaves the user's own numpy code alone."""
    warnings.filterwarnings("ignore", category=RuntimeWarning, module=EMBER_MODULES)


silence_numpy_warnings()
