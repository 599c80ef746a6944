"""What a process-group backend plugin provides: a :class:`ProcessGroupBackend` that makes the world
group, and :class:`ProcessGroup` objects that run collectives on contiguous backend arrays.

``ember.distributed``'s public functions take tensors, check them, hand their arrays to a
``ProcessGroup`` without copying (when contiguous and on a device the group accepts) and copy back
where they had to stage. A backend therefore implements only array-level, group-local-rank
operations; each returns a :class:`Work`. The MPI backend (the ``mpi`` plugin) is the built-in one.
"""

from __future__ import annotations

import enum

__all__ = ["ReduceOp", "RedOpType", "Work", "ProcessGroup", "ProcessGroupBackend", "DistError",
           "DistBackendError"]


class DistError(RuntimeError):
    """An error of ``ember.distributed`` (``torch.distributed.DistError``)."""


class DistBackendError(DistError):
    """A process-group backend failed (``torch.distributed.DistBackendError``)."""


class RedOpType(enum.IntEnum):
    """The reductions of ``all_reduce`` and ``reduce``, as ``torch.distributed.ReduceOp.RedOpType``."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


class ReduceOp:
    """``torch.distributed.ReduceOp``: ``ReduceOp.SUM``, ``AVG``, ``PRODUCT``, ``MIN``, ``MAX``, and the
    bitwise ``BAND``, ``BOR``, ``BXOR`` (integer and bool tensors only)."""

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR


class Work:
    """A collective or point-to-point operation in flight (``torch.distributed.Work``).

    ``wait()`` blocks until it completes, then runs what the caller attached with :meth:`then` (copying a
    staged result back into the tensor, dividing for AVG), once. Backends subclass it and implement
    ``_test()`` (non-blocking: done yet?) and ``_wait(timeout)``.
    """

    def __init__(self, result=None):
        self._callbacks = []
        self._finished = False
        self._result = result if result is not None else []
        self._error = None

    # -- what a backend implements ------------------------------------------------------------------
    def _test(self) -> bool:
        return True

    def _wait(self, timeout) -> bool:
        return True

    # -- the public interface -----------------------------------------------------------------------
    def then(self, callback) -> "Work":
        """Run ``callback()`` when the operation completes (at once if it already has)."""
        if self._finished:
            callback()
        else:
            self._callbacks.append(callback)
        return self

    def _finish(self) -> None:
        if not self._finished:
            self._finished = True
            callbacks, self._callbacks = self._callbacks, []
            for callback in callbacks:
                callback()

    def wait(self, timeout=None) -> bool:
        """Block until done (``timeout``: a ``datetime.timedelta`` or seconds; a DistError when it passes)."""
        if not self._finished:
            seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else timeout
            if not self._wait(seconds):
                raise DistError(f"Work.wait: the operation did not complete within {seconds} seconds")
            self._finish()
        return True

    def is_completed(self) -> bool:
        """Whether the operation has completed (progresses it without blocking)."""
        if not self._finished and self._test():
            self._finish()
        return self._finished

    def is_success(self) -> bool:
        return self.is_completed() and self._error is None

    def exception(self):
        return self._error

    def result(self) -> list:
        """The output tensors (after ``wait()``), as ``Work.result()``."""
        self.wait()
        return self._result

    def source_rank(self) -> int:
        """The group rank that sent what a completed receive got."""
        raise DistError(f"{type(self).__name__}.source_rank: only a receive has a source rank")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {'completed' if self._finished else 'pending'}>"


class ProcessGroup:
    """A set of ranks that run collectives together (``torch.distributed.ProcessGroup``).

    Array arguments are contiguous arrays of a device the group accepts (:meth:`accepts`); ``root``,
    ``src`` and ``dst`` are ranks within this group. Every method returns a :class:`Work`; with
    ``async_op=False`` the caller will wait at once, so the backend may complete the operation before
    returning (MPI's blocking collectives are faster than its non-blocking ones). ``ranks`` lists the
    members' global ranks in group-rank order.
    """

    backend_name = "undefined"

    def __init__(self, rank: int, size: int, ranks: list[int]):
        self._rank, self._size, self.ranks = rank, size, list(ranks)

    def rank(self) -> int:
        return self._rank

    def size(self) -> int:
        return self._size

    def name(self) -> str:
        return self.backend_name

    def accepts(self, device_type: str) -> bool:
        """Whether arrays of this device type may be passed as they are (else the caller stages via host)."""
        return device_type == "cpu"

    def reduces(self, dtype) -> bool:
        """Whether reductions work on this numpy dtype as it is (else the caller reduces in float32)."""
        return True

    def allreduce(self, array, op: RedOpType, async_op: bool = True) -> Work:
        raise NotImplementedError

    def broadcast(self, array, root: int, async_op: bool = True) -> Work:
        raise NotImplementedError

    def reduce(self, array, op: RedOpType, root: int, async_op: bool = True) -> Work:
        raise NotImplementedError

    def allgather(self, send, recv, async_op: bool = True) -> Work:
        """``recv`` has shape ``(size, *send.shape)``."""
        raise NotImplementedError

    def gather(self, send, recv, root: int, async_op: bool = True) -> Work:
        """``recv`` (root only; None elsewhere) has shape ``(size, *send.shape)``."""
        raise NotImplementedError

    def scatter(self, send, recv, root: int, async_op: bool = True) -> Work:
        """``send`` (root only; None elsewhere) has shape ``(size, *recv.shape)``."""
        raise NotImplementedError

    def send(self, array, dst: int, tag: int) -> Work:
        raise NotImplementedError

    def recv(self, array, src: int | None, tag: int) -> Work:
        """``src=None`` receives from any rank; the Work's ``source_rank()`` says which (a group rank)."""
        raise NotImplementedError

    def barrier(self, async_op: bool = True) -> Work:
        raise NotImplementedError

    def split(self, ranks: list[int]):
        """A new group of the given group ranks (collective over this group); None on non-members."""
        raise NotImplementedError

    def abort(self, errorcode: int = 1) -> None:
        """End every process of the job now (the failure path: no rank is left waiting)."""
        raise NotImplementedError

    def destroy(self) -> None:
        """Free the group's resources; it cannot be used afterwards."""

    def __repr__(self) -> str:
        return f"<ProcessGroup {self.backend_name} rank {self._rank} of {self._size}, global ranks {self.ranks}>"


class ProcessGroupBackend:
    """What a plugin registers through ``ember_register_process_group_backends``.

    ``name``: what ``init_process_group(backend=...)`` asks for; ``devices``: the device types it serves.
    """

    name = "undefined"
    devices = ("cpu",)

    def is_available(self) -> bool:
        """Whether it can run here (its libraries are installed); cheap, imports nothing heavy."""
        return True

    def unavailable_reason(self) -> str:
        return ""

    def create_world(self, timeout=None) -> ProcessGroup:
        """The group of every process of the job, with this process's rank and the world size read from
        the launcher (``mpirun`` for MPI)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
