"""``DataLoader``: batches from a data set, in the main process or in worker processes.

Indices are always drawn in the main process, so ``num_workers`` changes where samples are read and
collated, never which batches come out or in which order. Worker processes are shut down when
iteration ends, when the iterator is dropped early (``break``), and on errors. The main process waits
on the replies and on the workers' lives together, so a dead worker is reported as it dies and
``timeout`` is kept to the time asked for.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from multiprocessing.connection import wait

from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .fetch import IterableFetcher, MapFetcher
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, draw_seed
from .worker import ExceptionWrapper, IterableEnd, ResultChannel, get_worker_info, worker_loop

__all__ = ["DataLoader", "get_worker_info"]


class _InfiniteConstantSampler(Sampler):
    """The index 'sampler' of an iterable data set: ``None`` forever, the data set decides when to stop."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Iterate over ``dataset`` in batches (``torch.utils.data.DataLoader``).

    Same arguments and semantics as PyTorch; ``in_order=False`` hands batches out as workers finish them.
    Differences: ``pin_memory`` and ``pin_memory_device`` are accepted and do nothing (there is no pinned
    host memory here); ``persistent_workers`` starts fresh workers each epoch (same batches, only
    slower); workers are forked where the platform allows, else spawned, unless
    ``multiprocessing_context`` says otherwise.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None, sampler=None,
                 batch_sampler=None, num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be a non-negative integer, got {num_workers!r}")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified in multiprocessing; "
                             "let num_workers > 0 to enable multiprocessing")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if prefetch_factor is not None and prefetch_factor < 1:
            raise ValueError(f"DataLoader: prefetch_factor option should be a positive integer, got {prefetch_factor!r}")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers > 0 else prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.in_order = in_order
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)

        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                                 f"but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, "
                                 f"but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool)
                                       or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size should be a positive integer value, got {batch_size!r}")

        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        return _MultiProcessIter(self)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)


class _BaseIter:
    def __init__(self, loader: DataLoader):
        self._loader = loader
        self._sampler_iter = iter(loader._index_sampler)
        self._base_seed = draw_seed(loader.generator)  # drawn by both iterators alike, as in PyTorch
        self._fetcher_type = IterableFetcher if loader._iterable else MapFetcher

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return len(self._loader)


class _SingleProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = self._fetcher_type(loader.dataset, loader._auto_collation, loader.collate_fn,
                                           loader.drop_last)

    def __next__(self):
        index = next(self._sampler_iter)
        return self._fetcher.fetch(index)


_END = object()  # no task is left to answer


