"""2-D max pooling over windows that tile the input (every 2x2/stride-2 pool) as one compiled pass.

The numpy path (``ember_ops.pooling.MaxPoolTiled``) takes a running maximum over the kernel's strided
slices, then finds each maximum's offset with a second set of passes (comparisons, masks, sums): about
ten passes over the input. The loop here reads each input element once and writes the maximum and its
offset together; the gradient (``TileScatter``) writes every input-sized element once, the routed value or
zero. Same results as the numpy path, bit for bit: the first offset holding the maximum, NaN propagating
with the last NaN's offset (PyTorch's scan). float32/float64 on numpy only; anything else (other
dtypes, 1-D/3-D pools, other backends) runs the reference.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["max_pool2d_tiled_kernel", "tile_scatter_kernel"]

_loops = None


def _compile():
    global _loops
    from .jit import import_numba
    numba = import_numba()

    @numba.njit(cache=True, nogil=True)
    def max_pool_tiles(x, kh, kw, best, which):
        # x (P, H, W) C-contiguous planes; best/which (P, OH, OW). `v > top or v != v` keeps the first
        # maximum and lets a NaN always take over (the last NaN wins), as PyTorch's scan; written as
        # selects, not branches, which mispredict on data in random order.
        for p in range(best.shape[0]):
            for i in range(best.shape[1]):
                if kh == 2 and kw == 2:  # the common pool, unrolled: two input rows per output row
                    r0, r1 = x[p, 2 * i], x[p, 2 * i + 1]
                    for j in range(best.shape[2]):
                        top, at = r0[2 * j], 0
                        v = r0[2 * j + 1]
                        take = v > top or v != v
                        top, at = (v, 1) if take else (top, at)
                        v = r1[2 * j]
                        take = v > top or v != v
                        top, at = (v, 2) if take else (top, at)
                        v = r1[2 * j + 1]
                        take = v > top or v != v
                        top, at = (v, 3) if take else (top, at)
                        best[p, i, j] = top
                        which[p, i, j] = at
                    continue
                for j in range(best.shape[2]):
                    top = x[p, i * kh, j * kw]
                    at = 0
                    for a in range(kh):
                        for b in range(kw):
                            v = x[p, i * kh + a, j * kw + b]
                            take = v > top or v != v
                            top, at = (v, a * kw + b) if take else (top, at)
                    best[p, i, j] = top
                    which[p, i, j] = at

    @numba.njit(cache=True, nogil=True)
    def scatter_tiles(g, which, row_of, col_of, dx):
        # dx (P, H, W) zeroed, then each window's gradient written at its offset (row_of/col_of: the offset's
        # place in its window, a table instead of a division by the kernel width)
        dx[:] = 0
        kh, kw = row_of[-1] + 1, col_of[-1] + 1
        for p in range(g.shape[0]):
            for i in range(g.shape[1]):
                for j in range(g.shape[2]):
                    at = which[p, i, j]
                    dx[p, i * kh + row_of[at], j * kw + col_of[at]] = g[p, i, j]

    _loops = max_pool_tiles, scatter_tiles
    return _loops


def _loops_or_none():
    try:
        return _loops or _compile()
    except ImportError as exc:  # numba installed but unusable (e.g. built for another numpy)
        warnings.warn(f"ember_fast: numba cannot be imported ({exc}); max pooling runs on numpy", RuntimeWarning,
                      stacklevel=3)
        return None


def _takes(xp, x, kernel):
    return xp is np and len(kernel) == 2 and x.ndim == 4 and x.dtype.char in "fd" and x.size > 0


def max_pool2d_tiled_kernel(reference):
    """The CPU kernel for ``MaxPool2dTiled`` (window maxima and their uint8 offsets), falling back to
    ``reference``."""
    def kernel(xp, x, kernel):
        loops = _loops_or_none() if _takes(xp, x, kernel) else None
        if loops is None:
            return reference(xp, x, kernel)
        b, c, h, w = x.shape
        kh, kw = kernel
        planes = np.ascontiguousarray(x).reshape(b * c, h, w)
        best = np.empty((b * c, h // kh, w // kw), dtype=x.dtype)
        which = np.empty(best.shape, dtype=np.uint8)
        loops[0](planes, kh, kw, best, which)
        return best.reshape(b, c, h // kh, w // kw), which.reshape(best.shape[0] // c, c, h // kh, w // kw)
    kernel.__name__ = kernel.__qualname__ = "compiled_max_pool2d_tiled"
    kernel.__doc__ = "MaxPool2dTiled's forward as one compiled pass over the input."
    return kernel


def tile_scatter_kernel(reference):
    """The CPU kernel for ``TileScatter`` (max pooling's gradient) over 2-D windows, falling back to
    ``reference``."""
    def kernel(xp, g, which, size, kernel):
        loops = _loops_or_none() if _takes(xp, g, kernel) and which.dtype == np.uint8 else None
        if loops is None:
            return reference(xp, g, which, size, kernel)
        b, c, oh, ow = g.shape
        dx = np.empty((b * c,) + tuple(size), dtype=g.dtype)
        row_of, col_of = (offset.ravel() for offset in np.indices(kernel, dtype=np.intp))
        loops[1](np.ascontiguousarray(g).reshape(b * c, oh, ow), np.ascontiguousarray(which).reshape(b * c, oh, ow),
                 row_of, col_of, dx)
        return dx.reshape((b, c) + tuple(size))
    kernel.__name__ = kernel.__qualname__ = "compiled_tile_scatter"
    kernel.__doc__ = "TileScatter's forward (max pooling's gradient) as one compiled pass over the input's size."
    return kernel
