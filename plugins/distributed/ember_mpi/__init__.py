"""The built-in process-group backend of ``ember.distributed``: MPI, through mpi4py.

Registered as ``"mpi"``, and as ``"gloo"`` too, so that PyTorch scripts asking for gloo on the CPU run
over MPI (ember has no gloo). Rank and world size come from the MPI launcher (``mpirun -n N``); a
script started without it is a world of one. Arrays go to MPI as buffers, without copies: numpy arrays
always, CuPy arrays when ``EMBER_MPI_CUDA_AWARE=1`` says the MPI library is CUDA-aware (otherwise
ember stages them through host memory). mpi4py is imported only when a group is created, so that
``import ember`` does not start MPI.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import ember
from ember.distributed.backend import DistBackendError, ProcessGroup, ProcessGroupBackend, RedOpType, Work

__all__ = ["MPIBackend", "MPIProcessGroup"]


class MPIBackend(ProcessGroupBackend):
    """Open MPI / MPICH through mpi4py (``pip install ember[distributed]`` plus an MPI library)."""

    name = "mpi"
    devices = ("cpu", "cuda")

    def is_available(self) -> bool:
        try:
            return importlib.util.find_spec("mpi4py") is not None
        except (ImportError, ValueError):  # a broken or deliberately hidden mpi4py
            return False

    def unavailable_reason(self) -> str:
        if self.is_available():
            return ""
        return ("the MPI backend needs mpi4py and an MPI library: apt-get install openmpi-bin libopenmpi-dev "
                "(or your cluster's MPI module), then pip install 'ember[distributed]'")

    def create_world(self, timeout=None) -> "MPIProcessGroup":
        MPI = _mpi()
        comm = MPI.COMM_WORLD.Dup()
        return MPIProcessGroup(comm, list(range(comm.Get_size())))


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as exc:  # mpi4py present but its MPI library missing, or mpi4py absent
        raise RuntimeError(f"ember.distributed: the MPI backend could not load mpi4py ({exc}); "
                           f"{MPIBackend().unavailable_reason()}") from None
    return MPI


class MPIWork(Work):
    """One or more MPI requests; done when all are."""

    def __init__(self, requests, result=None, status=None):
        super().__init__(result)
        self._requests = requests
        self._status = status

    def _test(self) -> bool:
        if self._status is not None:
            return self._requests[0].Test(self._status)
        return _mpi().Request.Testall(self._requests)

    def _wait(self, timeout) -> bool:
        if timeout is None:
            if self._status is not None:
                self._requests[0].Wait(self._status)
            else:
                _mpi().Request.Waitall(self._requests)
            return True
        import time
        deadline = time.monotonic() + timeout
        while not self._test():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.0005)
        return True

    def source_rank(self) -> int:
        if self._status is None:
            return super().source_rank()
        self.wait()
        return self._status.Get_source()


class ThreadWork(Work):
    """A collective queued on a group's worker thread; done when the thread has run it."""

    def __init__(self):
        import threading
        super().__init__()
        self._done = threading.Event()

    def _test(self) -> bool:
        return self._done.is_set()

    def _wait(self, timeout) -> bool:
        if not self._done.wait(timeout):
            return False
        if self._error is not None:
            raise DistBackendError(f"MPI collective failed on the worker thread: {self._error}") from self._error
        return True


class _CollectiveThread:
    """Runs queued collectives one after another, as blocking MPI calls on its own communicator."""

    def __init__(self, comm):
        import queue
        import threading
        self.comm = comm
        self.queue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name="ember-mpi-collectives", daemon=True)
        self.thread.start()

    def submit(self, call) -> ThreadWork:
        work = ThreadWork()
        self.queue.put((call, work))
        return work

    def _serve(self):
        while True:
            call, work = self.queue.get()
            if call is None:
                return
            try:
                call(self.comm)
            except Exception as exc:  # reported to whoever waits on the work
                work._error = exc
            work._done.set()

    def close(self):
        self.queue.put((None, None))
        self.thread.join()
        self.comm.Free()


