"""ember.distributed and DDP take PyTorch's arguments, in PyTorch's order, with its defaults."""

import inspect

import pytest

import ember.distributed as dist
from ember.nn.parallel import DistributedDataParallel

FUNCTIONS = ["init_process_group", "destroy_process_group", "is_initialized", "get_rank", "get_world_size",
             "all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor", "gather", "scatter",
             "send", "recv", "isend", "irecv", "barrier", "all_gather_object", "broadcast_object_list",
             "gather_object", "scatter_object_list", "new_group", "get_process_group_ranks"]
# torch-only trailing arguments ember does not take: private ones, and collective timeouts / rank sorting
TORCH_ONLY = {"_ranks", "timeout", "sort_ranks"}


def _parameters(fn):
    return [(name, p.default) for name, p in inspect.signature(fn).parameters.items()]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_signature_matches_torch(torch, name):
    theirs = getattr(torch.distributed, name)
    ours = getattr(dist, name)
    ours_params = _parameters(ours)
    ours_names = {n for n, _ in ours_params}
    assert ours_params == [(n, d) for n, d in _parameters(theirs) if n not in TORCH_ONLY or n in ours_names]


def test_ddp_signature_matches_torch(torch):
    assert _parameters(DistributedDataParallel.__init__) == _parameters(torch.nn.parallel.DistributedDataParallel.__init__)


def test_ddp_is_where_torch_has_it():
    import ember
    assert ember.nn.parallel.DistributedDataParallel is DistributedDataParallel
