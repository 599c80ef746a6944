"""ember.utils.data against torch.utils.data: data sets, samplers, collation, and the DataLoader."""

import gc

import numpy as np
import pytest

import ember
from ember.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                              SequentialSampler, Subset, TensorDataset, WeightedRandomSampler, default_collate,
                              get_worker_info, random_split)


def _dataset(n=23):
    return TensorDataset(ember.arange(n * 2).float().reshape(n, 2), ember.arange(n))


def _as_lists(batches):
    return [[t.tolist() for t in batch] for batch in batches]


def test_tensor_dataset_indexes_every_tensor_along_the_first_dimension():
    ds = _dataset(5)
    x, y = ds[3]
    assert len(ds) == 5 and x.tolist() == [6.0, 7.0] and y.item() == 3


def test_tensor_dataset_rejects_tensors_of_different_lengths():
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(ember.zeros(3, 2), ember.zeros(4))


def test_subset_and_concat_dataset_index_like_torch(torch):
    tdata = torch.utils.data
    base = list(range(10))
    sub, tsub = Subset(base, [7, 2, 5]), tdata.Subset(base, [7, 2, 5])
    assert [sub[i] for i in range(len(sub))] == [tsub[i] for i in range(len(tsub))]
    cat, tcat = ConcatDataset([sub, Subset(base, [0, 1])]), tdata.ConcatDataset([tsub, tdata.Subset(base, [0, 1])])
    assert len(cat) == len(tcat) and [cat[i] for i in range(-5, 5)] == [tcat[i] for i in range(-5, 5)]
    with pytest.raises(IndexError):
        cat[5]


@pytest.mark.parametrize("lengths", [[0.8, 0.2], [0.34, 0.33, 0.33], [3, 7]])
def test_random_split_sizes_match_torch_and_cover_the_data_once(torch, lengths):
    tdata = torch.utils.data
    parts = random_split(range(10), lengths, generator=ember.Generator().manual_seed(0))
    tparts = tdata.random_split(range(10), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [len(p) for p in tparts]
    assert sorted(i for p in parts for i in p.indices) == list(range(10))


def test_random_split_is_reproducible_with_a_seeded_generator():
    a = random_split(range(50), [0.5, 0.5], generator=ember.Generator().manual_seed(3))
    b = random_split(range(50), [0.5, 0.5], generator=ember.Generator().manual_seed(3))
    c = random_split(range(50), [0.5, 0.5], generator=ember.Generator().manual_seed(4))
    assert a[0].indices == b[0].indices != c[0].indices


def test_random_split_rejects_lengths_that_do_not_sum_to_the_data_set():
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(range(10), [3, 3])


def test_samplers_produce_the_index_streams_torch_does(torch):
    tdata = torch.utils.data
    assert list(SequentialSampler(range(4))) == list(tdata.SequentialSampler(range(4)))
    perm = list(RandomSampler(range(20), generator=ember.Generator().manual_seed(1)))
    assert sorted(perm) == list(range(20))
    for drop_last in (False, True):
        ours = list(BatchSampler(SequentialSampler(range(10)), 3, drop_last))
        theirs = list(tdata.BatchSampler(tdata.SequentialSampler(range(10)), 3, drop_last))
        assert ours == theirs and len(BatchSampler(range(10), 3, drop_last)) == len(theirs)


def test_random_sampler_with_replacement_draws_num_samples_in_range():
    draws = list(RandomSampler(range(5), replacement=True, num_samples=70, generator=ember.Generator().manual_seed(0)))
    assert len(draws) == 70 and set(draws) <= set(range(5))


def test_random_sampler_follows_the_default_seed_without_a_generator():
    ember.manual_seed(5)
    a = list(RandomSampler(range(30)))
    ember.manual_seed(5)
    assert list(RandomSampler(range(30))) == a


def test_weighted_random_sampler_never_draws_zero_weights():
    draws = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200, generator=ember.Generator().manual_seed(0)))
    assert set(draws) == {1, 3} and draws.count(3) > draws.count(1)