class MPIProcessGroup(ProcessGroup):
    """A group over an MPI communicator (``MPI.COMM_WORLD`` duplicated, or a split of it)."""

    backend_name = "mpi"

    def __init__(self, comm, ranks):
        super().__init__(comm.Get_rank(), comm.Get_size(), ranks)
        self.comm = comm
        MPI = _mpi()
        self._ops = {RedOpType.SUM: MPI.SUM, RedOpType.PRODUCT: MPI.PROD, RedOpType.MIN: MPI.MIN,
                     RedOpType.MAX: MPI.MAX, RedOpType.BAND: MPI.BAND, RedOpType.BOR: MPI.BOR,
                     RedOpType.BXOR: MPI.BXOR}
        # MPI reduces C bools only with logical ops; these match PyTorch's results on bool tensors.
        self._bool_ops = {RedOpType.SUM: MPI.LOR, RedOpType.MAX: MPI.LOR, RedOpType.BOR: MPI.LOR,
                          RedOpType.PRODUCT: MPI.LAND, RedOpType.MIN: MPI.LAND, RedOpType.BAND: MPI.LAND,
                          RedOpType.BXOR: MPI.LXOR}
        self._byte = MPI.BYTE
        self._cuda_aware = os.environ.get("EMBER_MPI_CUDA_AWARE", "") == "1"
        # async collectives need MPI_THREAD_MULTIPLE; without it they run at once (still correct, no overlap)
        self._runner = _CollectiveThread(comm.Dup()) if MPI.Query_thread() == MPI.THREAD_MULTIPLE else None

    def accepts(self, device_type: str) -> bool:
        return device_type == "cpu" or (device_type == "cuda" and self._cuda_aware)

    def reduces(self, dtype) -> bool:
        return dtype.kind in "biuf" and dtype.itemsize >= 1 and dtype.char not in "eg"  # no half, long double

    def _mpi_op(self, array, op):
        return (self._bool_ops if array.dtype.kind == "b" else self._ops)[op]

    def _raw(self, array):
        return [array, array.nbytes, self._byte]  # no arithmetic: any dtype moves as bytes

    # Collectives run as MPI's blocking calls: in Open MPI they are far faster than the non-blocking
    # ones (a 4 MB MPI_Iallreduce took 30 ms where MPI_Allreduce took 1 ms on 2 ranks). async_op=True runs
    # them on a worker thread (as PyTorch's ProcessGroupMPI does), on a communicator of its own, in the
    # order they were issued; mpi4py releases the GIL inside MPI calls, so backward goes on meanwhile.
    def _collective(self, call, async_op):
        if not async_op or self._runner is None:
            call(self.comm)
            return Work()
        return self._runner.submit(call)

    def allreduce(self, array, op, async_op=True):
        MPI, mpi_op = _mpi(), self._mpi_op(array, op)
        return self._collective(lambda comm: comm.Allreduce(MPI.IN_PLACE, array, mpi_op), async_op)

    def broadcast(self, array, root, async_op=True):
        return self._collective(lambda comm: comm.Bcast(self._raw(array), root=root), async_op)

    def reduce(self, array, op, root, async_op=True):
        MPI, mpi_op = _mpi(), self._mpi_op(array, op)
        # MPI leaves non-root buffers alone; PyTorch does too for reduce (non-root tensors unspecified)
        send, recv = (MPI.IN_PLACE, array) if self._rank == root else (array, None)
        return self._collective(lambda comm: comm.Reduce(send, recv, mpi_op, root=root), async_op)

    def allgather(self, send, recv, async_op=True):
        target = [recv, send.nbytes, self._byte]
        return self._collective(lambda comm: comm.Allgather(self._raw(send), target), async_op)

    def gather(self, send, recv, root, async_op=True):
        target = [recv, send.nbytes, self._byte] if recv is not None else None
        return self._collective(lambda comm: comm.Gather(self._raw(send), target, root=root), async_op)

    def scatter(self, send, recv, root, async_op=True):
        source = [send, recv.nbytes, self._byte] if send is not None else None
        return self._collective(lambda comm: comm.Scatter(source, self._raw(recv), root=root), async_op)

    def send(self, array, dst, tag):
        return MPIWork([self.comm.Isend(self._raw(array), dest=dst, tag=tag)])

    def recv(self, array, src, tag):
        MPI = _mpi()
        status = MPI.Status()
        source = MPI.ANY_SOURCE if src is None else src
        request = self.comm.Irecv(self._raw(array), source=source, tag=tag)
        return MPIWork([request], status=status)

    def barrier(self, async_op=True):
        return self._collective(lambda comm: comm.Barrier(), async_op)

    def split(self, ranks):
        MPI = _mpi()
        member = self._rank in ranks
        comm = self.comm.Split(0 if member else MPI.UNDEFINED, ranks.index(self._rank) if member else 0)
        if not member:
            return None
        return MPIProcessGroup(comm, [self.ranks[r] for r in ranks])

    def abort(self, errorcode=1):
        sys.stderr.flush()
        sys.stdout.flush()
        _mpi().COMM_WORLD.Abort(errorcode)

    def destroy(self):
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        if self.comm is not None:
            self.comm.Free()
            self.comm = None


@ember.hookimpl
def ember_register_process_group_backends(registry):
    backend = MPIBackend()
    registry.register(backend)
    registry.register(backend, name="gloo")  # PyTorch's CPU backend name, served by MPI here
