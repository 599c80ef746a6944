"""Data sets and samplers beside torch.utils.data's: the same samples, sizes, container types and
exception classes; where the random streams differ, the same distributions."""

import collections
import warnings

import numpy as np
import pytest

import ember
from ember.utils.data import (ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset, StackDataset,
                              Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler, random_split)


class Counting(IterableDataset):
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start


def raised(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the class is what is compared
        return type(exc)
    return None


def same_class(ours, theirs):
    """ember's exception is an instance of torch's class (a subclass is fine), or neither raises."""
    ours, theirs = raised(ours), raised(theirs)
    assert (ours is None) == (theirs is None), (ours, theirs)
    assert theirs is None or issubclass(ours, theirs), (ours, theirs)


def test_stack_dataset_gives_tuples_or_dicts_as_torch_does(torch):
    td = torch.utils.data
    a, b = list(range(5)), [f"s{i}" for i in range(5)]
    assert [StackDataset(a, b)[i] for i in range(5)] == [td.StackDataset(a, b)[i] for i in range(5)]
    assert [StackDataset(x=a, y=b)[i] for i in range(5)] == [td.StackDataset(x=a, y=b)[i] for i in range(5)]
    assert StackDataset(a, Subset(b, range(5))).__getitems__([3, 1]) == td.StackDataset(
        a, td.Subset(b, range(5))).__getitems__([3, 1])
    assert len(StackDataset(x=a, y=b)) == 5
    for args, kwargs in [((a, b[:4]), {}), ((), {}), ((a,), {"y": b})]:
        same_class(lambda: StackDataset(*args, **kwargs), lambda: td.StackDataset(*args, **kwargs))


def test_a_stack_dataset_batches_through_the_dataloader_as_dicts():
    data = StackDataset(x=TensorDataset(ember.arange(6).float()), label=[f"l{i}" for i in range(6)])
    batch = next(iter(DataLoader(data, batch_size=3)))
    assert batch["x"][0].tolist() == [0.0, 1.0, 2.0] and batch["label"] == ["l0", "l1", "l2"]


def torch_counting(torch):
    """``Counting`` for torch: the same stream as a torch IterableDataset."""
    return type("TorchCounting", (torch.utils.data.IterableDataset,), {
        "__init__": Counting.__init__, "__iter__": Counting.__iter__, "__len__": Counting.__len__})


def test_chain_dataset_streams_one_dataset_after_another_as_torch_does(torch):
    td = torch.utils.data
    TorchCounting = torch_counting(torch)
    ours = ChainDataset([Counting(0, 3), Counting(10, 12)])
    theirs = td.ChainDataset([TorchCounting(0, 3), TorchCounting(10, 12)])
    assert list(ours) == list(theirs) and len(ours) == len(theirs) == 5
    added = Counting(0, 2) + Counting(5, 6)
    assert isinstance(added, ChainDataset) and list(added) == [0, 1, 5]
    assert isinstance(TorchCounting(0, 2) + TorchCounting(5, 6), td.ChainDataset)
    same_class(lambda: list(ChainDataset([Counting(0, 1), [1, 2]])), lambda: list(td.ChainDataset([TorchCounting(0, 1), [1, 2]])))
    batches = [b.tolist() for b in DataLoader(ours, batch_size=2)]
    assert batches == [[0, 1], [2, 10], [11]]


def test_concat_dataset_refuses_what_torch_refuses_with_the_same_classes(torch):
    td = torch.utils.data
    ours, theirs = ConcatDataset([[1, 2], [3]]), td.ConcatDataset([[1, 2], [3]])
    assert [ours[i] for i in range(-3, 3)] == [theirs[i] for i in range(-3, 3)]
    for index in (3, -4):
        same_class(lambda: ours[index], lambda: theirs[index])
    same_class(lambda: ConcatDataset([]), lambda: td.ConcatDataset([]))
    same_class(lambda: ConcatDataset([Counting(0, 1)]), lambda: td.ConcatDataset([torch_counting(torch)(0, 1)]))
    assert isinstance(Subset([1, 2], [0]) + Subset([3], [0]), ConcatDataset)


def test_tensor_dataset_size_mismatch_is_an_assertion_error_as_in_torch(torch):
    same_class(lambda: TensorDataset(ember.zeros(3), ember.zeros(4)),
               lambda: torch.utils.data.TensorDataset(torch.zeros(3), torch.zeros(4)))


@pytest.mark.parametrize("n,lengths", [(10, [0.8, 0.2]), (10, [0.34, 0.33, 0.33]), (7, [0.5, 0.5]), (5, [1, 0]),
                                       (3, [0.1, 0.1, 0.8]), (10, [3, 7]), (1, [0.5, 0.5])])
def test_random_split_sizes_match_torch(torch, n, lengths):
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        ours = random_split(range(n), lengths, generator=ember.Generator().manual_seed(0))
    with warnings.catch_warnings(record=True) as theirs_warned:
        warnings.simplefilter("always")
        theirs = torch.utils.data.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in ours] == [len(p) for p in theirs]
    assert len(ours_warned) == len(theirs_warned)
    assert sorted(i for p in ours for i in p.indices) == list(range(n))
    assert all(isinstance(p.indices, list) for p in ours)


