"""layer_norm forward and backward as one multi-threaded loop over rows each.

numpy's path takes about six passes over the input forward (mean, centre, square, mean, scale, shift) and a
dozen backward, where it also recomputes the statistics, on one thread with temporaries; PyTorch runs one
fused loop per row on every core. These loops do the same: per row, the mean and the biased variance (two
passes over the row, in float32 as PyTorch's CPU kernel) and then the output or the gradients, rows split over
the threads the thread policy gives (:mod:`ember_fast.parallel`). The weight and bias gradients are summed
over rows per thread (row after row in float32, as numpy's reference sums them), then added up. The loops
live in :mod:`ember_fast.block_loops`. They take float32 inputs that are C-contiguous with weight and bias of
the normalized shape (or None); everything else stays on numpy.
"""

from __future__ import annotations

import numpy as np

from . import openmp, parallel

__all__ = ["layer_norm_kernel", "layer_norm_backward_kernel"]


def _param(p, size, absent):
    """A weight or bias the loop takes (contiguous float32 of the row size; ``absent`` filled in for None, so that
    the loops have no branches), or False."""
    if p is None:
        return np.full(size, absent, np.float32)
    if isinstance(p, np.ndarray) and p.dtype == np.float32 and p.size == size and p.flags.c_contiguous:
        return p.reshape(-1)
    return False


def _rows(xp, x, n):
    """x as C-contiguous float32 (rows, row size) when the loops take it, else None."""
    if (xp is not np or not isinstance(x, np.ndarray) or x.dtype != np.float32 or not x.flags.c_contiguous
            or not x.size or n > x.ndim):
        return None
    size = int(np.prod(x.shape[x.ndim - n:]))
    return x.reshape(-1, size)


def layer_norm_kernel(reference):
    """The CPU kernel for the LayerNorm primitive's forward, falling back to ``reference``."""
    def fused_layer_norm(xp, x, weight, bias, n, eps):
        rows = _rows(xp, x, n)
        w = rows is not None and _param(weight, rows.shape[1], 1)
        b = w is not False and _param(bias, rows.shape[1], 0)
        loops = b is not False and parallel.block_loops()
        if loops:
            out = np.empty_like(rows)
            ran, _ = parallel.run(loops.layer_norm_rows, rows.size, rows, w, b, np.float32(eps), out)
            if ran:
                return out.reshape(x.shape)
        return reference(xp, x, weight, bias, n, eps)
    fused_layer_norm.__doc__ = f"{reference.__qualname__} as one threaded loop over float32 rows."
    return fused_layer_norm


def layer_norm_backward_kernel(reference):
    """The CPU kernel for the LayerNormBackward primitive, falling back to ``reference``."""
    def fused_layer_norm_backward(xp, g, x, weight, n, eps, need):
        rows = _rows(xp, x, n)
        grads = rows is not None and _rows(xp, g, n)
        w = grads is not None and grads is not False and grads.shape == rows.shape and _param(weight, rows.shape[1], 1)
        loops = w is not False and parallel.block_loops()
        if not loops:
            return reference(xp, g, x, weight, n, eps, need)
        need_x, need_w, need_b = need
        chunks = openmp.threads_for(rows.size)  # one chunk of rows, and one row of weight/bias sums, per thread
        grad_x = np.empty_like(rows) if need_x else np.empty((0, 0), np.float32)
        partial_w = np.zeros((chunks, rows.shape[1]), np.float32)
        partial_b = np.zeros((chunks, rows.shape[1]), np.float32)
        ran, _ = parallel.run(loops.layer_norm_backward_rows, rows.size, grads, rows, w, np.float32(eps), grad_x,
                              partial_w, partial_b, bool(need_x))
        if not ran:
            return reference(xp, g, x, weight, n, eps, need)
        shape = x.shape[x.ndim - n:]
        return (grad_x.reshape(x.shape) if need_x else None,
                partial_w.sum(axis=0).reshape(shape) if need_w else None,
                partial_b.sum(axis=0).reshape(shape) if need_b else None)
    fused_layer_norm_backward.__doc__ = f"{reference.__qualname__} as one threaded loop over float32 rows."
    return fused_layer_norm_backward