def test_weighted_random_sampler_without_replacement_draws_distinct_indices():
    draws = list(WeightedRandomSampler([1, 2, 3, 4, 5], 5, replacement=False, generator=ember.Generator().manual_seed(0)))
    assert sorted(draws) == [0, 1, 2, 3, 4]


def test_default_collate_matches_torch_on_tensors_arrays_numbers_dicts_tuples_and_strings(torch):
    tdata = torch.utils.data
    samples = [{"x": np.full((2,), i, np.float32), "n": i, "f": i / 2, "s": f"s{i}", "pair": (i, float(i))}
               for i in range(3)]
    ours, theirs = default_collate(samples), tdata.default_collate(samples)
    assert ours.keys() == theirs.keys()
    assert ours["s"] == theirs["s"]
    for key in ("x", "n", "f"):
        assert ours[key].tolist() == theirs[key].tolist()
        assert str(ours[key].dtype).split(".")[-1] == str(theirs[key].dtype).split(".")[-1]
    assert [t.tolist() for t in ours["pair"]] == [t.tolist() for t in theirs["pair"]]
    stacked = default_collate([ember.ones(2, 3), ember.zeros(2, 3)])
    assert stacked.shape == (2, 2, 3)


def test_default_collate_rejects_tensors_of_different_shapes():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([ember.ones(2), ember.ones(3)])


@pytest.mark.parametrize("batch_size,drop_last", [(4, False), (4, True), (23, False), (50, False)])
def test_dataloader_batches_like_torch(torch, batch_size, drop_last):
    tdata = torch.utils.data
    ds = _dataset()
    tds = tdata.TensorDataset(torch.arange(46).float().reshape(23, 2), torch.arange(23))
    ours = _as_lists(DataLoader(ds, batch_size=batch_size, drop_last=drop_last))
    theirs = _as_lists(tdata.DataLoader(tds, batch_size=batch_size, drop_last=drop_last))
    assert ours == theirs
    assert len(DataLoader(ds, batch_size=batch_size, drop_last=drop_last)) == len(theirs)


def test_a_tensor_dataset_batch_is_what_default_collate_makes_of_its_samples():
    """The loader indexes a TensorDataset's tensors once per batch: same values, dtypes, shapes and list
    type as default_collate over the samples (which PyTorch's loader calls)."""
    ds = TensorDataset(ember.randn(23, 1, 3, 3), ember.arange(23), ember.rand(23) > 0.5)
    index_lists = [[4, 0, 22], [7], [3, 3, 10, 1]]
    batches = list(DataLoader(ds, batch_sampler=index_lists))
    for batch, index in zip(batches, index_lists):
        want = default_collate([ds[i] for i in index])
        assert type(batch) is list and len(batch) == 3
        for got, expected in zip(batch, want):
            assert got.dtype == expected.dtype and got.shape == expected.shape
            assert got.tolist() == expected.tolist()
    shuffled = DataLoader(ds, batch_size=5, shuffle=True, generator=ember.Generator().manual_seed(3))
    per_sample = DataLoader(ds, batch_size=5, shuffle=True, generator=ember.Generator().manual_seed(3),
                            collate_fn=lambda samples: default_collate(samples))  # not default_collate itself
    assert _as_lists(shuffled) == _as_lists(per_sample)


def test_a_tensor_dataset_subclass_keeps_its_own_getitem():
    class Doubled(TensorDataset):
        def __getitem__(self, index):
            x, y = super().__getitem__(index)
            return x * 2, y

    batch = next(iter(DataLoader(Doubled(ember.arange(6).float(), ember.arange(6)), batch_size=3)))
    assert batch[0].tolist() == [0.0, 2.0, 4.0] and batch[1].tolist() == [0, 1, 2]


