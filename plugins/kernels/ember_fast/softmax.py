"""softmax and log_softmax over short rows (class scores) as one compiled loop per row.

numpy spends ~15 us of fixed cost on a (64, 10) softmax (max, subtract, exp, sum, divide: five calls and
their temporaries); the loop takes 0.18-0.28x that on the logits of the bench's classifiers (64 or 512
rows of 10). On long rows (attention's 128) numpy's vectorised ``exp`` wins (the loop took 1.2x), so rows
longer than :data:`SHORT_ROW` stay on numpy, as do other dims, dtypes and layouts.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["softmax_kernel", "log_softmax_kernel", "SHORT_ROW"]

SHORT_ROW = 32
_loops = None


def _compile():
    global _loops
    from .jit import import_numba
    numba = import_numba()

    @numba.njit(cache=True, nogil=True)
    def softmax_rows(x, out):
        for r in range(x.shape[0]):
            top = x[r, 0]
            for j in range(1, x.shape[1]):
                top = max(top, x[r, j])
            total = x.dtype.type(0)
            for j in range(x.shape[1]):
                e = np.exp(x[r, j] - top)
                out[r, j] = e
                total += e
            for j in range(x.shape[1]):
                out[r, j] /= total

    @numba.njit(cache=True, nogil=True)
    def log_softmax_rows(x, out):
        for r in range(x.shape[0]):
            top = x[r, 0]
            for j in range(1, x.shape[1]):
                top = max(top, x[r, j])
            total = x.dtype.type(0)
            for j in range(x.shape[1]):
                total += np.exp(x[r, j] - top)
            log_total = np.log(total)
            for j in range(x.shape[1]):
                out[r, j] = (x[r, j] - top) - log_total

    _loops = softmax_rows, log_softmax_rows
    return _loops


def _short_rows(xp, x, dim):
    """x as C-contiguous (rows, n) when the loop takes it, else None."""
    if (xp is not np or dim is None or x.ndim == 0 or dim not in (-1, x.ndim - 1) or not x.size
            or x.shape[-1] > SHORT_ROW or x.dtype.char not in "fd" or not x.flags.c_contiguous):
        return None
    return x.reshape(-1, x.shape[-1])


def _kernel(reference, which):
    def kernel(xp, x, dim):
        rows = _short_rows(xp, x, dim)
        if rows is None or np.isinf(rows).any():  # -inf rows: numpy's NaN/0 semantics, kept
            return reference(xp, x, dim)
        try:
            loop = (_loops or _compile())[which]
        except ImportError as exc:  # numba installed but unusable (e.g. built for another numpy)
            warnings.warn(f"ember_fast: numba cannot be imported ({exc}); softmax runs on numpy", RuntimeWarning,
                          stacklevel=2)
            return reference(xp, x, dim)
        out = np.empty_like(rows)
        loop(rows, out)
        return out.reshape(x.shape)
    kernel.__name__ = kernel.__qualname__ = f"short_row_{reference.__qualname__.split('.')[0].lower()}"
    kernel.__doc__ = f"{reference.__qualname__} with one compiled loop per row when rows are short."
    return kernel


def softmax_kernel(reference):
    """The CPU kernel for the Softmax primitive, falling back to ``reference``."""
    return _kernel(reference, 0)


def log_softmax_kernel(reference):
    """The CPU kernel for the LogSoftmax primitive, falling back to ``reference``."""
    return _kernel(reference, 1)
