"""How many threads a multi-threaded numba loop of ember_fast may use: the thread policy's count.

``ember.set_num_threads`` pins it; otherwise the adaptive policy (:mod:`ember.thread_policy`) gives the loops
the cores other processes leave free, one when a neighbour is busy (a loop whose threads wait at a barrier for
a core they do not have collapses, as BLAS does). Below :data:`GRAIN` elements one thread runs the loop: waking
a second costs more than it saves.
"""

from __future__ import annotations

from ember import thread_policy

__all__ = ["GRAIN", "use_threads"]

GRAIN = 32_768  # elements under which one thread runs a loop (PyTorch's grain size for elementwise ops)


def use_threads(numba, size: int) -> None:
    """Set numba's thread count for the next parallel loop in this thread, for an operand of ``size``
    elements."""
    threads = 1 if size < GRAIN else min(thread_policy.get_num_threads(), numba.config.NUMBA_NUM_THREADS)
    if numba.get_num_threads() != threads:
        numba.set_num_threads(threads)
