"""One OpenMP thread pool for MKL's GEMM and ember_fast's multi-threaded numba loops.

Waking a sleeping thread costs ~50-100 us on the 2-core machines ember is budgeted on, more than a whole
elementwise op over 262K floats takes on two threads (~34 us); OpenMP pools spin between parallel regions
instead. Two pools in one process, though, spin against each other: the wheels' MKL runs on Intel's
OpenMP (libiomp5) by default, numba's ``omp`` threading layer on GNU's (libgomp). So
:func:`select_mkl_threading` puts MKL on its GNU threading layer before its first call, and the loops use
numba's ``omp`` layer: both then bind to the one libgomp of the process (PyTorch's, where it was imported
first), and a loop that follows a product finds the product's threads still spinning.

The loops run on the thread policy's count (:mod:`ember.thread_policy`: ``ember.set_num_threads``, or the
cores other processes leave free), on one thread below :data:`GRAIN` elements, and never in a forked child
(GNU OpenMP's pool does not survive a fork: numba ends such a child, a product there would hang), where
the callers take their numpy path and MKL gets one thread (:func:`_forked`).
"""

from __future__ import annotations

import ctypes
import os
import warnings

from ember import thread_policy

__all__ = ["GRAIN", "MKL_THREADING_GNU", "select_mkl_threading", "numba_for_loops", "threads_for", "set_threads",
           "run", "usable"]

GRAIN = 32_768           # elements under which one thread runs a loop (PyTorch's elementwise grain size)
MKL_THREADING_GNU = 3    # mkl_service.h: MKL_THREADING_INTEL 0, SEQUENTIAL 1, PGI 2, GNU 3, TBB 4


class _State:
    numba = None         # the numba module, once imported for loops
    usable = True        # False in a forked child, or where numba's omp layer cannot start
    mkl_on_gnu = False   # MKL was put on GNU OpenMP here


def select_mkl_threading(lib) -> None:
    """Put the just-loaded ``libmkl_rt`` on GNU OpenMP (it must not have run anything yet), unless the
    environment chose a layer (``MKL_THREADING_LAYER``) or there is no GNU OpenMP to run it on."""
    if os.environ.get("MKL_THREADING_LAYER") or not hasattr(lib, "MKL_Set_Threading_Layer"):
        return
    try:  # MKL's GNU layer needs libgomp; without it MKL would end the process at its first call
        ctypes.CDLL("libgomp.so.1")
    except OSError:
        return
    lib.MKL_Set_Threading_Layer(MKL_THREADING_GNU)
    _State.mkl_on_gnu = True


def _forked() -> None:
    """In a forked child (a DataLoader worker): GNU OpenMP's pool did not survive the fork, and a parallel
    region there waits forever for its threads (Intel's OpenMP, MKL's default, restarts its own). So the
    child's loops take the numpy path and, when MKL runs on GNU OpenMP, its products run on one thread, as
    PyTorch's DataLoader workers do (``ember.set_num_threads`` in the child overrides it, at that risk)."""
    _State.usable = False
    if _State.mkl_on_gnu:
        thread_policy.set_num_threads(1)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def numba_for_loops():
    """numba, with its parallel loops on the ``omp`` threading layer (unless ``NUMBA_THREADING_LAYER``
    chose another)."""
    if _State.numba is None:
        from .jit import import_numba
        numba = import_numba()
        if not os.environ.get("NUMBA_THREADING_LAYER"):
            numba.config.THREADING_LAYER = "omp"
        _State.numba = numba
    return _State.numba


def usable() -> bool:
    """Whether the multi-threaded loops may run in this process now."""
    return _State.usable


def disable(reason: Exception) -> None:
    """Stop using the loops in this process (their numpy paths run), with a warning saying why."""
    _State.usable = False
    warnings.warn(f"ember_fast: numba's parallel loops cannot run here ({reason}); elementwise ops stay on "
                  f"numpy", RuntimeWarning, stacklevel=3)


def threads_for(size: int) -> int:
    """How many threads a loop over ``size`` elements runs on: the thread policy's count from
    :data:`GRAIN` elements (at most numba's pool), else one."""
    if size < GRAIN:
        return 1
    return min(thread_policy.get_num_threads(), _State.numba.config.NUMBA_NUM_THREADS)


def set_threads(threads: int) -> None:
    """Give the next numba loop of this thread ``threads`` threads (a call into numba only on a change)."""
    numba = _State.numba
    if numba.get_num_threads() != threads:
        numba.set_num_threads(threads)


def run(loop, size, *args):
    """``(True, loop(*args))`` with the compiled ``loop`` on the threads an operand of ``size`` elements gets
    (:func:`threads_for`), or ``(False, None)`` where numba's OpenMP layer cannot start (the loops are then off
    for this process, with a warning, and the callers take their numpy path)."""
    try:
        set_threads(threads_for(size))
        return True, loop(*args)
    except ValueError as exc:  # numba found no OpenMP threading layer
        disable(exc)
        return False, None
