"""float32 ``exp`` for numba loops that the compiler can vectorise.

numba calls libm's scalar ``expf``/``tanhf`` (no SVML here): a tanh-GELU over 1M floats took 18 ms of CPU in
numba against 0.8 ms for numpy's SIMD tanh. :func:`exp_nonpositive` is written with multiply, add and selects
only, so LLVM turns a loop over it into AVX-512 code. It is exp of ``r <= 0`` (softmax's shifted logits, and
``sigmoid``/``tanh`` through ``exp(-|u|)``): Cody-Waite reduction by ln 2, Cephes' degree-7 polynomial, and
2^n applied as two exact powers of two built from their bits (a table lookup would be a gather, which stopped
vectorisation). Measured max error 1.4 ulp, denormal results included; exactly 0 below -103.97 (where
float32 underflows), for ``-inf`` and for NaN (callers that must propagate NaN check for it).

float32-accurate only: the kernels that use it take float32 arrays and leave float64 to numpy. Imports numba:
import this module only from compiled loops' modules, which are imported at a kernel's first call.
"""

from __future__ import annotations

import numpy as np

from .jit import import_numba

numba = import_numba()

__all__ = ["FASTMATH", "exp_nonpositive"]

# Reassociation (vectorised sums), contraction (FMA) and reciprocal approximations; not 'nnan'/'ninf', so NaN
# and inf still propagate as in numpy.
FASTMATH = {"reassoc", "contract", "arcp", "nsz"}

_f = np.float32
_LOG2E, _LN2_HI, _LN2_LO = _f(1.4426950408889634), _f(0.693145751953125), _f(1.428606765330187e-06)
_EXP_P = tuple(_f(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
                               1.6666665459e-1, 5.0000001201e-1))
_EXP_UNDERFLOW = _f(-103.97)  # below this exp(r) rounds to 0 in float32
_ONE, _HALF = _f(1.0), _f(0.5)


# Its own flags, no 'reassoc': the loops that call it are compiled with reassociation (for their sums), which
# could merge the two exact power-of-two scalings below into one 2^-150 = 0.
@numba.njit(fastmath={"contract"}, cache=True)
def exp_nonpositive(r):
    """exp(r) for float32 ``r <= 0``; 0 below -103.97, for -inf and for NaN."""
    clamped = max(r, _EXP_UNDERFLOW)
    n = np.floor(clamped * _LOG2E + _HALF)
    f = clamped - n * _LN2_HI
    f = f - n * _LN2_LO
    p = _EXP_P[0]
    p = p * f + _EXP_P[1]
    p = p * f + _EXP_P[2]
    p = p * f + _EXP_P[3]
    p = p * f + _EXP_P[4]
    p = p * f + _EXP_P[5]
    p = p * f * f + f + _ONE
    # times 2^n, n in [-150, 0], as two exact powers of two made from their float bits (each >= 2^-75, a normal
    # float; a table lookup would be a gather, which stopped vectorisation)
    half_n = np.int32(n) >> 1
    rest_n = np.int32(n) - half_n
    p = p * np.int32((half_n + 127) << 23).view(np.float32)
    p = p * np.int32((rest_n + 127) << 23).view(np.float32)
    return p if r >= _EXP_UNDERFLOW else np.float32(0.0)