def test_a_tensor_dataset_batch_carries_the_gradient_back_like_stacked_samples(torch):
    source, tsource = ember.arange(8.0, requires_grad=True), torch.arange(8.0, requires_grad=True)
    for lib, x in ((ember, source), (torch, tsource)):
        batch = next(iter(lib.utils.data.DataLoader(lib.utils.data.TensorDataset(x), batch_size=4)))
        (batch[0] * lib.arange(4.0)).sum().backward()
    assert source.grad.tolist() == tsource.grad.tolist()


def test_dataloader_without_batching_converts_each_sample():
    items = list(DataLoader([np.arange(2), np.arange(2) + 5], batch_size=None))
    assert [t.tolist() for t in items] == [[0, 1], [5, 6]]


def test_dataloader_takes_a_batch_sampler_and_a_collate_fn():
    loader = DataLoader(list(range(6)), batch_sampler=[[0, 5], [2]], collate_fn=lambda b: sum(b))
    assert list(loader) == [5, 2]


def test_dataloader_rejects_sampler_together_with_shuffle():
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(range(4), sampler=SequentialSampler(range(4)), shuffle=True)


def test_shuffled_epochs_differ_and_a_seed_repeats_them():
    ds = _dataset()
    loader = DataLoader(ds, batch_size=5, shuffle=True, generator=ember.Generator().manual_seed(0))
    first, second = _as_lists(loader), _as_lists(loader)
    again = _as_lists(DataLoader(ds, batch_size=5, shuffle=True, generator=ember.Generator().manual_seed(0)))
    assert first != second and first == again


def test_two_workers_yield_the_same_batches_as_the_main_process_for_the_same_seed():
    ds = _dataset()
    runs = [_as_lists(DataLoader(ds, batch_size=4, shuffle=True, num_workers=workers,
                                 generator=ember.Generator().manual_seed(7)))
            for workers in (0, 2)]
    assert runs[0] == runs[1] and len(runs[0]) == 6


def test_workers_shut_down_when_iteration_stops_early():
    loader = DataLoader(_dataset(), batch_size=2, num_workers=2)
    iterator = iter(loader)
    next(iterator)
    workers = list(iterator._workers)
    assert all(w.is_alive() for w in workers)
    del iterator
    gc.collect()
    for w in workers:
        w.join(timeout=10)
    assert not any(w.is_alive() for w in workers)


def test_workers_shut_down_after_a_full_pass():
    iterator = iter(DataLoader(_dataset(), batch_size=8, num_workers=2))
    assert len(list(iterator)) == 3
    assert not any(w.is_alive() for w in iterator._workers)


class _Failing(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise KeyError("sample 2 is broken")
        return i


def test_an_error_in_a_worker_reaches_the_main_process_with_its_type():
    with pytest.raises(KeyError, match="sample 2 is broken"):
        list(DataLoader(_Failing(), batch_size=1, num_workers=2))


class _Stream(IterableDataset):
    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, 10, step))


def test_iterable_dataset_split_across_workers_yields_every_item_once():
    items = [t.item() for batch in DataLoader(_Stream(), batch_size=3, num_workers=2) for t in batch]
    assert sorted(items) == list(range(10))
    assert [t.tolist() for t in DataLoader(_Stream(), batch_size=4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


class _WorkerSeeds(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return (info.id, info.seed, ember.rand(1).item())


def test_worker_init_fn_runs_in_each_worker_and_workers_are_seeded_from_the_generator():
    def read(seed):
        loader = DataLoader(_WorkerSeeds(), batch_size=None, num_workers=2,
                            generator=ember.Generator().manual_seed(seed), worker_init_fn=_init)
        return [tuple(x) for x in loader]
    a, b = read(1), read(1)
    assert a == b and {row[0] for row in a} == {0, 1}
    assert a[0][1] + 1 == a[1][1]  # worker seeds are base_seed + worker id


def _init(worker_id):
    assert get_worker_info().id == worker_id
