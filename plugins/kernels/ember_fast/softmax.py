"""softmax and log_softmax over the last dim as compiled loops per row, and softmax's backward.

Short rows (class scores): numpy spends ~15 us of fixed cost on a (64, 10) softmax (max, subtract, exp, sum,
divide: five calls and their temporaries); one loop per row takes 0.18-0.28x that on the logits of the bench's
classifiers (64 or 512 rows of 10).

Long rows (attention's 128): a loop calling libm's scalar ``exp`` lost to numpy's vectorised one (1.2x), so
float32 softmax rows longer than :data:`SHORT_ROW` run :func:`ember_fast.vector_math`'s vectorisable exp
instead, rows split over the threads the thread policy gives (:mod:`ember_fast.parallel`); float64 and
log_softmax stay on numpy there. A row with NaN or +-inf in its maximum goes to numpy, whose NaN semantics
are the reference (``-inf`` entries below a finite maximum give exactly 0 in both).

The backward, ``out * (grad - sum(grad * out))`` per row (ATen's ``_softmax_backward_data``), is one threaded
loop for C-contiguous float32/float64 operands over the last dim, where numpy makes four passes.
Other dims and layouts stay on numpy.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import parallel

__all__ = ["softmax_kernel", "log_softmax_kernel", "softmax_backward_kernel", "SHORT_ROW"]

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


def _last_dim_rows(xp, x, dim):
    """x as C-contiguous (rows, n) when softmax runs over its last dim, else None."""
    if (xp is not np or not isinstance(x, np.ndarray) or dim is None or x.ndim == 0 or dim not in (-1, x.ndim - 1)
            or not x.size or x.dtype.char not in "fd" or not x.flags.c_contiguous):
        return None
    return x.reshape(-1, x.shape[-1])


def _loops_or_none(op):
    try:
        return _loops or _compile()
    except ImportError as exc:  # numba installed but unusable (e.g. built for another numpy)
        warnings.warn(f"ember_fast: numba cannot be imported ({exc}); {op} runs on numpy", RuntimeWarning,
                      stacklevel=3)
        return None


def _kernel(reference, which):
    def kernel(xp, x, dim):
        rows = _last_dim_rows(xp, x, dim)
        if rows is None:
            return reference(xp, x, dim)
        if rows.shape[1] > SHORT_ROW:
            loops = not which and rows.dtype == np.float32 and parallel.block_loops()
            if loops:
                out = np.empty_like(rows)
                ran, finite = parallel.run(loops.softmax_long_rows, rows.size, rows, rows.view(np.int32), out)
                if ran and finite:
                    return out.reshape(x.shape)
            return reference(xp, x, dim)
        if np.isinf(rows).any():  # -inf rows: numpy's NaN/0 semantics, kept
            return reference(xp, x, dim)
        loops = _loops_or_none("softmax")
        if not loops:
            return reference(xp, x, dim)
        out = np.empty_like(rows)
        loops[which](rows, out)
        return out.reshape(x.shape)
    kernel.__name__ = kernel.__qualname__ = f"row_{reference.__qualname__.split('.')[0].lower()}"
    kernel.__doc__ = f"{reference.__qualname__} with one compiled loop per row over the last dim."
    return kernel


def softmax_kernel(reference):
    """The CPU kernel for the Softmax primitive, falling back to ``reference``."""
    return _kernel(reference, 0)


def log_softmax_kernel(reference):
    """The CPU kernel for the LogSoftmax primitive, falling back to ``reference``."""
    return _kernel(reference, 1)


def softmax_backward_kernel(reference):
    """The CPU kernel for the SoftmaxBackwardData primitive, falling back to ``reference``."""
    def fused_softmax_backward(xp, g, out, dim):
        rows = _last_dim_rows(xp, out, dim)
        grads = rows is not None and _last_dim_rows(xp, g, dim)
        if grads is None or grads is False or grads.shape != rows.shape or grads.dtype != rows.dtype:
            return reference(xp, g, out, dim)
        loops = parallel.block_loops()
        if loops:
            grad = np.empty_like(rows)
            ran, _ = parallel.run(loops.softmax_backward_rows, rows.size, grads, rows, grad)
            if ran:
                return grad.reshape(out.shape)
        return reference(xp, g, out, dim)
    fused_softmax_backward.__doc__ = f"{reference.__qualname__} as one threaded loop over rows."
    return fused_softmax_backward
