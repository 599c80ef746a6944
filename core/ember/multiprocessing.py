"""``ember.multiprocessing``: Python's ``multiprocessing`` plus PyTorch's ``spawn``, as ``torch.multiprocessing``.

PyTorch's module adds shared-memory reductions so tensors cross process boundaries without copies;
ember tensors are pickled by value instead (numpy arrays), which is correct and slower for big tensors.
``spawn(fn, args, nprocs)`` starts ``nprocs`` processes running ``fn(i, *args)``, waits for them when
``join=True``, and raises :class:`ProcessRaisedException` naming the rank when one of them fails.
"""

from __future__ import annotations

import multiprocessing as _mp
from multiprocessing import *  # noqa: F401,F403 - torch.multiprocessing re-exports the standard module

__all__ = ["spawn", "start_processes", "ProcessContext", "ProcessRaisedException", "ProcessExitedException",
           "get_sharing_strategy", "set_sharing_strategy", "get_all_sharing_strategies"] + list(_mp.__all__)

_sharing = ["file_system"]


def get_all_sharing_strategies() -> set:
    return {"file_system"}


def get_sharing_strategy() -> str:
    return _sharing[0]


def set_sharing_strategy(strategy: str) -> None:
    if strategy not in get_all_sharing_strategies():
        raise ValueError(f"set_sharing_strategy: unknown strategy {strategy!r}; ember supports 'file_system'")
    _sharing[0] = strategy


class ProcessException(Exception):
    def __init__(self, msg: str, error_index: int, pid: int):
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid


class ProcessRaisedException(ProcessException):
    """A spawned process raised; the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """A spawned process exited with a non-zero code (or a signal)."""

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name


def _wrap(fn, index, args, errors):
    import traceback
    try:
        fn(index, *args)
    except KeyboardInterrupt:
        pass
    except Exception:  # noqa: BLE001 - reported to the parent with its traceback
        errors.put((index, traceback.format_exc()))
        raise SystemExit(1)


class ProcessContext:
    """The processes of one :func:`spawn`; :meth:`join` waits and raises on the first failure."""

    def __init__(self, processes, errors):
        self.processes, self.errors = processes, errors

    def pids(self) -> list:
        return [p.pid for p in self.processes]

    def join(self, timeout=None) -> bool:
        for p in self.processes:
            p.join(timeout)
        if not self.errors.empty():
            index, tb = self.errors.get()
            for p in self.processes:
                if p.is_alive():
                    p.terminate()
            raise ProcessRaisedException(f"\n\n-- Process {index} terminated with the following error:\n{tb}",
                                         index, self.processes[index].pid)
        for index, p in enumerate(self.processes):
            if p.exitcode not in (0, None):
                raise ProcessExitedException(f"process {index} terminated with exit code {p.exitcode}", index,
                                             p.pid, p.exitcode)
        return all(not p.is_alive() for p in self.processes)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    ctx = _mp.get_context(start_method)
    errors = ctx.SimpleQueue()
    processes = []
    for i in range(nprocs):
        p = ctx.Process(target=_wrap, args=(fn, i, args, errors), daemon=daemon)
        p.start()
        processes.append(p)
    context = ProcessContext(processes, errors)
    if not join:
        return context
    context.join()
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Run ``fn(i, *args)`` in ``nprocs`` new processes (``torch.multiprocessing.spawn``)."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
