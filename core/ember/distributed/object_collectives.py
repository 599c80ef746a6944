"""Collectives on picklable Python objects (``all_gather_object``, ``broadcast_object_list``, ...).

As in PyTorch, objects travel pickled: only use them between ranks of one job, which trust each other
(unpickling runs code). Each op is a collective: every rank of the group must call it.
"""

from __future__ import annotations

import pickle

import numpy as np

from . import debug
from .collectives import _group, _group_rank

__all__ = ["all_gather_object", "broadcast_object_list", "gather_object", "scatter_object_list"]


def _encode(obj) -> np.ndarray:
    return np.frombuffer(pickle.dumps(obj), np.uint8)


def _decode(array: np.ndarray):
    return pickle.loads(array.tobytes())  # noqa: S301 - peers of one job, as torch.distributed does


def _allgather_arrays(pg, payload: np.ndarray) -> list[np.ndarray]:
    lengths = np.zeros((pg.size(), 1), np.int64)
    pg.allgather(np.array([payload.size], np.int64), lengths, async_op=False).wait()
    width = int(lengths.max())
    padded = np.zeros(width, np.uint8)
    padded[:payload.size] = payload
    everyone = np.zeros((pg.size(), width), np.uint8)
    pg.allgather(padded, everyone, async_op=False).wait()
    return [everyone[i, :int(lengths[i, 0])] for i in range(pg.size())]


def _check_list(op_name, value, size, what):
    if not isinstance(value, list) or len(value) != size:
        raise ValueError(f"{op_name}: {what} must be a list of length {size} (the group size), got "
                         f"{type(value).__name__}" + (f" of length {len(value)}" if isinstance(value, list) else ""))


def all_gather_object(object_list: list, obj, group=None) -> None:
    """Fill ``object_list[i]`` with rank i's ``obj`` on every rank (``torch.distributed.all_gather_object``)."""
    pg = _group("all_gather_object", group)
    if pg is None:
        return
    _check_list("all_gather_object", object_list, pg.size(), "object_list")
    debug.check(pg, "all_gather_object", [])
    for i, raw in enumerate(_allgather_arrays(pg, _encode(obj))):
        object_list[i] = _decode(raw)


def broadcast_object_list(object_list: list, src=None, group=None, device=None, group_src=None) -> None:
    """Replace ``object_list``'s items on every rank with those of rank ``src`` (default 0); the lists must
    have the same length everywhere (``torch.distributed.broadcast_object_list``)."""
    pg = _group("broadcast_object_list", group)
    if pg is None:
        return
    root = _group_rank(pg, "broadcast_object_list", src, group_src, "src", default=0)
    debug.check(pg, "broadcast_object_list", [], src=pg.ranks[root], length=len(object_list))
    length = np.array([0], np.int64)
    payload = _encode(list(object_list)) if pg.rank() == root else None
    if payload is not None:
        length[0] = payload.size
    pg.broadcast(length, root, async_op=False).wait()
    if payload is None:
        payload = np.empty(int(length[0]), np.uint8)
    pg.broadcast(payload, root, async_op=False).wait()
    if pg.rank() != root:
        received = _decode(payload)
        if len(received) != len(object_list):
            raise ValueError(f"broadcast_object_list: rank {pg.ranks[root]} sent {len(received)} objects but this "
                             f"rank's object_list has {len(object_list)}")
        object_list[:] = received


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None) -> None:
    """Collect every rank's ``obj`` into ``object_gather_list`` on rank ``dst`` (default 0)."""
    pg = _group("gather_object", group)
    if pg is None:
        return
    root = _group_rank(pg, "gather_object", dst, group_dst, "dst", default=0)
    if pg.rank() == root:
        _check_list("gather_object", object_gather_list, pg.size(), "object_gather_list")
    debug.check(pg, "gather_object", [], dst=pg.ranks[root])
    for i, raw in enumerate(_allgather_arrays(pg, _encode(obj))):  # objects are small: one allgather
        if pg.rank() == root:
            object_gather_list[i] = _decode(raw)


def scatter_object_list(scatter_object_output_list: list, scatter_object_input_list=None, src=None, group=None,
                        group_src=None) -> None:
    """Rank ``src``'s ``scatter_object_input_list[i]`` into ``scatter_object_output_list[0]`` on rank i."""
    pg = _group("scatter_object_list", group)
    if pg is None:
        return
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("scatter_object_list: scatter_object_output_list must be a list with at least one item")
    root = _group_rank(pg, "scatter_object_list", src, group_src, "src", default=0)
    items = [None] * pg.size()
    if pg.rank() == root:
        _check_list("scatter_object_list", scatter_object_input_list, pg.size(), "scatter_object_input_list")
        items = list(scatter_object_input_list)
    holder = [items]
    broadcast_object_list(holder, src=pg.ranks[root], group=group)
    scatter_object_output_list[0] = holder[0][pg.rank()]
