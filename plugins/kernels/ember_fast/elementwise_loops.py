"""The compiled loops of :mod:`ember_fast.elementwise`, at module level so that numba's disk cache finds them
in the next process (a loop defined inside a function and calling another compiled function got a new cache
key in every process, and was compiled anew: ~1.5 s a loop). Imported at the first large op, not at
``import ember``: importing this module imports numba.
"""

from __future__ import annotations

from .elementwise import ADD, DIV, MUL, SUB  # noqa: F401 (DIV: the remaining case of arith)
from .openmp import numba_for_loops

numba = numba_for_loops()

COLUMN_BLOCK = 128  # columns a thread sums at once: a block of running sums that stays in registers and L1
_OPTIONS = dict(parallel=True, cache=True, error_model="numpy")  # x / 0 is inf or nan, as in numpy


@numba.njit(inline="always")
def arith(op, x, y):
    """``x op y`` for an op code of :data:`ember_fast.elementwise.ARITHMETIC` (inlined into each loop)."""
    if op == ADD:
        return x + y
    if op == SUB:
        return x - y
    if op == MUL:
        return x * y
    return x / y


@numba.njit(**_OPTIONS)
def same_shape(op, a, b, out):
    for i in numba.prange(a.size):
        out[i] = arith(op, a[i], b[i])


@numba.njit(**_OPTIONS)
def with_scalar(op, a, s, reverse, out):
    if reverse:
        for i in numba.prange(a.size):
            out[i] = arith(op, s, a[i])
    else:
        for i in numba.prange(a.size):
            out[i] = arith(op, a[i], s)


@numba.njit(**_OPTIONS)
def with_row(op, a, row, reverse, out):
    """a (rows, n) op row (n,)."""
    for r in numba.prange(a.shape[0]):
        if reverse:
            for j in range(a.shape[1]):
                out[r, j] = arith(op, row[j], a[r, j])
        else:
            for j in range(a.shape[1]):
                out[r, j] = arith(op, a[r, j], row[j])


@numba.njit(**_OPTIONS)
def with_channels(op, a, channels, reverse, out):
    """a (outer, c, inner) op channels (c,), one value per channel."""
    c = a.shape[1]
    for block in numba.prange(a.shape[0] * c):
        o, k = block // c, block % c
        v = channels[k]
        if reverse:
            for j in range(a.shape[2]):
                out[o, k, j] = arith(op, v, a[o, k, j])
        else:
            for j in range(a.shape[2]):
                out[o, k, j] = arith(op, a[o, k, j], v)


@numba.njit(**_OPTIONS)
def relu(x, zero, out):
    for i in numba.prange(x.size):
        v = x[i]
        out[i] = v if v > zero or v != v else zero  # numpy's maximum(x, 0): NaN kept, -0.0 -> 0.0


@numba.njit(**_OPTIONS)
def relu_backward(g, out, zero, grad):
    for i in numba.prange(g.size):
        grad[i] = g[i] if out[i] > zero else g[i] * zero  # g * (out > 0): inf * 0 is nan, as there


@numba.njit(**_OPTIONS)
def column_sums(x, out):
    """out (n,) = x (rows, n) summed over rows, row after row as numpy adds them, in column blocks."""
    rows, n = x.shape
    for block in numba.prange((n + COLUMN_BLOCK - 1) // COLUMN_BLOCK):
        lo = block * COLUMN_BLOCK
        hi = min(n, lo + COLUMN_BLOCK)
        total = x[0, lo:hi].copy()
        for r in range(1, rows):
            row = x[r, lo:hi]
            for j in range(hi - lo):
                total[j] += row[j]
        out[lo:hi] = total


LOOPS = dict(same_shape=same_shape, with_scalar=with_scalar, with_row=with_row, with_channels=with_channels,
             relu=relu, relu_backward=relu_backward, column_sums=column_sums)
