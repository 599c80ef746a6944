"""Checks of ember.distributed's collectives, run on 3 ranks by tests/distributed/test_collectives.py."""

import os

import numpy as np
from harness import run_checks

import ember
import ember.distributed as dist

dist.init_process_group("gloo")
RANK, WORLD = dist.get_rank(), dist.get_world_size()
assert WORLD == 3, WORLD


def values(rank):
    """What rank ``rank`` contributes: distinct per rank, exact in float32."""
    return np.array([1.0, -2.0, 3.5, 0.25], np.float32) * (rank + 1) + rank


ALL = np.stack([values(r) for r in range(WORLD)])


def close(tensor, expected):
    np.testing.assert_allclose(tensor.numpy(), expected, rtol=1e-6, atol=1e-6)


def check_rank_and_world_size_come_from_mpirun(rank, world):
    assert dist.is_initialized() and dist.get_world_size() == 3 and 0 <= dist.get_rank() < 3
    assert dist.get_backend() == "gloo" and dist.is_mpi_available() and dist.is_gloo_available()


def check_init_twice_raises(rank, world):
    try:
        dist.init_process_group("mpi")
    except RuntimeError as exc:
        assert "twice" in str(exc)
    else:
        raise AssertionError("second init_process_group did not raise")


def check_all_reduce_ops(rank, world):
    expected = {dist.ReduceOp.SUM: ALL.sum(0), dist.ReduceOp.AVG: ALL.sum(0) / 3, dist.ReduceOp.MAX: ALL.max(0),
                dist.ReduceOp.MIN: ALL.min(0), dist.ReduceOp.PRODUCT: ALL.prod(0)}
    for op, want in expected.items():
        t = ember.from_numpy(values(rank).copy())
        assert dist.all_reduce(t, op=op) is None
        close(t, want)


def check_all_reduce_is_in_place_and_zero_copy(rank, world):
    t = ember.from_numpy(values(rank).copy())
    array, version = t._data, t._version
    seen = []
    pg = dist.group.WORLD
    original = pg.allreduce
    pg.allreduce = lambda buffer, *rest: (seen.append(buffer is array), original(buffer, *rest))[1]
    try:
        dist.all_reduce(t)
    finally:
        del pg.allreduce
    assert seen == [True], "the tensor's own array was not handed to MPI"
    assert t._data is array and t._version == version + 1
    close(t, ALL.sum(0))


def check_all_reduce_non_contiguous_and_integer_and_bool(rank, world):
    base = ember.from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3) * (rank + 1))
    view = base.t()
    dist.all_reduce(view)
    close(base, np.arange(6, dtype=np.float32).reshape(2, 3) * 6)
    ints = ember.tensor([rank, 10 * rank], dtype=ember.int64)
    dist.all_reduce(ints, op=dist.ReduceOp.MAX)
    assert ints.tolist() == [2, 20]
    flags = ember.tensor([rank == 1, False])
    dist.all_reduce(flags)
    assert flags.tolist() == [True, False]
    half = ember.tensor([0.5, 1.0], dtype=ember.float16)
    dist.all_reduce(half)
    assert half.dtype is ember.float16 and half.tolist() == [1.5, 3.0]


def check_avg_of_integers_is_a_type_error(rank, world):
    try:
        dist.all_reduce(ember.tensor([1, 2]), op=dist.ReduceOp.AVG)
    except TypeError as exc:
        assert "AVG" in str(exc) and "int64" in str(exc)
    else:
        raise AssertionError("AVG on int64 did not raise")


def check_broadcast_from_rank_2(rank, world):
    t = ember.from_numpy(values(rank).copy())
    dist.broadcast(t, src=2)
    close(t, values(2))


def check_reduce_to_rank_1(rank, world):
    t = ember.from_numpy(values(rank).copy())
    dist.reduce(t, dst=1, op=dist.ReduceOp.SUM)
    close(t, ALL.sum(0) if rank == 1 else values(rank))


def check_all_gather_and_into_tensor(rank, world):
    out = [ember.zeros(4) for _ in range(3)]
    dist.all_gather(out, ember.from_numpy(values(rank)))
    for r in range(3):
        close(out[r], values(r))
    flat = ember.zeros(12)
    dist.all_gather_into_tensor(flat, ember.from_numpy(values(rank)))
    close(flat, ALL.reshape(-1))


def check_gather_and_scatter(rank, world):
    gathered = [ember.zeros(4) for _ in range(3)] if rank == 0 else None
    dist.gather(ember.from_numpy(values(rank)), gathered, dst=0)
    if rank == 0:
        for r in range(3):
            close(gathered[r], values(r))
    received = ember.zeros(4)
    parts = [ember.from_numpy(values(r) * 10) for r in range(3)] if rank == 2 else None
    dist.scatter(received, parts, src=2)
    close(received, values(rank) * 10)


