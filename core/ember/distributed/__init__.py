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

Backends are plugins (the ``ember_register_process_group_backends`` hook); MPI (the ``mpi`` plugin) is the
built-in one. Nothing here imports mpi4py until ``init_process_group`` runs.
"""

from ..lazy import lazy_exports as _lazy_exports

# Every public name and the module that holds it: imported on first use, so that ``import ember`` (whose
# MPI plugin imports ``ember.distributed.backend``) pays only for what a plugin needs.
_EXPORTS = {
    **dict.fromkeys(["DistBackendError", "DistError", "ProcessGroup", "ProcessGroupBackend", "ReduceOp", "Work"],
                    ".backend"),
    **dict.fromkeys(["all_gather", "all_gather_into_tensor", "all_reduce", "barrier", "broadcast", "gather", "irecv",
                     "isend", "recv", "reduce", "scatter", "send"], ".collectives"),
    "CollectiveMismatchError": ".debug",
    **dict.fromkeys(["all_gather_object", "broadcast_object_list", "gather_object", "scatter_object_list"],
                    ".object_collectives"),
    **dict.fromkeys(["Backend", "GroupMember", "destroy_process_group", "get_backend", "get_global_rank",
                     "get_group_rank", "get_process_group_ranks", "get_rank", "get_world_size", "group",
                     "init_process_group", "is_available", "is_backend_available", "is_gloo_available",
                     "is_initialized", "is_mpi_available", "is_nccl_available", "new_group"], ".process_groups"),
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
