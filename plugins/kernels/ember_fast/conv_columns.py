"""The adjoint of a 2-D conv's im2col (``ConvColumnsFold``: the input gradient's col2im) as one compiled pass.

The numpy path adds each kernel offset's block of the channel-major columns (C, kh, kw, B, OH, OW) into a
zeroed padded (C, B, H + pads, W + pads) buffer, then copies the crop back, transposed, to (B, C, H, W).
The loop here sums the columns straight into the unpadded (B, C, H, W) gradient: no padded buffer and no
transposing copy (0.6-0.8x the numpy path's time on the CNNs' second convs, one thread). Each element
receives its offsets' terms in the numpy path's order, so the sums agree bit for bit. The images are split
over the thread policy's threads (:mod:`ember_fast.openmp`). float32/float64 2-D convs on numpy only;
anything else runs the reference.

Measured, not registered: the forward im2col as a compiled loop (1.5-2x slower than the numpy path's
strided slice copies: the rows are short), and a whole conv image-chunk by image-chunk (im2col in cache,
MKL's GEMM called from the loop): 0.8-0.9x the numpy path on forward and input gradient but no gain over
the weight gradient that reuses saved columns, for ~10 s of compilation per process (numba cannot cache
a function calling a library loaded at run time).
"""

from __future__ import annotations

import numpy as np

from . import openmp

__all__ = ["conv_columns_fold_kernel"]

_loops = None


def _compile():
    global _loops
    numba = openmp.numba_for_loops()
    prange = numba.prange

    @numba.njit(cache=True, nogil=True, inline="always")
    def _span(o, d, s, pad, size, count):
        """The outputs j in [lo, hi) whose tap j * s + o * d - pad lands inside an input of ``size``."""
        shift = o * d - pad
        lo = 0 if shift >= 0 else (-shift + s - 1) // s
        hi = 0 if size - shift <= 0 else (size - shift - 1) // s + 1
        return min(lo, count), max(min(hi, count), min(lo, count))

    @numba.njit(parallel=True, cache=True, nogil=True)
    def col2im(cols, sh, sw, dh, dw, ph, pw, out):
        # cols (C, KH, KW, B, OH, OW) summed into out (B, C, H, W), both C-contiguous, one image per task;
        # each image zeroed here. Each output element receives its offsets' terms in row-major offset order,
        # as the numpy path adds them.
        batch, channels, height, width = out.shape
        kh, kw, oh, ow = cols.shape[1], cols.shape[2], cols.shape[4], cols.shape[5]
        src, dst = cols.ravel(), out.ravel()
        for n in prange(batch):
            dst[n * channels * height * width:(n + 1) * channels * height * width] = 0
            for c in range(channels):
                plane = (n * channels + c) * height * width
                for a in range(kh):
                    i_lo, i_hi = _span(a, dh, sh, ph, height, oh)
                    for b in range(kw):
                        j_lo, j_hi = _span(b, dw, sw, pw, width, ow)
                        shift = b * dw - pw
                        block = (((c * kh + a) * kw + b) * batch + n) * oh * ow
                        for i in range(i_lo, i_hi):
                            base = plane + (i * sh + a * dh - ph) * width + shift
                            row = block + i * ow
                            if sw == 1:
                                for j in range(j_lo, j_hi):
                                    dst[base + j] += src[row + j]
                            else:
                                for j in range(j_lo, j_hi):
                                    dst[base + j * sw] += src[row + j]

    _loops = col2im
    return _loops


def _run(size, *args):
    """Run the fold on the thread policy's threads; False when it cannot run in this process."""
    if not openmp.usable():
        return False
    try:
        loop = _loops or _compile()
    except ImportError as exc:  # numba installed but unusable
        openmp.disable(exc)
        return False
    return openmp.run(loop, size, *args)[0]


def _leading(padding):
    """(pad_top, pad_left) of 2-D ``padding`` pairs, else None: the far side's padding only decides the
    output size, which the loops read from the columns' shape."""
    return (padding[0][0], padding[1][0]) if len(padding) == 2 else None


def conv_columns_fold_kernel(reference):
    """The CPU kernel for ``ConvColumnsFold`` (the adjoint of im2col) of 2-D convs, falling back to
    ``reference``."""
    def kernel(xp, cols, size, stride, padding, dilation):
        pads = _leading(padding)
        if not (xp is np and pads is not None and cols.ndim == 6 and cols.dtype.char in "fd" and cols.size):
            return reference(xp, cols, size, stride, padding, dilation)
        out = np.empty((cols.shape[3], cols.shape[0]) + tuple(size), dtype=cols.dtype)
        if not _run(cols.size, np.ascontiguousarray(cols), *stride, *dilation, *pads, out):
            return reference(xp, cols, size, stride, padding, dilation)
        return out
    kernel.__name__ = kernel.__qualname__ = "compiled_conv_columns_fold"
    kernel.__doc__ = "ConvColumnsFold's forward (2-D col2im into (B, C, H, W)) as one compiled pass."
    return kernel
