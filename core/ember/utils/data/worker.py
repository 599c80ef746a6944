"""The loop a DataLoader worker process runs: take (task id, indices), fetch and collate, send the batch back.

Each worker seeds ``random`` and ember's default generators with ``base_seed + worker_id`` before
``worker_init_fn`` runs, as PyTorch does. A worker exits on a ``None`` task, or by itself when its parent
process has gone away.
"""

from __future__ import annotations

import os
import queue
import random
import traceback
from dataclasses import dataclass

__all__ = ["WorkerInfo", "get_worker_info", "worker_loop", "ExceptionWrapper", "IterableEnd"]

_worker_info = None


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker process."""
    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info():
    """In a DataLoader worker, its :class:`WorkerInfo` (id, num_workers, seed, dataset); None in the main process."""
    return _worker_info


@dataclass
class IterableEnd:
    """A worker's reply once its copy of an iterable data set is spent."""
    worker_id: int


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback as text."""

    def __init__(self, exc: BaseException, where: str):
        self.exc_type = type(exc)
        self.message = f"Caught {type(exc).__name__} {where}.\nOriginal " + "".join(
            traceback.format_exception(type(exc), exc, exc.__traceback__))

    def reraise(self):
        try:
            error = self.exc_type(self.message)
        except Exception:
            error = RuntimeError(self.message)
        raise error


def worker_loop(dataset, fetcher_type, auto_collation, collate_fn, drop_last, index_queue, result_queue,
                base_seed, init_fn, worker_id, num_workers, parent_pid):
    global _worker_info
    import ember
    seed = base_seed + worker_id
    random.seed(seed)
    ember.manual_seed(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    init_error = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = fetcher_type(dataset, auto_collation, collate_fn, drop_last)
    except Exception as exc:
        init_error = ExceptionWrapper(exc, f"in DataLoader worker process {worker_id}")
    try:
        while True:
            try:
                task = index_queue.get(timeout=1.0)
            except queue.Empty:
                if os.getppid() != parent_pid:
                    break  # the main process died: don't linger
                continue
            if task is None:
                break
            task_id, index = task
            if init_error is not None:
                reply = init_error
            else:
                try:
                    reply = fetcher.fetch(index)
                except StopIteration:
                    reply = IterableEnd(worker_id)
                except Exception as exc:
                    reply = ExceptionWrapper(exc, f"in DataLoader worker process {worker_id}")
            result_queue.put((task_id, reply))
    except KeyboardInterrupt:
        pass
    # Batches still in the pipe are not wanted any more; don't block exit flushing them.
    result_queue.cancel_join_thread()
    result_queue.close()
