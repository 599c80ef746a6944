"""Collectives and point-to-point ops on tensors, with ``torch.distributed``'s names and semantics.

Each op checks its tensors, hands their arrays to the group's backend and, for ops that write, makes
the result land in the tensors in place. A contiguous tensor on a device the backend accepts goes to
it as it is, with no copy (numpy arrays straight to MPI); anything else is staged through a
contiguous copy that is written back when the operation completes. ``async_op=True`` returns a
:class:`Work`; otherwise the op blocks and returns None (``recv`` returns the sender's rank).
``src``/``dst`` are global ranks, as in PyTorch; ``group_src``/``group_dst`` are ranks within ``group``.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, bump_version
from . import debug
from .backend import ReduceOp, RedOpType, Work
from .process_groups import resolve, warn_not_in_group

__all__ = ["all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor", "gather", "scatter",
           "send", "recv", "isend", "irecv", "barrier"]


def _check_tensor(op_name, tensor, what="tensor") -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op_name}: {what} must be an ember Tensor, got {type(tensor).__name__}")
    return tensor


def _check_like(op_name, tensors, reference, what) -> None:
    for i, t in enumerate(tensors):
        _check_tensor(op_name, t, f"{what}[{i}]")
        if tuple(t.shape) != tuple(reference.shape) or t.dtype is not reference.dtype:
            raise ValueError(f"{op_name}: {what}[{i}] has shape {tuple(t.shape)} and dtype {t.dtype}; expected "
                             f"shape {tuple(reference.shape)} and dtype {reference.dtype} (like the input tensor)")


class _Buffer:
    """A tensor's array as the backend gets it: the tensor's own memory when possible, else a staged copy."""

    __slots__ = ("tensor", "array", "staged")

    def __init__(self, pg, tensor: Tensor, reduce_op=None):
        data = tensor._data
        on_device = pg.accepts(tensor.device.type)
        dtype = np.dtype(data.dtype)
        wider = reduce_op is not None and not pg.reduces(dtype)
        if wider and not (dtype.kind == "f" or dtype.name == "bfloat16"):
            raise TypeError(f"reduction {RedOpType(reduce_op).name} is not supported for dtype {tensor.dtype} "
                            f"by the {pg.backend_name} backend")
        self.tensor = tensor
        self.staged = wider or not on_device or not data.flags.c_contiguous
        if not self.staged:
            self.array = data
            return
        host = data if on_device else tensor.cpu()._data
        self.array = np.ascontiguousarray(host, dtype=np.float32 if wider else None)

    def write_back(self) -> None:
        """Make the result visible in the tensor (a copy only when staged), and count the in-place change."""
        t = self.tensor
        if self.staged:
            t._data[...] = t.device.xp.asarray(self.array.astype(t._data.dtype, copy=False))
        bump_version(t)


def _group(op_name, group):
    pg = resolve(group)
    if pg is None:
        warn_not_in_group(op_name)
    return pg


def _group_rank(pg, op_name, global_rank, group_rank, what, default=None) -> int:
    """The group rank meant by a global rank or a group rank (exactly one of them, else ``default``)."""
    if global_rank is None and group_rank is None:
        if default is None:
            raise ValueError(f"{op_name}: Must specify global_rank or group_rank ({what}= or group_{what}=)")
        global_rank = default
    if group_rank is not None:
        if global_rank is not None:
            raise ValueError(f"{op_name}: Can't specify both group_rank and global_rank ({what}= and group_{what}=)")
        rank = int(group_rank)
        if not 0 <= rank < pg.size():
            raise ValueError(f"{op_name}: group_{what}={rank} is out of range for a group of size {pg.size()}")
        return rank
    if int(global_rank) not in pg.ranks:
        raise ValueError(f"{op_name}: {what}={global_rank} is not a member of the group (global ranks {pg.ranks})")
    return pg.ranks.index(int(global_rank))


def _finish(work: Work, async_op: bool, result=None):
    if async_op:
        work._result = result if result is not None else work._result
        return work
    work.wait()
    return None


def _op(op) -> RedOpType:
    try:
        return RedOpType(op)
    except ValueError:
        raise ValueError(f"unknown reduce op {op!r}; use ember.distributed.ReduceOp.SUM, AVG, PRODUCT, MIN, MAX, "
                         f"BAND, BOR or BXOR") from None


def _check_reduction(op_name, tensor, op) -> RedOpType:
    op = _op(op)
    kind = np.dtype(tensor._data.dtype).kind
    if op is RedOpType.AVG and kind not in "fc" and np.dtype(tensor._data.dtype).name != "bfloat16":
        raise TypeError(f"{op_name}: ReduceOp.AVG needs a floating-point tensor, got dtype {tensor.dtype}")
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR) and kind not in "biu":
        raise TypeError(f"{op_name}: ReduceOp.{op.name} needs an integer or bool tensor, got dtype {tensor.dtype}")
    return op


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across the group, in place on every rank (``torch.distributed.all_reduce``).

    ``op``: ReduceOp.SUM, AVG (floating point only), PRODUCT, MIN, MAX, BAND/BOR/BXOR (integers, bool).
    """
    _check_tensor("all_reduce", tensor)
    op = _check_reduction("all_reduce", tensor, op)
    pg = _group("all_reduce", group)
    if pg is None:
        return None
    debug.check(pg, "all_reduce", [tensor], op=op.name)
    buf = _Buffer(pg, tensor, reduce_op=op)
    work = pg.allreduce(buf.array, RedOpType.SUM if op is RedOpType.AVG else op, async_op)
    if op is RedOpType.AVG:
        size = pg.size()
        work.then(lambda: np.divide(buf.array, size, out=buf.array, casting="unsafe"))
    work.then(buf.write_back)
    return _finish(work, async_op, [tensor])


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy ``tensor`` of rank ``src`` into ``tensor`` on every rank (``torch.distributed.broadcast``)."""
    _check_tensor("broadcast", tensor)
    pg = _group("broadcast", group)
    if pg is None:
        return None
    root = _group_rank(pg, "broadcast", src, group_src, "src")
    debug.check(pg, "broadcast", [tensor], src=pg.ranks[root])
    buf = _Buffer(pg, tensor)
    work = pg.broadcast(buf.array, root, async_op)
    if pg.rank() != root:
        work.then(buf.write_back)
    return _finish(work, async_op, [tensor])


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce ``tensor`` across the group into ``tensor`` on rank ``dst`` (``torch.distributed.reduce``);
    other ranks' tensors are left as they were."""
    _check_tensor("reduce", tensor)
    op = _check_reduction("reduce", tensor, op)
    pg = _group("reduce", group)
    if pg is None:
        return None
    root = _group_rank(pg, "reduce", dst, group_dst, "dst")
    debug.check(pg, "reduce", [tensor], op=op.name, dst=pg.ranks[root])
    buf = _Buffer(pg, tensor, reduce_op=op)
    work = pg.reduce(buf.array, RedOpType.SUM if op is RedOpType.AVG else op, root, async_op)
    if pg.rank() == root:
        if op is RedOpType.AVG:
            size = pg.size()
            work.then(lambda: np.divide(buf.array, size, out=buf.array, casting="unsafe"))
        work.then(buf.write_back)
    return _finish(work, async_op, [tensor])


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[i]`` with rank i's ``tensor`` on every rank (``torch.distributed.all_gather``);
    ``tensor_list`` holds one tensor per rank, each of ``tensor``'s shape and dtype."""
    _check_tensor("all_gather", tensor)
    pg = _group("all_gather", group)
    if pg is None:
        return None
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != pg.size():
        raise ValueError(f"all_gather: tensor_list must be a list of {pg.size()} tensors (one per rank), got "
                         f"{len(tensor_list) if isinstance(tensor_list, (list, tuple)) else type(tensor_list).__name__}")
    _check_like("all_gather", tensor_list, tensor, "tensor_list")
    debug.check(pg, "all_gather", [tensor])
    send = _Buffer(pg, tensor)
    recv = np.empty((pg.size(),) + send.array.shape, send.array.dtype)
    work = pg.allgather(send.array, recv, async_op)

    def scatter_out():
        for i, out in enumerate(tensor_list):
            out._data[...] = out.device.xp.asarray(recv[i])
            bump_version(out)
    work.then(scatter_out)
    return _finish(work, async_op, list(tensor_list))


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Rank i's ``input_tensor`` into block i of ``output_tensor``, whose first dimension is
    ``world_size`` times the input's (or which has shape ``(world_size, *input.shape)``)."""
    _check_tensor("all_gather_into_tensor", input_tensor, "input_tensor")
    _check_tensor("all_gather_into_tensor", output_tensor, "output_tensor")
    pg = _group("all_gather_into_tensor", group)
    if pg is None:
        return None
    n = pg.size()
    shape, out_shape = tuple(input_tensor.shape), tuple(output_tensor.shape)
    stacked = (n,) + shape
    concatenated = ((shape[0] * n,) + shape[1:]) if shape else (n,)
    if out_shape not in (stacked, concatenated) or output_tensor.dtype is not input_tensor.dtype:
        raise ValueError(f"all_gather_into_tensor: output_tensor has shape {out_shape} and dtype "
                         f"{output_tensor.dtype}; expected shape {concatenated} or {stacked} and dtype "
                         f"{input_tensor.dtype}")
    debug.check(pg, "all_gather_into_tensor", [input_tensor])
    send, out = _Buffer(pg, input_tensor), _Buffer(pg, output_tensor)
    work = pg.allgather(send.array, out.array.reshape(stacked), async_op)
    work.then(out.write_back)
    return _finish(work, async_op, [output_tensor])


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Collect every rank's ``tensor`` into ``gather_list`` on rank ``dst`` (``torch.distributed.gather``);
    ``gather_list`` is required on ``dst`` (one tensor per rank) and must be None or empty elsewhere."""
    _check_tensor("gather", tensor)
    pg = _group("gather", group)
    if pg is None:
        return None
    root = _group_rank(pg, "gather", dst, group_dst, "dst", default=0)
    if pg.rank() == root:
        if not isinstance(gather_list, (list, tuple)) or len(gather_list) != pg.size():
            raise ValueError(f"gather: on the destination rank, gather_list must be a list of {pg.size()} "
                             f"tensors, got {gather_list!r:.80}")
        _check_like("gather", gather_list, tensor, "gather_list")
    elif gather_list:
        raise ValueError("gather: gather_list must be None or empty on non-destination ranks")
    debug.check(pg, "gather", [tensor], dst=pg.ranks[root])
    send = _Buffer(pg, tensor)
    recv = np.empty((pg.size(),) + send.array.shape, send.array.dtype) if pg.rank() == root else None
    work = pg.gather(send.array, recv, root, async_op)
    if recv is not None:
        def scatter_out():
            for i, out in enumerate(gather_list):
                out._data[...] = out.device.xp.asarray(recv[i])
                bump_version(out)
        work.then(scatter_out)
    return _finish(work, async_op, list(gather_list or []))


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Rank ``src``'s ``scatter_list[i]`` into ``tensor`` on rank i (``torch.distributed.scatter``);
    ``scatter_list`` is required on ``src`` and must be None or empty elsewhere."""
    _check_tensor("scatter", tensor)
    pg = _group("scatter", group)
    if pg is None:
        return None
    root = _group_rank(pg, "scatter", src, group_src, "src", default=0)
    send = None
    if pg.rank() == root:
        if not isinstance(scatter_list, (list, tuple)) or len(scatter_list) != pg.size():
            raise ValueError(f"scatter: on the source rank, scatter_list must be a list of {pg.size()} "
                             f"tensors, got {scatter_list!r:.80}")
        _check_like("scatter", scatter_list, tensor, "scatter_list")
        send = np.ascontiguousarray(np.stack([np.asarray(t._host()) for t in scatter_list]))
    elif scatter_list:
        raise ValueError("scatter: scatter_list must be None or empty on non-source ranks")
    debug.check(pg, "scatter", [tensor], src=pg.ranks[root])
    recv = _Buffer(pg, tensor)
    work = pg.scatter(send, recv.array, root, async_op)
    work.then(recv.write_back)
    return _finish(work, async_op, [tensor])


