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
import time

import ember
from ember.distributed.backend import ProcessGroup, ProcessGroupBackend, RedOpType, Work

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

    def accepts(self, device_type: str) -> bool:
        return device_type == "cpu" or (device_type == "cuda" and self._cuda_aware)

    def reduces(self, dtype) -> bool:
        return dtype.kind in "biuf" and dtype.itemsize >= 1 and dtype.char not in "eg"  # no half, long double

    def _mpi_op(self, array, op):
        return (self._bool_ops if array.dtype.kind == "b" else self._ops)[op]

    def _raw(self, array):
        return [array, array.nbytes, self._byte]  # no arithmetic: any dtype moves as bytes

    def allreduce(self, array, op):
        MPI = _mpi()
        return MPIWork([self.comm.Iallreduce(MPI.IN_PLACE, array, self._mpi_op(array, op))])

    def broadcast(self, array, root):
        return MPIWork([self.comm.Ibcast(self._raw(array), root=root)])

    def reduce(self, array, op, root):
        MPI = _mpi()
        if self._rank == root:
            return MPIWork([self.comm.Ireduce(MPI.IN_PLACE, array, self._mpi_op(array, op), root=root)])
        # MPI leaves non-root buffers alone; PyTorch does too for reduce (non-root tensors unspecified)
        return MPIWork([self.comm.Ireduce(array, None, self._mpi_op(array, op), root=root)])

    def allgather(self, send, recv):
        return MPIWork([self.comm.Iallgather(self._raw(send), [recv, send.nbytes, self._byte])])

    def gather(self, send, recv, root):
        target = [recv, send.nbytes, self._byte] if recv is not None else None
        return MPIWork([self.comm.Igather(self._raw(send), target, root=root)])

    def scatter(self, send, recv, root):
        source = [send, recv.nbytes, self._byte] if send is not None else None
        return MPIWork([self.comm.Iscatter(source, self._raw(recv), root=root)])

    def send(self, array, dst, tag):
        return MPIWork([self.comm.Isend(self._raw(array), dest=dst, tag=tag)])

    def recv(self, array, src, tag):
        MPI = _mpi()
        status = MPI.Status()
        source = MPI.ANY_SOURCE if src is None else src
        request = self.comm.Irecv(self._raw(array), source=source, tag=tag)
        return MPIWork([request], status=status)

    def barrier(self):
        return MPIWork([self.comm.Ibarrier()])

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
        if self.comm is not None:
            self.comm.Free()
            self.comm = None


@ember.hookimpl
def ember_register_process_group_backends(registry):
    backend = MPIBackend()
    registry.register(backend)
    registry.register(backend, name="gloo")  # PyTorch's CPU backend name, served by MPI here
