"""The loop a DataLoader worker process runs: take (task id, indices), fetch and collate, send the batch back.

Each worker seeds ``random`` and ember's default generators with ``base_seed + worker_id`` before
``worker_init_fn`` runs, as PyTorch does. A worker exits on a ``None`` task, or by itself when its parent
process has gone away.

Replies go through a :class:`ResultChannel`: the worker pickles each reply itself, so a batch that
cannot be pickled becomes an error naming the batch and the offending value, instead of a reply lost
in a background thread (where ``multiprocessing.Queue`` would drop it and leave the main process
waiting for ever).
"""

from __future__ import annotations

import os
import queue
import random
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler

__all__ = ["WorkerInfo", "get_worker_info", "worker_loop", "ExceptionWrapper", "IterableEnd", "ResultChannel"]

_worker_info = None


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker process: ``id``, ``num_workers``, ``seed`` and
    ``dataset`` (this worker's copy). Read-only: assigning raises RuntimeError, as in PyTorch."""

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id: int, num_workers: int, seed: int, dataset):  # noqa: A002 - PyTorch's name
        for name, value in zip(self.__slots__, (id, num_workers, seed, dataset)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects (tried {name!r})")

    def __repr__(self) -> str:
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, dataset={self.dataset!r})"


def get_worker_info():
    """In a DataLoader worker, its :class:`WorkerInfo` (id, num_workers, seed, dataset); None in the main process."""
    return _worker_info


@dataclass
class IterableEnd:
    """A worker's reply once its copy of an iterable data set is spent."""
    worker_id: int


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback as text (or with
    ``message`` instead, when the traceback would only show ember's own plumbing)."""

    def __init__(self, exc: BaseException, where: str, message: str | None = None):
        self.exc_type = type(exc)
        self.message = message or f"Caught {type(exc).__name__} {where}.\nOriginal " + "".join(
            traceback.format_exception(type(exc), exc, exc.__traceback__))

    def reraise(self):
        try:
            error = self.exc_type(self.message)
        except Exception:
            error = RuntimeError(self.message)
        raise error


class ResultChannel:
    """Workers to main process: one pipe, written under a lock by whole pickled messages.

    A worker pickles each reply itself (so that a failure is its own, reported error) and hands the
    bytes to a sender thread, so it can start on its next task while the main process is busy.
    ``wait_handle`` lets the main process wait on replies and on worker deaths at once
    (``multiprocessing.connection.wait``), so a dead worker is noticed as it dies, not at the next poll.
    """

    def __init__(self, ctx):
        self._reader, self._writer = ctx.Pipe(duplex=False)
        self._lock = ctx.Lock()
        self._outbox = None  # made in the worker, on its first reply

    def send(self, task_id: int, index, reply, worker_id: int) -> None:
        try:
            payload = ForkingPickler.dumps((task_id, reply))
        except Exception as exc:  # noqa: BLE001 - any pickling failure becomes the batch's error
            payload = ForkingPickler.dumps((task_id, _unpicklable(exc, task_id, index, reply, worker_id)))
        if self._outbox is None:
            self._outbox = queue.SimpleQueue()
            self._sender = threading.Thread(target=self._pump, name="ember-dataloader-sender", daemon=True)
            self._sender.start()
        self._outbox.put(payload)

    def _pump(self) -> None:
        while True:
            payload = self._outbox.get()
            if payload is None:
                return
            with self._lock:
                self._writer.send_bytes(payload)

    def flush(self) -> None:
        """(Worker) wait until every reply is in the pipe: a worker that exited halfway through a
        message would leave the main process waiting for the rest of it."""
        if self._outbox is not None:
            self._outbox.put(None)
            self._sender.join()

    @property
    def wait_handle(self):
        return self._reader

    def ready(self) -> bool:
        return self._reader.poll()

    def receive(self):
        return ForkingPickler.loads(self._reader.recv_bytes())

    def discard(self) -> None:
        """Read one reply and drop it unread (at shutdown)."""
        self._reader.recv_bytes()

    def close(self) -> None:
        self._reader.close()
        self._writer.close()


def _unpicklable(exc, task_id, index, reply, worker_id) -> ExceptionWrapper:
    where, culprit = _find_unpicklable(reply, "the batch")
    kind = type(culprit)
    indices = f" (indices {index})" if isinstance(index, list) and len(index) <= 16 else ""
    message = (f"DataLoader worker process {worker_id} cannot send batch {task_id}{indices} to the main process: "
               f"{where} is a {kind.__module__}.{kind.__qualname__}, which cannot be pickled "
               f"({type(exc).__name__}: {exc}). Return picklable samples (tensors, numpy arrays, numbers, "
               f"strings and containers of them) from the dataset and collate_fn, or use num_workers=0.")
    return ExceptionWrapper(exc, "", message)


def _find_unpicklable(value, where):
    """(description, value) of the innermost part of ``value`` that does not pickle."""
    if isinstance(value, dict):
        parts = ((f"{where}[{key!r}]", item) for key, item in value.items())
    elif isinstance(value, (list, tuple)):
        parts = ((f"{where}[{i}]", item) for i, item in enumerate(value))
    else:
        parts = ()
    for part_where, part in parts:
        try:
            ForkingPickler.dumps(part)
        except Exception:  # noqa: BLE001
            return _find_unpicklable(part, part_where)
    return where, value


def worker_loop(dataset, fetcher_type, auto_collation, collate_fn, drop_last, index_queue, results,
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
                results.flush()
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
            results.send(task_id, index, reply, worker_id)
    except KeyboardInterrupt:
        pass