def check_send_recv_ring(rank, world):
    right, left = (rank + 1) % 3, (rank - 1) % 3
    outgoing = ember.from_numpy(values(rank))
    incoming = ember.zeros(4)
    if rank % 2 == 0:
        dist.send(outgoing, right)
        source = dist.recv(incoming, left)
    else:
        source = dist.recv(incoming)  # any source
        dist.send(outgoing, right)
    assert source == left, source
    close(incoming, values(left))


def check_async_op_returns_work(rank, world):
    t = ember.from_numpy(values(rank).copy())
    work = dist.all_reduce(t, async_op=True)
    assert isinstance(work, dist.Work)
    assert work.wait() is True and work.is_completed() and work.is_success()
    close(work.result()[0], ALL.sum(0))
    request = dist.irecv(ember.zeros(1), src=(rank - 1) % 3)
    dist.isend(ember.tensor([float(rank)]), dst=(rank + 1) % 3).wait()
    request.wait()
    assert request.result()[0].item() == (rank - 1) % 3


def check_object_collectives(rank, world):
    gathered = [None] * 3
    dist.all_gather_object(gathered, {"rank": rank, "name": "r" * rank})
    assert gathered == [{"rank": r, "name": "r" * r} for r in range(3)]
    objects = [{"lr": 0.1}, "text", 7] if rank == 1 else [None, None, None]
    dist.broadcast_object_list(objects, src=1)
    assert objects == [{"lr": 0.1}, "text", 7]
    out = [None]
    dist.scatter_object_list(out, [f"to {r}" for r in range(3)] if rank == 0 else None, src=0)
    assert out == [f"to {rank}"]


def check_new_group_of_ranks_0_and_2(rank, world):
    group = dist.new_group([0, 2])
    if rank == 1:
        assert group is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(group) == -1
        return
    assert dist.get_world_size(group) == 2 and dist.get_rank(group) == rank // 2
    assert dist.get_process_group_ranks(group) == [0, 2]
    t = ember.from_numpy(values(rank).copy())
    dist.all_reduce(t, group=group)
    close(t, values(0) + values(2))
    t = ember.from_numpy(values(rank).copy())
    dist.broadcast(t, src=2, group=group)  # src is a global rank, as in PyTorch
    close(t, values(2))
    try:
        dist.broadcast(t, src=1, group=group)
    except ValueError as exc:
        assert "not a member" in str(exc)
    else:
        raise AssertionError("src outside the group did not raise")


def check_barrier(rank, world):
    assert dist.barrier() is None
    assert dist.barrier(async_op=True).wait()


def check_debug_mode_names_the_mismatched_op_and_ranks(rank, world):
    os.environ["EMBER_DISTRIBUTED_DEBUG"] = "1"
    try:
        if rank == 1:
            dist.broadcast(ember.zeros(4), src=0)
        else:
            dist.all_reduce(ember.zeros(4))
    except dist.CollectiveMismatchError as exc:
        message = str(exc)
    else:
        raise AssertionError("mismatched collectives were not detected")
    finally:
        del os.environ["EMBER_DISTRIBUTED_DEBUG"]
    assert "ranks 0, 2 called all_reduce(shape=[4], dtype=ember.float32, op=SUM)" in message, message
    assert "rank 1 called broadcast(shape=[4], dtype=ember.float32, src=0)" in message, message


def check_debug_mode_names_mismatched_shapes(rank, world):
    os.environ["EMBER_DISTRIBUTED_DEBUG"] = "1"
    try:
        dist.all_reduce(ember.zeros(3 if rank == 2 else 4))
    except dist.CollectiveMismatchError as exc:
        message = str(exc)
    else:
        raise AssertionError("mismatched shapes were not detected")
    finally:
        del os.environ["EMBER_DISTRIBUTED_DEBUG"]
    assert "rank 2 called all_reduce(shape=[3]" in message and "ranks 0, 1 called all_reduce(shape=[4]" in message


def check_debug_mode_passes_matching_collectives(rank, world):
    os.environ["TORCH_DISTRIBUTED_DEBUG"] = "DETAIL"
    try:
        t = ember.from_numpy(values(rank).copy())
        dist.all_reduce(t)
        close(t, ALL.sum(0))
    finally:
        del os.environ["TORCH_DISTRIBUTED_DEBUG"]


def check_destroy_process_group(rank, world):
    dist.destroy_process_group()
    assert not dist.is_initialized()
    try:
        dist.get_rank()
    except ValueError as exc:
        assert "init_process_group" in str(exc)
    else:
        raise AssertionError("get_rank after destroy did not raise")


run_checks(dict(globals()), RANK)
