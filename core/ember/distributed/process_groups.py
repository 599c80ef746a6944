"""The default process group and sub-groups: init_process_group, new_group, ranks, and the failure path.

One default ("world") group per process, made by a registered backend. While it exists, an uncaught
exception on any rank ends the whole job within seconds (the backend's abort, ``MPI_Abort`` for MPI)
with a message naming the rank, instead of leaving the other ranks waiting in a collective forever.
"""

from __future__ import annotations

import os
import sys
import traceback
import warnings

from .backend import ProcessGroup

__all__ = ["init_process_group", "destroy_process_group", "is_available", "is_initialized", "is_mpi_available",
           "is_gloo_available", "is_nccl_available", "is_backend_available", "get_rank", "get_world_size",
           "get_backend", "new_group", "get_process_group_ranks", "get_group_rank", "get_global_rank", "group",
           "GroupMember", "Backend"]


class _NonGroupMember:
    def __repr__(self) -> str:
        return "GroupMember.NON_GROUP_MEMBER"


class GroupMember:
    """``GroupMember.WORLD``: the default group once initialized; ``NON_GROUP_MEMBER`` stands for a group
    this rank is not part of (what ``new_group`` returns to non-members)."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = _NonGroupMember()


class group:  # noqa: N801 - PyTorch's name
    """``torch.distributed.group``: ``group.WORLD`` is the default process group."""

    WORLD: ProcessGroup | None = None


class Backend(str):
    """Backend names, as ``torch.distributed.Backend``: ``Backend("MPI") == "mpi"``; ``GLOO`` maps to MPI."""

    UNDEFINED = "undefined"
    MPI = "mpi"
    GLOO = "gloo"
    NCCL = "nccl"

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, got {type(name).__name__}")
        return super().__new__(cls, name.lower())


class _State:
    default: ProcessGroup | None = None
    backend_name: str = ""
    previous_excepthook = None


_STATE = _State()


def _registry():
    from ..plugins import registries
    return registries["process_group_backends"]


def is_available() -> bool:
    """Whether any process-group backend can run here (``torch.distributed.is_available``)."""
    return any(entry.obj.is_available() for entry in _registry().entries.values())


def is_backend_available(backend: str) -> bool:
    entry = _registry().entries.get(str(backend).lower())
    return entry is not None and entry.obj.is_available()


def is_mpi_available() -> bool:
    return is_backend_available("mpi")


def is_gloo_available() -> bool:
    """True where MPI is: ``"gloo"`` is an alias of the MPI backend in ember."""
    return is_backend_available("gloo")


def is_nccl_available() -> bool:
    return is_backend_available("nccl")


def is_initialized() -> bool:
    """Whether the default process group exists (``torch.distributed.is_initialized``)."""
    return _STATE.default is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size: int = -1, rank: int = -1,
                       store=None, group_name: str = "", pg_options=None, device_id=None) -> None:
    """Make the default process group (``torch.distributed.init_process_group``).

    ``backend``: ``"mpi"`` (also the default) or ``"gloo"``, an alias that runs over MPI on the CPU;
    any name a plugin registered. Rank and world size come from the launcher (``mpirun -n N``); when
    ``world_size``/``rank`` are given they must agree with it. ``init_method``, ``store`` and
    ``timeout`` are accepted for PyTorch scripts and unused: MPI's launcher does the rendezvous.
    Raises RuntimeError if already initialized, ValueError for an unknown backend.
    """
    if _STATE.default is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else str(backend).lower()
    if ":" in name:  # "cpu:gloo,cuda:nccl": the CPU entry decides, as ember's collectives run on it
        name = dict(part.split(":") for part in name.split(",")).get("cpu", "mpi")
    entry = _registry().entries.get(name)
    if entry is None:
        known = ", ".join(sorted(_registry())) or "none (is the 'mpi' plugin disabled? `ember plugins` shows it)"
        raise ValueError(f"init_process_group: unknown backend {backend!r}; registered backends: {known}")
    if not entry.obj.is_available():
        raise RuntimeError(f"init_process_group: backend {name!r} is not available here: "
                           f"{entry.obj.unavailable_reason()}")
    world = entry.obj.create_world(timeout)
    if world_size not in (-1, None) and world_size != world.size():
        raise ValueError(f"init_process_group: world_size={world_size} was given, but the launcher started "
                         f"{world.size()} processes (backend {name!r} takes the world size from the launcher)")
    if rank not in (-1, None) and rank != world.rank():
        raise ValueError(f"init_process_group: rank={rank} was given, but the launcher made this process "
                         f"rank {world.rank()}")
    _STATE.default, _STATE.backend_name = world, name
    GroupMember.WORLD = group.WORLD = world
    _install_abort_on_error()


def destroy_process_group(group=None) -> None:
    """Destroy ``group``, or every group and the default one when None (``destroy_process_group``)."""
    if group is None or group is _STATE.default:
        if _STATE.default is None:
            raise ValueError("Default process group has not been initialized, please make sure to call "
                             "init_process_group.")
        _STATE.default.destroy()
        _STATE.default, _STATE.backend_name = None, ""
        GroupMember.WORLD = globals()["group"].WORLD = None
        _remove_abort_on_error()
    elif group is not GroupMember.NON_GROUP_MEMBER:
        group.destroy()


def default_group() -> ProcessGroup:
    if _STATE.default is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return _STATE.default


def resolve(group) -> ProcessGroup | None:
    """The group an op runs on: the default for None; None when this rank is not a member."""
    if group is None or group is GroupMember.WORLD:
        return default_group()
    if group is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"expected a ProcessGroup (from new_group) or None, got {type(group).__name__}")
    return group


def get_rank(group=None) -> int:
    """This process's rank in ``group`` (default: the world); -1 if it is not a member."""
    pg = resolve(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group=None) -> int:
    """The number of processes in ``group`` (default: the world); -1 if this rank is not a member."""
    pg = resolve(group)
    return -1 if pg is None else pg.size()


