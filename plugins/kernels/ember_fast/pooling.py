"""2-D max pooling over windows that tile the input (every 2x2/stride-2 pool) as one compiled pass.

The numpy path (``ember_ops.pooling.MaxPoolTiled``) takes a running maximum over the kernel's strided
slices, then finds each maximum's offset with a second set of passes (comparisons, masks, sums): about
ten passes over the input. The loop here reads each input element once and writes the maximum and its
offset together; the gradient (``TileScatter``) writes every input-sized element once, the routed value or
zero. Same results as the numpy path, bit for bit: the first offset holding the maximum, NaN propagating
with the last NaN's offset (PyTorch's scan). The planes (batch x channels) are split over the thread
policy's threads (numba's OpenMP loops, :mod:`ember_fast.openmp`; one thread under its grain size).
float32/float64 on numpy only; anything else (other dtypes, 1-D/3-D pools, other backends, a forked child)
runs the reference.
"""

from __future__ import annotations

import numpy as np

from . import openmp

__all__ = ["max_pool2d_tiled_kernel", "tile_scatter_kernel"]

_loops = None


def _compile():
    global _loops
    numba = openmp.numba_for_loops()
    prange = numba.prange
    options = dict(parallel=True, cache=True, nogil=True)

    @numba.njit(**options)
    def max_pool_tiles(x, kh, kw, best, which):
        # x (P, H, W) C-contiguous planes; best/which (P, OH, OW). `v > top or v != v` keeps the first
        # maximum and lets a NaN always take over (the last NaN wins), as PyTorch's scan; written as
        # selects, not branches, which mispredict on data in random order.
        for p in prange(best.shape[0]):
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

    @numba.njit(**options)
    def scatter_tiles(g, which, row_of, col_of, dx):
        # each plane of dx (P, H, W) zeroed, then each window's gradient written at its offset (row_of/col_of:
        # the offset's place in its window, a table instead of a division by the kernel width)
        kh, kw = row_of[-1] + 1, col_of[-1] + 1
        for p in prange(g.shape[0]):
            dx[p] = 0
            for i in range(g.shape[1]):
                for j in range(g.shape[2]):
                    at = which[p, i, j]
                    dx[p, i * kh + row_of[at], j * kw + col_of[at]] = g[p, i, j]

    _loops = max_pool_tiles, scatter_tiles
    return _loops


def _run(which, size, *args):
    """Run loop ``which`` (0: forward, 1: scatter) on the thread policy's threads over ``size`` elements;
    False when the loops cannot run in this process (the caller then takes the numpy path)."""
    if not openmp.usable():
        return False
    try:
        loop = (_loops or _compile())[which]
    except ImportError as exc:  # numba installed but unusable
        openmp.disable(exc)
        return False
    return openmp.run(loop, size, *args)[0]


def _takes(xp, x, kernel):
    return xp is np and len(kernel) == 2 and x.ndim == 4 and x.dtype.char in "fd" and x.size > 0


def max_pool2d_tiled_kernel(reference):
    """The CPU kernel for ``MaxPool2dTiled`` (window maxima and their uint8 offsets), falling back to
    ``reference``."""
    def kernel(xp, x, kernel):
        if not _takes(xp, x, kernel):
            return reference(xp, x, kernel)
        b, c, h, w = x.shape
        kh, kw = kernel
        best = np.empty((b * c, h // kh, w // kw), dtype=x.dtype)
        which = np.empty(best.shape, dtype=np.uint8)
        if not _run(0, x.size, np.ascontiguousarray(x).reshape(b * c, h, w), kh, kw, best, which):
            return reference(xp, x, kernel)
        return best.reshape(b, c, h // kh, w // kw), which.reshape(b, c, h // kh, w // kw)
    kernel.__name__ = kernel.__qualname__ = "compiled_max_pool2d_tiled"
    kernel.__doc__ = "MaxPool2dTiled's forward as one compiled pass over the input."
    return kernel


def tile_scatter_kernel(reference):
    """The CPU kernel for ``TileScatter`` (max pooling's gradient) over 2-D windows, falling back to
    ``reference``."""
    def kernel(xp, g, which, size, kernel):
        if not (_takes(xp, g, kernel) and which.dtype == np.uint8):
            return reference(xp, g, which, size, kernel)
        b, c, oh, ow = g.shape
        dx = np.empty((b * c,) + tuple(size), dtype=g.dtype)
        row_of, col_of = (offset.ravel() for offset in np.indices(kernel, dtype=np.intp))
        if not _run(1, dx.size, np.ascontiguousarray(g).reshape(b * c, oh, ow),
                    np.ascontiguousarray(which).reshape(b * c, oh, ow), row_of, col_of, dx):
            return reference(xp, g, which, size, kernel)
        return dx.reshape((b, c) + tuple(size))
    kernel.__name__ = kernel.__qualname__ = "compiled_tile_scatter"
    kernel.__doc__ = "TileScatter's forward (max pooling's gradient) as one compiled pass over the input's size."
    return kernel
