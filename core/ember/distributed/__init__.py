"""``ember.distributed``: processes that train together, with ``torch.distributed``'s API, over MPI.

Launch N processes with ``mpirun -n N python train.py`` (or ``mpirun -n N ember train --distributed``);
each calls ``init_process_group("mpi")`` and gets its rank and the world size from the launcher. The
collectives (``all_reduce``, ``broadcast``, ``all_gather``, ``reduce``, ``scatter``, ``gather``,
``barrier``, the object collectives, ``send``/``recv``) work on tensors in place, hand contiguous CPU
arrays to MPI without copying, and return a :class:`Work` with ``async_op=True``.

Differences from PyTorch: ``"gloo"`` is accepted and runs over MPI on the CPU (ember has no gloo, and no
NCCL); the rendezvous is the MPI launcher's, so ``init_method``, ``store`` and ``timeout`` are unused;
``EMBER_DISTRIBUTED_DEBUG=1`` (or ``TORCH_DISTRIBUTED_DEBUG=DETAIL``) checks every collective across
ranks and names the op and the ranks on a mismatch; an uncaught exception on any rank aborts the whole
job (``MPI_Abort``) with a message naming the rank, rather than leaving the others waiting.

Backends are plugins (the ``ember_register_process_group_backends`` hook); MPI (``ember_mpi``) is the
built-in one. Nothing here imports mpi4py until ``init_process_group`` runs.
"""

from .backend import (DistBackendError, DistError, ProcessGroup, ProcessGroupBackend, ReduceOp,  # noqa: F401
                      Work)
from .collectives import (all_gather, all_gather_into_tensor, all_reduce, barrier, broadcast, gather,  # noqa: F401
                          irecv, isend, recv, reduce, scatter, send)
from .debug import CollectiveMismatchError  # noqa: F401
from .object_collectives import (all_gather_object, broadcast_object_list, gather_object,  # noqa: F401
                                 scatter_object_list)
from .process_groups import (Backend, GroupMember, destroy_process_group, get_backend,  # noqa: F401
                             get_global_rank, get_group_rank, get_process_group_ranks, get_rank,
                             get_world_size, group, init_process_group, is_available, is_backend_available,
                             is_gloo_available, is_initialized, is_mpi_available, is_nccl_available, new_group)

__all__ = [
    "init_process_group", "destroy_process_group", "is_available", "is_initialized", "is_mpi_available",
    "is_gloo_available", "is_nccl_available", "is_backend_available", "get_rank", "get_world_size",
    "get_backend", "new_group", "get_process_group_ranks", "get_group_rank", "get_global_rank", "group",
    "GroupMember", "Backend", "ReduceOp", "Work", "ProcessGroup", "ProcessGroupBackend", "DistError",
    "DistBackendError", "CollectiveMismatchError", "all_reduce", "broadcast", "reduce", "all_gather",
    "all_gather_into_tensor", "gather", "scatter", "send", "recv", "isend", "irecv", "barrier",
    "all_gather_object", "broadcast_object_list", "gather_object", "scatter_object_list",
]