class _MultiProcessIter(_BaseIter):
    """Keeps ``prefetch_factor * num_workers`` tasks in flight and hands batches out in task order."""

    _CLEAN_EXIT_S = 5.0  # how long workers get to finish and exit after a normal end of iteration
    _ERROR_EXIT_S = 0.1  # ... after an error or a timeout: then they are terminated

    def __init__(self, loader):
        super().__init__(loader)
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        self._workers, self._index_queues = [], []
        self._shutdown = False
        self._results = ResultChannel(ctx)
        for worker_id in range(loader.num_workers):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()
            process = ctx.Process(
                target=worker_loop, name=f"ember-dataloader-worker-{worker_id}", daemon=True,
                args=(loader.dataset, self._fetcher_type, loader._auto_collation, loader.collate_fn,
                      loader.drop_last, index_queue, self._results, self._base_seed, loader.worker_init_fn,
                      worker_id, loader.num_workers, os.getpid()))
            process.start()
            self._workers.append(process)
            self._index_queues.append(index_queue)
        self._active = [True] * loader.num_workers
        self._next_worker = 0
        self._send_idx = 0     # the id of the next task to send
        self._rcvd_idx = 0     # the id of the next batch to hand out
        self._pending = {}     # task id -> worker id, for tasks sent and not yet handed out
        self._arrived = {}     # task id -> reply that came early
        self._sampler_done = False
        for _ in range(loader.prefetch_factor * loader.num_workers):
            self._send_task()

    @property
    def worker_pids(self) -> list[int]:
        return [w.pid for w in self._workers]

    def _send_task(self) -> None:
        if self._sampler_done or not any(self._active):
            return
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            self._sampler_done = True
            return
        n = len(self._workers)
        while not self._active[self._next_worker]:
            self._next_worker = (self._next_worker + 1) % n
        worker = self._next_worker
        self._next_worker = (worker + 1) % n
        self._index_queues[worker].put((self._send_idx, index))
        self._pending[self._send_idx] = worker
        self._send_idx += 1

    def __next__(self):
        try:
            while True:
                reply = self._next_in_order() if self._loader.in_order else self._next_to_arrive()
                if reply is _END:
                    self._shutdown_workers(self._CLEAN_EXIT_S)
                    raise StopIteration
                if isinstance(reply, IterableEnd):
                    self._active[reply.worker_id] = False
                    continue
                self._send_task()
                if isinstance(reply, ExceptionWrapper):
                    self._shutdown_workers(self._ERROR_EXIT_S)
                    reply.reraise()
                return reply
        except StopIteration:
            raise
        except BaseException:
            self._shutdown_workers(self._ERROR_EXIT_S)
            raise

    def _next_in_order(self):
        """The reply to the oldest task handed out, or _END when every task was answered."""
        if self._rcvd_idx not in self._pending:
            return _END
        reply = self._arrived.pop(self._rcvd_idx, None)
        while reply is None:
            task_id, data = self._get_result()
            if task_id == self._rcvd_idx:
                reply = data
            else:
                self._arrived[task_id] = data
        del self._pending[self._rcvd_idx]
        self._rcvd_idx += 1
        return reply

    def _next_to_arrive(self):
        """The first reply to come (``in_order=False``), or _END when every task was answered."""
        if not self._pending:
            return _END
        task_id, reply = self._get_result()
        del self._pending[task_id]
        return reply

    def _get_result(self):
        """The next (task id, reply) from any worker; RuntimeError when a worker died or ``timeout`` passed."""
        timeout = self._loader.timeout
        deadline = time.monotonic() + timeout if timeout > 0 else None
        handles = [self._results.wait_handle] + [w.sentinel for w in self._workers]
        while True:
            if self._results.ready():  # replies first: a worker may have sent its batch, then died
                return self._results.receive()
            dead = [w for w in self._workers if w.exitcode is not None]
            if dead:
                pids = ", ".join(str(w.pid) for w in dead)
                codes = ", ".join(str(w.exitcode) for w in dead)
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly with exit "
                                   f"code(s) {codes}")
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise RuntimeError(f"DataLoader timed out after {timeout} seconds")
            wait(handles, remaining)

    def _shutdown_workers(self, grace_s: float) -> None:
        """Tell every worker to stop and give them ``grace_s`` seconds in all, reading and dropping
        replies meanwhile (a worker blocked sending a batch could not exit); then terminate the rest."""
        if self._shutdown:
            return
        self._shutdown = True
        for q in self._index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + grace_s
        try:
            while True:
                while self._results.ready():
                    self._results.discard()
                alive = [w.sentinel for w in self._workers if w.exitcode is None]
                remaining = deadline - time.monotonic()
                if not alive or remaining <= 0:
                    break
                wait(alive + [self._results.wait_handle], remaining)
        except (OSError, EOFError):
            pass  # the pipe broke: the workers are going anyway
        for w in self._workers:
            if w.exitcode is None:
                w.terminate()
        for w in self._workers:
            w.join(timeout=1.0)
        for q in self._index_queues:
            q.cancel_join_thread()
            q.close()
        self._results.close()

    def __del__(self):
        if getattr(self, "_shutdown", True) is False:
            self._shutdown_workers(self._CLEAN_EXIT_S)
