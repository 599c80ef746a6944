"""tanh-GELU forward and backward as one multi-threaded, vectorised loop each.

numpy's path makes five passes over the array forward and about a dozen backward, on one thread; PyTorch runs
one fused loop on every core. These loops compute ``0.5 x (1 + tanh(u))``, ``u = c (x + a x^3)``, as
``x sigmoid(2u)`` (the same function; no cancellation in ``1 + tanh(u)`` for negative ``x``) and its
derivative ``s + 2 c x (1 + 3 a x^2) s (1 - s)`` with ``s = sigmoid(2u)``, both from one
:func:`ember_fast.vector_math` exp of ``-2|u|`` (the loops: :mod:`ember_fast.block_loops`), threaded as the
thread policy says (:mod:`ember_fast.parallel`). They take C-contiguous float32 arrays of one shape with ``approximate='tanh'``;
the erf form, float64 and other layouts stay on numpy.
"""

from __future__ import annotations

import warnings

import numpy as np

from .parallel import use_threads

__all__ = ["gelu_kernel", "gelu_backward_kernel"]

_loops = None


def _compile():
    global _loops
    from . import block_loops
    _loops = block_loops.numba, block_loops.gelu_tanh, block_loops.gelu_tanh_backward
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
