"""DistributedSampler against torch.utils.data.distributed.DistributedSampler (no MPI needed)."""

import pytest

from ember.utils.data import DistributedSampler
from ember.utils.data.distributed import DistributedSampler as FromModule

CASES = [(10, 3, False), (10, 3, True), (2, 5, False), (7, 2, False), (7, 2, True), (12, 4, True), (1, 3, False)]


@pytest.mark.parametrize("n, replicas, drop_last", CASES)
def test_unshuffled_shares_padding_and_lengths_match_torch(torch, n, replicas, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert (len(ours), ours.num_samples, ours.total_size) == (len(theirs), theirs.num_samples, theirs.total_size)


def test_shuffled_shares_partition_one_permutation_the_same_on_every_rank():
    shares = [list(DistributedSampler(range(10), 2, rank, seed=3)) for rank in range(2)]
    assert sorted(shares[0] + shares[1]) == list(range(10))
    whole = list(DistributedSampler(range(10), 1, 0, seed=3))
    assert shares[0] == whole[0::2] and shares[1] == whole[1::2]


def test_set_epoch_changes_the_order_and_the_same_epoch_repeats_it():
    sampler = DistributedSampler(range(50), 2, 0, seed=0)
    first = list(sampler)
    assert list(sampler) == first
    sampler.set_epoch(1)
    assert sampler.epoch == 1 and list(sampler) != first
    sampler.set_epoch(0)
    assert list(sampler) == first


def test_seed_changes_the_order():
    assert list(DistributedSampler(range(50), 2, 1, seed=0)) != list(DistributedSampler(range(50), 2, 1, seed=1))


def test_shuffled_padding_repeats_the_first_indices_of_the_permutation():
    whole = list(DistributedSampler(range(7), 1, 0, seed=5))
    padded = [i for share in zip(*(DistributedSampler(range(7), 3, r, seed=5) for r in range(3))) for i in share]
    assert padded == whole + whole[:2]


@pytest.mark.parametrize("rank", [-1, 2])
def test_rank_outside_the_replicas_is_a_value_error_as_in_torch(torch, rank):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    with pytest.raises(ValueError) as theirs:
        TorchSampler(range(4), 2, rank)
    with pytest.raises(ValueError) as ours:
        DistributedSampler(range(4), 2, rank)
    assert str(ours.value) == str(theirs.value)


def test_defaults_need_an_initialized_process_group():
    with pytest.raises(RuntimeError, match="init_process_group|distributed package to be available"):
        DistributedSampler(range(4))


def test_it_is_exported_where_torch_has_it():
    assert FromModule is DistributedSampler
