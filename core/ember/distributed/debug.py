"""Debug mode: before each collective, every rank of the group compares what it is about to run.

``EMBER_DISTRIBUTED_DEBUG=1`` (or PyTorch's ``TORCH_DISTRIBUTED_DEBUG=DETAIL``) turns it on. Each rank
shares a fingerprint (a per-group sequence number, the op, its tensors' shapes and dtypes, its root or
reduction) with the others; when they differ, every rank raises a :class:`CollectiveMismatchError`
naming the op each rank called, instead of exchanging mismatched buffers (which MPI may turn into a
hang, a truncation error or silently wrong values). It costs two small collectives per op.
"""

from __future__ import annotations

import os

import numpy as np

from .backend import DistError

__all__ = ["CollectiveMismatchError", "enabled", "check"]


class CollectiveMismatchError(DistError):
    """Ranks of a group called different collectives, or the same one with different shapes or dtypes."""


def enabled() -> bool:
    flag = os.environ.get("EMBER_DISTRIBUTED_DEBUG", "").strip().lower()
    if flag not in ("", "0", "false", "no", "off"):
        return True
    return os.environ.get("TORCH_DISTRIBUTED_DEBUG", "").strip().upper() == "DETAIL"


def _describe(fingerprint) -> str:
    seq, op_name, tensors, extra = fingerprint
    parts = [f"shape={list(shape)}, dtype={dtype}" for shape, dtype in tensors]
    parts += [f"{key}={value}" for key, value in extra]
    return f"{op_name}({', '.join(parts)}) [collective #{seq}]"


def _allgather_bytes(pg, payload: bytes) -> list[bytes]:
    size = pg.size()
    lengths = np.zeros((size, 1), np.int64)
    pg.allgather(np.array([len(payload)], np.int64), lengths, async_op=False).wait()
    width = int(lengths.max())
    mine = np.zeros(width, np.uint8)
    mine[:len(payload)] = np.frombuffer(payload, np.uint8)
    everyone = np.zeros((size, width), np.uint8)
    pg.allgather(mine, everyone, async_op=False).wait()
    return [everyone[i, :int(lengths[i, 0])].tobytes() for i in range(size)]


def check(pg, op_name: str, tensors, **extra) -> None:
    """In debug mode, raise CollectiveMismatchError on every rank unless all ranks of ``pg`` are about to
    run the same collective on tensors of the same shapes and dtypes."""
    if not enabled():
        return
    seq = getattr(pg, "_debug_sequence", 0) + 1
    pg._debug_sequence = seq
    mine = _describe((seq, op_name, [(tuple(t.shape), str(t.dtype)) for t in tensors], sorted(extra.items())))
    prints = [raw.decode() for raw in _allgather_bytes(pg, mine.encode())]
    if all(p == prints[0] for p in prints):
        return
    by_call = {}
    for group_rank, call in enumerate(prints):
        by_call.setdefault(call, []).append(pg.ranks[group_rank])
    calls = "; ".join(f"rank{'s' if len(r) > 1 else ''} {', '.join(map(str, r))} called {call}"
                      for call, r in by_call.items())
    raise CollectiveMismatchError(
        f"Detected mismatch between collectives on ranks (EMBER_DISTRIBUTED_DEBUG): {calls}. Every rank of "
        f"the group must call the same collectives, in the same order, with tensors of the same shapes and dtypes")