def get_backend(group=None) -> str:
    """The backend name the default group was made with (``"gloo"`` stays ``"gloo"``, run by MPI)."""
    default_group()
    return Backend(_STATE.backend_name)


def get_process_group_ranks(group) -> list[int]:
    """The global ranks of ``group``'s members, in group-rank order."""
    pg = resolve(group)
    if pg is None:
        raise ValueError("get_process_group_ranks: this rank is not a member of the group")
    return list(pg.ranks)


def get_group_rank(group, global_rank: int) -> int:
    """``global_rank``'s rank within ``group``; ValueError when it is not a member."""
    ranks = get_process_group_ranks(group)
    if global_rank not in ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {ranks}")
    return ranks.index(global_rank)


def get_global_rank(group, group_rank: int) -> int:
    """The global rank of ``group_rank`` in ``group``."""
    ranks = get_process_group_ranks(group)
    if not 0 <= group_rank < len(ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {ranks}")
    return ranks[group_rank]


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None):
    """A sub-group of the given global ranks (``torch.distributed.new_group``).

    Every rank of the world must call it, with the same ``ranks``, as in PyTorch. Members get a
    ``ProcessGroup``; the others get ``GroupMember.NON_GROUP_MEMBER``, and collectives on it are skipped
    for them with a warning. ``ranks=None`` is the whole world.
    """
    world = default_group()
    ranks = list(range(world.size())) if ranks is None else sorted(int(r) for r in ranks)
    bad = [r for r in ranks if not 0 <= r < world.size()]
    if bad or len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group: ranks must be distinct and in [0, {world.size() - 1}], got {ranks}")
    pg = world.split([world.ranks.index(r) for r in ranks])
    return GroupMember.NON_GROUP_MEMBER if pg is None else pg


def warn_not_in_group(op_name: str) -> None:
    warnings.warn(f"Running {op_name} on global rank {get_rank()} which does not belong to the given group.",
                  stacklevel=3)


# -- the failure path -------------------------------------------------------------------------------

def abort_job(reason: str, errorcode: int = 1) -> None:
    """Print ``reason`` naming this rank, then end every process of the job (never returns)."""
    world = _STATE.default
    where = f"rank {world.rank()} of {world.size()}" if world is not None else "a rank"
    sys.stderr.write(f"ember.distributed: {where} failed: {reason}; aborting all ranks of the job\n")
    sys.stderr.flush()
    if world is not None:
        world.abort(errorcode)
    os._exit(errorcode)


def _abort_on_uncaught(exc_type, exc, tb):
    if _STATE.previous_excepthook is not None:
        _STATE.previous_excepthook(exc_type, exc, tb)
    else:
        traceback.print_exception(exc_type, exc, tb)
    if issubclass(exc_type, KeyboardInterrupt):
        reason = "interrupted (KeyboardInterrupt)"
    else:
        reason = f"{exc_type.__name__}: {exc}"
    abort_job(reason)


def _install_abort_on_error() -> None:
    if sys.excepthook is not _abort_on_uncaught:
        _STATE.previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught


def _remove_abort_on_error() -> None:
    if sys.excepthook is _abort_on_uncaught:
        sys.excepthook = _STATE.previous_excepthook or sys.__excepthook__
    _STATE.previous_excepthook = None
