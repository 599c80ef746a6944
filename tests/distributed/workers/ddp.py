"""Checks of DistributedDataParallel, run on 2 ranks by tests/distributed/test_ddp.py.

The reference for every gradient is one process computing the loss of the whole batch (both ranks'
halves) on an unwrapped copy of the model: DDP must give each rank exactly that gradient.
"""

import numpy as np
from harness import run_checks

import ember
import ember.distributed as dist
import ember.nn as nn
import ember.nn.functional as F
from ember.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
RANK, WORLD = dist.get_rank(), dist.get_world_size()
assert WORLD == 2


def mlp(seed):
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))


def replica(model):
    """An unwrapped copy of ``model``'s current weights (a deepcopy would carry DDP's hooks along)."""
    copy = mlp(seed=0)
    copy.load_state_dict(model.state_dict())
    return copy


def batch(step=0, n=8):
    """The same global batch on every rank; rank r trains on rows r*n/2 .. (r+1)*n/2."""
    rng = np.random.default_rng(100 + step)
    x = ember.from_numpy(rng.standard_normal((n, 6)).astype(np.float32))
    y = ember.from_numpy(rng.integers(0, 3, n))
    half = n // 2
    return x, y, x[RANK * half:(RANK + 1) * half], y[RANK * half:(RANK + 1) * half]


def assert_grads_match(model, reference):
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        assert p.grad is not None, f"{name} has no grad"
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def check_construction_broadcasts_rank_0_parameters_and_buffers(rank, world):
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    ember.manual_seed(rank)
    for p in model.parameters():
        p.data.copy_(ember.randn(*p.shape))
    model[1].running_mean.copy_(ember.full((4,), float(rank)))
    DDP(model)
    everyone = [None, None]
    dist.all_gather_object(everyone, [t.tolist() for t in list(model.parameters()) + list(model.buffers())])
    assert everyone[0] == everyone[1]
    assert model[1].running_mean.tolist() == [0.0] * 4


def check_gradients_are_the_average_over_ranks_in_several_buckets(rank, world):
    model = mlp(seed=rank)  # different on each rank until DDP broadcasts rank 0's
    ddp = DDP(model, bucket_cap_mb=300 / 2 ** 20)  # ~300 bytes: several buckets
    assert len(ddp._reducer.buckets) >= 3
    reference = replica(model)
    x, y, xs, ys = batch()
    F.cross_entropy(ddp(xs), ys).backward()
    F.cross_entropy(reference(x), y).backward()
    assert_grads_match(model, reference)


def check_a_bucket_starts_before_backward_ends(rank, world):
    model = mlp(seed=0)
    ddp = DDP(model, bucket_cap_mb=300 / 2 ** 20)
    params = list(model.parameters())
    ready, launched_when = [], []
    for p in params:
        p.register_post_accumulate_grad_hook(lambda p: ready.append(p))
    pg = ddp.process_group
    original = pg.allreduce
    pg.allreduce = lambda buffer, *rest: (launched_when.append(len(ready)), original(buffer, *rest))[1]
    try:
        _, _, xs, ys = batch()
        F.cross_entropy(ddp(xs), ys).backward()
    finally:
        del pg.allreduce
    assert len(launched_when) == len(ddp._reducer.buckets)
    assert launched_when[0] < len(params), f"first all-reduce started only after all {len(params)} grads: {launched_when}"


def check_training_steps_match_one_process_with_the_whole_batch(rank, world):
    model = mlp(seed=rank)
    ddp = DDP(model)
    reference = replica(model)
    opt = ember.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    ref_opt = ember.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    for step in range(3):
        x, y, xs, ys = batch(step)
        opt.zero_grad()
        F.cross_entropy(ddp(xs), ys).backward()
        opt.step()
        ref_opt.zero_grad()
        F.cross_entropy(reference(x), y).backward()
        ref_opt.step()
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)


def check_no_sync_accumulates_locally_then_averages_everything(rank, world):
    model = mlp(seed=0)
    ddp = DDP(model)
    reference = replica(model)
    first, second = batch(1), batch(2)
    with ddp.no_sync():
        F.cross_entropy(ddp(first[2]), first[3]).backward()
    local = [p.grad.numpy().copy() for p in model.parameters()]
    everyone = [None, None]
    dist.all_gather_object(everyone, local[0].tolist())
    assert everyone[0] != everyone[1], "inside no_sync the ranks' gradients must stay local"
    F.cross_entropy(ddp(second[2]), second[3]).backward()
    F.cross_entropy(reference(first[0]), first[1]).backward()
    F.cross_entropy(reference(second[0]), second[1]).backward()
    assert_grads_match(model, reference)


class Branchy(nn.Module):
    """``unused`` never takes part; ``rank1_only`` only on rank 1."""

    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(6, 3)
        self.rank1_only = nn.Linear(6, 3)
        self.unused = nn.Linear(6, 3)

    def forward(self, x):
        out = self.trunk(x)
        return out + self.rank1_only(x) if RANK == 1 else out


def check_find_unused_parameters(rank, world):
    ember.manual_seed(0)
    model = Branchy()
    ddp = DDP(model, find_unused_parameters=True)
    _, _, xs, ys = batch()
    F.cross_entropy(ddp(xs), ys).backward()
    assert model.unused.weight.grad is None, "a parameter unused on every rank keeps its grad (None)"
    # used on rank 1 only: both ranks get rank 1's gradient / 2
    grads = [None, None]
    dist.all_gather_object(grads, model.rank1_only.weight.grad.numpy().tolist())
    assert grads[0] == grads[1]
    F.cross_entropy(ddp(xs), ys).backward()  # a second iteration works: the reduction finished


def check_unused_parameter_without_find_unused_raises_at_next_forward(rank, world):
    ember.manual_seed(0)
    ddp = DDP(Branchy())
    _, _, xs, ys = batch()
    F.cross_entropy(ddp(xs), ys).backward()
    try:
        ddp(xs)
    except RuntimeError as exc:
        assert "Expected to have finished reduction in the prior iteration" in str(exc)
        assert "find_unused_parameters=True" in str(exc)
    else:
        raise AssertionError("an unfinished reduction was not reported")


def check_gradient_as_bucket_view(rank, world):
    model = mlp(seed=0)
    ddp = DDP(model, gradient_as_bucket_view=True)
    reference = replica(model)
    x, y, xs, ys = batch()
    F.cross_entropy(ddp(xs), ys).backward()
    F.cross_entropy(reference(x), y).backward()
    assert_grads_match(model, reference)
    bucket_arrays = [b.buffer for b in ddp._reducer.buckets]
    assert all(any(np.shares_memory(p.grad._data, a) for a in bucket_arrays) for p in model.parameters())


def check_eval_forward_under_no_grad_does_not_reduce(rank, world):
    ddp = DDP(mlp(seed=0))
    with ember.no_grad():
        ddp(batch()[2])
    _, _, xs, ys = batch()
    F.cross_entropy(ddp(xs), ys).backward()


def check_different_models_on_the_ranks_are_an_error(rank, world):
    model = nn.Linear(4, 4 + rank)
    try:
        DDP(model)
    except RuntimeError as exc:
        assert "rank 1 has parameters" in str(exc), str(exc)
    else:
        raise AssertionError("different models were accepted")


def check_module_and_state_dict_keys(rank, world):
    model = mlp(seed=0)
    ddp = DDP(model)
    assert ddp.module is model
    assert list(ddp.state_dict()) == [f"module.{k}" for k in model.state_dict()]
    ddp.load_state_dict(ddp.state_dict())


run_checks(dict(globals()), RANK)
