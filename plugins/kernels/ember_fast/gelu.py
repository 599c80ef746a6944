"""tanh-GELU forward and backward as one multi-threaded, vectorised loop each.

numpy's path makes five passes over the array forward and about a dozen backward, on one thread; PyTorch runs
one fused loop on every core. These loops compute ``0.5 x (1 + tanh(u))``, ``u = c (x + a x^3)``, as
``x sigmoid(2u)`` (the same function; no cancellation in ``1 + tanh(u)`` for negative ``x``) and its
derivative ``s + 2 c x (1 + 3 a x^2) s (1 - s)`` with ``s = sigmoid(2u)``, both from one
:func:`ember_fast.vector_math` exp of ``-2|u|``, threaded as the thread policy says
(:mod:`ember_fast.parallel`). They take C-contiguous float32 arrays of one shape with ``approximate='tanh'``;
the erf form, float64 and other layouts stay on numpy.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .parallel import use_threads

__all__ = ["gelu_kernel", "gelu_backward_kernel"]

_loops = None
_C, _A = np.float32(math.sqrt(2 / math.pi)), np.float32(0.044715)


def _compile():
    global _loops
    from .jit import import_numba
    from .vector_math import FASTMATH, define
    numba = import_numba()
    exp_nonpositive = define(numba)
    one, two_c, three_a = np.float32(1.0), np.float32(2 * _C), np.float32(3 * 0.044715)

    @numba.njit(parallel=True, fastmath=FASTMATH, cache=True)
    def gelu_tanh(x, out):
        for i in numba.prange(x.size):
            v = x[i]
            u2 = two_c * v * (one + _A * v * v)
            e = exp_nonpositive(-abs(u2))  # sigmoid(u2) = 1 / (1 + e) for u2 >= 0, e / (1 + e) below
            out[i] = v * ((one if u2 >= 0 else e) / (one + e))

    @numba.njit(parallel=True, fastmath=FASTMATH, cache=True)
    def gelu_tanh_backward(g, x, out):
        for i in numba.prange(x.size):
            v = x[i]
            v2 = v * v
            u2 = two_c * v * (one + _A * v2)
            e = exp_nonpositive(-abs(u2))
            inv = one / (one + e)
            s = (one if u2 >= 0 else e) * inv      # sigmoid(u2)
            rest = (e if u2 >= 0 else one) * inv   # 1 - sigmoid(u2), without cancellation
            out[i] = g[i] * (s + two_c * v * (one + three_a * v2) * s * rest)

    _loops = numba, gelu_tanh, gelu_tanh_backward
    return _loops


def _takes(xp, approximate, *arrays):
    first = arrays[0]
    return (xp is np and approximate == "tanh" and first.size and all(
        isinstance(a, np.ndarray) and a.dtype == np.float32 and a.shape == first.shape and a.flags.c_contiguous
        for a in arrays))


def _loops_or_none():
    try:
        return _loops or _compile()
    except ImportError as exc:  # numba installed but unusable (e.g. built for another numpy)
        warnings.warn(f"ember_fast: numba cannot be imported ({exc}); gelu runs on numpy", RuntimeWarning,
                      stacklevel=3)
        return None


def gelu_kernel(reference):
    """The CPU kernel for the Gelu primitive's forward, falling back to ``reference``."""
    def fused_gelu(xp, x, approximate):
        loops = _takes(xp, approximate, x) and _loops_or_none()
        if not loops:
            return reference(xp, x, approximate)
        numba, forward, _ = loops
        out = np.empty_like(x)
        use_threads(numba, x.size)
        forward(x.reshape(-1), out.reshape(-1))
        return out
    fused_gelu.__doc__ = f"{reference.__qualname__} as one threaded loop for float32 tanh-GELU."
    return fused_gelu


def gelu_backward_kernel(reference):
    """The CPU kernel for the GeluBackward primitive (``grad * gelu'(input)``), falling back to ``reference``."""
    def fused_gelu_backward(xp, g, x, approximate):
        loops = _takes(xp, approximate, g, x) and _loops_or_none()
        if not loops:
            return reference(xp, g, x, approximate)
        numba, _, backward = loops
        out = np.empty_like(x)
        use_threads(numba, x.size)
        backward(g.reshape(-1), x.reshape(-1), out.reshape(-1))
        return out
    fused_gelu_backward.__doc__ = f"{reference.__qualname__} as one threaded loop for float32 tanh-GELU."
    return fused_gelu_backward
