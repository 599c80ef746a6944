"""The compiled loops of the transformer-block kernels (:mod:`ember_fast.gelu`, :mod:`ember_fast.layer_norm`,
:mod:`ember_fast.softmax`): tanh-GELU and its derivative, layer_norm forward and backward per row, softmax over
long rows and softmax's backward, each a numba ``prange`` loop that threads as :mod:`ember_fast.parallel` sets,
on the OpenMP pool :mod:`ember_fast.openmp` shares with MKL.

Defined at module level, not inside a function, so that numba's on-disk cache finds them again in the next
process (loops that close over other compiled functions get a new cache key in every process and are compiled
anew each time). Imports numba: the kernel modules import this one at their first call.
"""

from __future__ import annotations

import math

import numpy as np

from .openmp import numba_for_loops
from .vector_math import FASTMATH, exp_nonpositive

numba = numba_for_loops()  # on the OpenMP layer that MKL's GEMM shares

_ONE = np.float32(1.0)
_GELU_A = np.float32(0.044715)
_GELU_3A = np.float32(3 * 0.044715)
_GELU_2C = np.float32(2 * math.sqrt(2 / math.pi))
_INT_MIN = np.int32(-2147483648)
_LOW_31_BITS = np.int32(0x7FFFFFFF)


# tanh-GELU: 0.5 x (1 + tanh(u)) = x sigmoid(2u), u = c (x + a x^3), computed as the sigmoid (no cancellation in
# 1 + tanh(u) for negative x); its derivative s + 2 c x (1 + 3 a x^2) s (1 - s), s = sigmoid(2u).

@numba.njit(parallel=True, fastmath=FASTMATH, cache=True)
def gelu_tanh(x, out):
    for i in numba.prange(x.size):
        v = x[i]
        u2 = _GELU_2C * v * (_ONE + _GELU_A * v * v)
        e = exp_nonpositive(-abs(u2))  # sigmoid(u2) = 1 / (1 + e) for u2 >= 0, e / (1 + e) below
        out[i] = v * ((_ONE if u2 >= 0 else e) / (_ONE + e))


@numba.njit(parallel=True, fastmath=FASTMATH, cache=True)
def gelu_tanh_backward(g, x, out):
    for i in numba.prange(x.size):
        v = x[i]
        v2 = v * v
        u2 = _GELU_2C * v * (_ONE + _GELU_A * v2)
        e = exp_nonpositive(-abs(u2))
        inv = _ONE / (_ONE + e)
        s = (_ONE if u2 >= 0 else e) * inv      # sigmoid(u2)
        rest = (e if u2 >= 0 else _ONE) * inv   # 1 - sigmoid(u2), without cancellation
        out[i] = g[i] * (s + _GELU_2C * v * (_ONE + _GELU_3A * v2) * s * rest)


# layer_norm over rows: the mean and the biased variance in two passes over the row, in float32 (as PyTorch's
# CPU kernel); weight and bias are always arrays (ones and zeros stand for None), so the loops have no branches.

@numba.njit(inline="always", fastmath=FASTMATH)
def _row_stats(x, r, eps):
    n = x.shape[1]
    total = np.float32(0)
    for j in range(n):
        total += x[r, j]
    mean = total / n
    square = np.float32(0)
    for j in range(n):
        d = x[r, j] - mean
        square += d * d
    return mean, np.float32(1) / np.sqrt(square / n + eps)


@numba.njit(parallel=True, fastmath=FASTMATH, cache=True)
def layer_norm_rows(x, weight, bias, eps, out):
    rows, n = x.shape
    for r in numba.prange(rows):
        mean, rstd = _row_stats(x, r, eps)
        for j in range(n):
            out[r, j] = (x[r, j] - mean) * rstd * weight[j] + bias[j]


@numba.njit(parallel=True, fastmath=FASTMATH, cache=True)
def layer_norm_backward_rows(g, x, weight, eps, grad_x, partial_w, partial_b, need_x):
    """grad_x = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = g weight, per row; the weight and
    bias gradients' sums over each chunk of rows into ``partial_w``/``partial_b`` (one row per chunk, zeroed by
    the caller)."""
    rows, n = x.shape
    chunks = partial_w.shape[0]
    per_chunk = (rows + chunks - 1) // chunks
    for c in numba.prange(chunks):
        for r in range(c * per_chunk, min(rows, (c + 1) * per_chunk)):
            mean, rstd = _row_stats(x, r, eps)
            mean_dxhat = np.float32(0)
            mean_dxhat_xhat = np.float32(0)
            for j in range(n):
                xhat = (x[r, j] - mean) * rstd
                partial_w[c, j] += g[r, j] * xhat
                partial_b[c, j] += g[r, j]
                dxhat = g[r, j] * weight[j]
                mean_dxhat += dxhat
                mean_dxhat_xhat += dxhat * xhat
            if not need_x:
                continue
            mean_dxhat /= n
            mean_dxhat_xhat /= n
            for j in range(n):
                xhat = (x[r, j] - mean) * rstd
                grad_x[r, j] = rstd * (g[r, j] * weight[j] - mean_dxhat - xhat * mean_dxhat_xhat)


# softmax over long float32 rows, and softmax's backward over rows of any float dtype.

@numba.njit(parallel=True, fastmath=FASTMATH, cache=True)
def softmax_long_rows(x, bits, out):
    """``bits`` is ``x`` viewed as int32. Returns False where a row's maximum is not finite or a value is NaN
    (the caller redoes the op on numpy, whose NaN semantics are the reference)."""
    rows, n = x.shape
    finite = np.ones(rows, np.bool_)
    for r in numba.prange(rows):
        # the maximum over order-preserving integer keys of the floats' bits: an integer max vectorises, a float
        # one with NaN semantics does not (a NaN gives some key; the NaN check below sends the row to numpy)
        key = _INT_MIN
        for j in range(n):
            b = bits[r, j]
            key = max(key, b ^ ((b >> 31) & _LOW_31_BITS))
        key = key ^ ((key >> 31) & _LOW_31_BITS)
        top = np.int32(key).view(np.float32)
        total = np.float32(0)
        nan_check = np.float32(0)
        for j in range(n):
            shifted = x[r, j] - top
            nan_check += shifted
            e = exp_nonpositive(shifted)
            out[r, j] = e
            total += e
        finite[r] = np.isfinite(top) and nan_check == nan_check
        scale = np.float32(1) / total
        for j in range(n):
            out[r, j] *= scale
    return finite.all()


@numba.njit(parallel=True, fastmath=FASTMATH, cache=True)
def softmax_backward_rows(g, out, grad):
    rows, n = out.shape
    for r in numba.prange(rows):
        total = g.dtype.type(0)
        for j in range(n):
            total += g[r, j] * out[r, j]
        for j in range(n):
            grad[r, j] = out[r, j] * (g[r, j] - total)
