"""How many threads the BLAS library may use: ``set_num_threads`` and the default policy.

ember's heavy kernels (matmul, convolution) run in the BLAS library numpy links (OpenBLAS), or in a
kernel plugin's (MKL, through ``ember[fast]``). Their worker threads spin and meet at barriers, so a
thread that has no core of its own stalls the others: on a 2-core machine with one busy neighbour,
two BLAS threads made ember's training steps 3-9x slower than one (bench/threads.py; numbers in
bench/README.md). On free cores the same threads make large products faster. So the default is
*adaptive*: as many threads as there are cores that other processes leave free, re-read from
``/proc/stat`` at most once per :data:`INTERVAL_S` when a training step or product runs (:func:`adapt`,
a clock read and one comparison in between), one thread until the first reading.

The policy is off, and the pool stays at what was asked, after ``ember.set_num_threads(n)`` or when
the environment pins the threads (``EMBER_NUM_THREADS``, ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``,
``MKL_NUM_THREADS``), and where ``/proc/stat`` does not exist. Pools are set through ``threadpoolctl``,
imported on first use, so ``import ember`` does not pay for it.
"""

from __future__ import annotations

import math
import os
import time

__all__ = ["set_num_threads", "get_num_threads", "adapt", "refresh", "INTERVAL_S"]

INTERVAL_S = 1.0          # how often the adaptive policy re-reads the machine's load
NEIGHBOUR_CORES = 0.3     # a neighbour busy for more than this share of a core takes the core
PIN_VARIABLES = ("EMBER_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_clock = time.monotonic


class _State:
    pinned: int | None = None   # set_num_threads' value, or the environment's
    pools = None                # threadpoolctl's controllers of the BLAS libraries, found on first use
    applied = 0                 # the thread count last given to the pools
    next_check = 0.0            # monotonic time of the next load reading (inf: policy off)
    last = None                 # (wall, machine busy seconds, own CPU seconds) at the last reading


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _pinned_by_environment() -> int | None:
    for name in PIN_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def _pools():
    if _State.pools is None:
        refresh()
    return _State.pools


def refresh() -> None:
    """Find the BLAS libraries loaded now (a kernel plugin calls this after loading its own), and give
    them the current thread count."""
    from threadpoolctl import ThreadpoolController
    _State.pools = ThreadpoolController().select(user_api="blas").lib_controllers
    if _State.applied:
        _apply(_State.applied)


def _apply(n: int) -> None:
    for pool in _pools():
        if pool.num_threads != n:
            pool.set_num_threads(n)
    _State.applied = n


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for intra-op parallelism: the BLAS pools that run matmul and convolution
    (``torch.set_num_threads``). Turns the adaptive default off for this process.

    Raises RuntimeError, as PyTorch does, for anything but a positive int."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n}")
    _State.pinned = n
    _State.next_check = float("inf")
    _apply(n)


def get_num_threads() -> int:
    """Threads the BLAS pools use now: the pinned count, the adaptive policy's current choice, or (before
    anything ran) what the policy starts with (``torch.get_num_threads``)."""
    adapt()
    return _State.applied or max((pool.num_threads for pool in _pools()), default=1)


def _machine_busy_seconds() -> float:
    with open("/proc/stat", "rb") as stat:
        fields = stat.readline().split()[1:]
    # user nice system idle iowait irq softirq steal: all but idle and iowait are work
    busy = sum(int(f) for f in fields[:8]) - int(fields[3]) - int(fields[4])
    return busy / _TICKS


def _own_cpu_seconds() -> float:
    return time.process_time()  # every thread of this process, the BLAS pool's spinning ones too


def adapt() -> None:
    """Let the adaptive policy re-read the load if :data:`INTERVAL_S` has passed; call before BLAS work.
    Costs a clock read between readings, ~30 us at a reading, and nothing once threads are pinned."""
    now = _clock()
    if now < _State.next_check:
        return
    _State.next_check = now + INTERVAL_S
    if _State.pinned is None:
        _State.pinned = _pinned_by_environment()
    if _State.pinned is not None:
        _State.next_check = float("inf")
        _apply(_State.pinned)
        return
    try:
        sample = (now, _machine_busy_seconds(), _own_cpu_seconds())
    except (OSError, ValueError, IndexError):  # no /proc/stat: leave the library's default alone
        _State.next_check = float("inf")
        return
    previous, _State.last = _State.last, sample
    if previous is None:  # no load reading yet: one thread is never the collapse
        _State.next_check = now + INTERVAL_S / 4
        _apply(1)
        return
    wall = sample[0] - previous[0]
    foreign = ((sample[1] - previous[1]) - (sample[2] - previous[2])) / wall
    cores = _cores()
    neighbours = math.ceil(foreign - NEIGHBOUR_CORES)  # cores other processes keep busy
    _apply(max(1, min(cores, cores - neighbours)))