@pytest.mark.parametrize("lengths", [[3, 3], [1.5, -0.5], [0.5, 0.4]])
def test_random_split_refuses_what_torch_refuses(torch, lengths):
    same_class(lambda: random_split(range(10), lengths), lambda: torch.utils.data.random_split(range(10), lengths))


def test_random_split_draws_every_permutation_evenly():
    firsts = collections.Counter(random_split(range(4), [1, 3])[0].indices[0] for _ in range(4000))
    assert sorted(firsts) == [0, 1, 2, 3]
    assert all(abs(count / 4000 - 0.25) < 0.04 for count in firsts.values())


def test_subset_keeps_its_indices_as_given_and_reads_batches_like_torch(torch):
    td = torch.utils.data
    base = [10 * i for i in range(8)]
    ours, theirs = Subset(base, range(2, 6)), td.Subset(base, range(2, 6))
    assert type(ours.indices) is type(theirs.indices)
    assert ours.__getitems__([0, 3]) == theirs.__getitems__([0, 3])

    class Doubled(Subset):
        def __getitem__(self, i):
            return 2 * super().__getitem__(i)

    class TorchDoubled(td.Subset):
        def __getitem__(self, i):
            return 2 * super().__getitem__(i)

    same_class(lambda: Doubled(base, [0]), lambda: TorchDoubled(base, [0]))


WEIGHT_CASES = [([1, -1], 2, True), ([0, 0], 2, True), ([1, float("inf")], 2, True), ([1, float("nan")], 1, True),
                ([1, 1], 3, False), ([1, 0, 0], 2, False), ([[1, 2]], 1, True), ([1, 2], 0, True),
                ([1, 2], 2, 1), ([1, 2], 2.0, True)]


@pytest.mark.parametrize("weights,num_samples,replacement", WEIGHT_CASES)
def test_weighted_random_sampler_refuses_what_torch_refuses(torch, weights, num_samples, replacement):
    td = torch.utils.data
    same_class(lambda: list(WeightedRandomSampler(weights, num_samples, replacement)),
               lambda: list(td.WeightedRandomSampler(weights, num_samples, replacement)))


def frequencies(draws, size):
    counts = np.bincount(np.asarray(draws).ravel(), minlength=size)
    return counts / counts.sum()


@pytest.mark.parametrize("replacement", [True, False])
def test_weighted_random_sampler_draws_with_torchs_distribution(torch, replacement):
    weights = [1.0, 2.0, 3.0, 4.0, 0.0]
    torch.manual_seed(0)
    ember.manual_seed(0)
    ours = WeightedRandomSampler(weights, 2, replacement, generator=ember.Generator().manual_seed(1))
    theirs = torch.utils.data.WeightedRandomSampler(weights, 2, replacement)
    ours_draws = [list(ours) for _ in range(6000)]
    theirs_draws = [list(theirs) for _ in range(6000)]
    np.testing.assert_allclose(frequencies(ours_draws, 5), frequencies(theirs_draws, 5), atol=0.02)
    first = frequencies([d[0] for d in ours_draws], 5)
    np.testing.assert_allclose(first, np.array(weights) / sum(weights), atol=0.02)
    if not replacement:
        assert all(a != b for a, b in ours_draws)
    assert ours.weights.dtype is ember.float64 and tuple(ours.weights.shape) == (5,)


def test_weighted_random_sampler_without_replacement_takes_zero_weights_last():
    draws = list(WeightedRandomSampler([0, 3, 0, 5], 4, replacement=False))
    assert sorted(draws[:2]) == [1, 3] and sorted(draws[2:]) == [0, 2]


def test_weighted_random_sampler_follows_the_default_seed():
    sampler = WeightedRandomSampler([1, 2, 3], 10)
    ember.manual_seed(5)
    first = list(sampler)
    ember.manual_seed(5)
    assert list(sampler) == first


def test_subset_random_sampler_permutes_the_indices_as_given(torch):
    indices = range(10, 20)
    ours = SubsetRandomSampler(indices, generator=ember.Generator().manual_seed(0))
    theirs = torch.utils.data.SubsetRandomSampler(indices)
    assert sorted(ours) == sorted(theirs) == list(indices)
    assert type(ours.indices) is type(theirs.indices) and len(ours) == len(theirs)
    again = SubsetRandomSampler(indices, generator=ember.Generator().manual_seed(0))
    assert list(SubsetRandomSampler(indices, generator=ember.Generator().manual_seed(0))) == list(again)


class _Info(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        from ember.utils.data import get_worker_info
        info = get_worker_info()
        try:
            info.id = 7
            assignable = True
        except RuntimeError:
            assignable = False
        return np.array([info.id, info.num_workers, info.seed % 1000, info.dataset is self, assignable])


def test_get_worker_info_in_workers_is_read_only_as_in_torch():
    from ember.utils.data import get_worker_info
    assert get_worker_info() is None
    rows = [b.tolist() for b in DataLoader(_Info(), batch_size=None, num_workers=2)]
    assert sorted({row[0] for row in rows}) == [0, 1]
    assert all(row[1] == 2 and row[3] == 1 and row[4] == 0 for row in rows)
