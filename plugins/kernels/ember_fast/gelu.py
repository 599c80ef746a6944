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

import numpy as np

from . import parallel

__all__ = ["gelu_kernel", "gelu_backward_kernel"]


def _takes(xp, approximate, *arrays):
    first = arrays[0]
    return (xp is np and approximate == "tanh" and first.size and all(
        isinstance(a, np.ndarray) and a.dtype == np.float32 and a.shape == first.shape and a.flags.c_contiguous
        for a in arrays))


def gelu_kernel(reference):
    """The CPU kernel for the Gelu primitive's forward, falling back to ``reference``."""
    def fused_gelu(xp, x, approximate):
        loops = _takes(xp, approximate, x) and parallel.block_loops()
        if loops:
            out = np.empty_like(x)
            ran, _ = parallel.run(loops.gelu_tanh, x.size, x.reshape(-1), out.reshape(-1))
            if ran:
                return out
        return reference(xp, x, approximate)
    fused_gelu.__doc__ = f"{reference.__qualname__} as one threaded loop for float32 tanh-GELU."
    return fused_gelu


def gelu_backward_kernel(reference):
    """The CPU kernel for the GeluBackward primitive (``grad * gelu'(input)``), falling back to ``reference``."""
    def fused_gelu_backward(xp, g, x, approximate):
        loops = _takes(xp, approximate, g, x) and parallel.block_loops()
        if loops:
            out = np.empty_like(x)
            ran, _ = parallel.run(loops.gelu_tanh_backward, x.size, g.reshape(-1), x.reshape(-1), out.reshape(-1))
            if ran:
                return out
        return reference(xp, g, x, approximate)
    fused_gelu_backward.__doc__ = f"{reference.__qualname__} as one threaded loop for float32 tanh-GELU."
    return fused_gelu_backward