def isend(tensor, dst=None, group=None, tag: int = 0, group_dst=None) -> Work | None:
    """Send ``tensor`` to rank ``dst`` without blocking; keep ``tensor`` unchanged until the Work is done."""
    _check_tensor("isend", tensor)
    pg = _group("isend", group)
    if pg is None:
        return None
    peer = _group_rank(pg, "send", dst, group_dst, "dst")
    if peer == pg.rank():
        raise ValueError("send: Invalid destination rank: should not be the same as the rank of the current "
                         f"process ({pg.ranks[peer]})")
    buf = _Buffer(pg, tensor)
    return pg.send(buf.array, peer, int(tag))


def irecv(tensor, src=None, group=None, tag: int = 0, group_src=None) -> Work | None:
    """Receive into ``tensor`` from rank ``src`` (any rank if None) without blocking."""
    _check_tensor("irecv", tensor)
    pg = _group("irecv", group)
    if pg is None:
        return None
    peer = None if src is None and group_src is None else _group_rank(pg, "recv", src, group_src, "src")
    if peer is not None and peer == pg.rank():
        raise ValueError("recv: Invalid source rank: should not be the same as the rank of the current "
                         f"process ({pg.ranks[peer]})")
    buf = _Buffer(pg, tensor)
    work = pg.recv(buf.array, peer, int(tag))
    work._result = [tensor]
    return work.then(buf.write_back)


def send(tensor, dst=None, group=None, tag: int = 0, group_dst=None) -> None:
    """Send ``tensor`` to rank ``dst`` (``torch.distributed.send``); blocks until the buffer is free."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor, src=None, group=None, tag: int = 0, group_src=None) -> int:
    """Receive into ``tensor`` from rank ``src``, or from any rank if None; returns the sender's global rank
    (``torch.distributed.recv``)."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    return resolve(group).ranks[work.source_rank()]


def barrier(group=None, async_op=False, device_ids=None):
    """Block until every rank of the group has reached it (``torch.distributed.barrier``)."""
    pg = _group("barrier", group)
    if pg is None:
        return None
    debug.check(pg, "barrier", [])
    return _finish(pg.barrier(async_op), async_op)
