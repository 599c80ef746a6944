"""Running the transformer-block kernels' compiled loops (:mod:`ember_fast.block_loops`) on ember_fast's one
OpenMP pool (:mod:`ember_fast.openmp`, shared with MKL's GEMM): on the thread policy's count from
:data:`~ember_fast.openmp.GRAIN` elements, one thread below it, and not at all where the loops cannot run in
this process (numba unusable, no OpenMP layer, a forked child): there the kernels run their numpy reference.

Unlike the elementwise loops, these keep their loop on one thread too: they fuse what numpy does in several
passes (gelu 2.3x, layer_norm 2.5-3.5x, long-row softmax 3x faster than numpy's CPU time on one thread).
"""

from __future__ import annotations

from . import openmp
from .openmp import run  # the loops run as every ember_fast loop does

__all__ = ["block_loops", "run"]

_module = None


def block_loops():
    """:mod:`ember_fast.block_loops` (imported, hence compiled or read from numba's cache, on first use), or None
    where its loops cannot run in this process."""
    global _module
    if not openmp.usable():
        return None
    if _module is None:
        try:
            from . import block_loops as module
        except ImportError as exc:  # numba installed but unusable (e.g. built for another numpy)
            openmp.disable(exc)
            return None
        _module = module
    return _module
