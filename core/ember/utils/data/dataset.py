"""Data sets: the map-style and iterable base classes, and the ways to combine and split them
(``torch.utils.data.dataset``), with PyTorch's semantics and exception classes."""

from __future__ import annotations

import bisect
import math
import warnings
from itertools import accumulate

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset", "ChainDataset",
           "Subset", "random_split", "DatasetError"]


class DatasetError(AssertionError, ValueError):
    """A data set built from parts that do not fit. PyTorch raises AssertionError in these places; the
    ValueError base keeps code that expected ember's earlier ValueError working."""


class Dataset:
    """A map-style data set: ``__getitem__(index)`` and usually ``__len__`` (``torch.utils.data.Dataset``).
    ``a + b`` is ``ConcatDataset([a, b])``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A data set read as a stream: ``__iter__`` (``torch.utils.data.IterableDataset``). With worker
    processes each worker iterates its own copy; use ``get_worker_info()`` to split the stream.
    ``a + b`` is ``ChainDataset([a, b])``."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other: "IterableDataset") -> "ChainDataset":
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Sample ``i`` is ``tuple(t[i] for t in tensors)``; all tensors share their first dimension
    (else :class:`DatasetError`, an AssertionError as in PyTorch)."""

    def __init__(self, *tensors):
        if not tensors:
            raise DatasetError("TensorDataset: expected at least one tensor")
        sizes = [t.shape[0] if t.ndim else None for t in tensors]
        if None in sizes or any(s != sizes[0] for s in sizes):
            raise DatasetError(f"TensorDataset: Size mismatch between tensors; first dimensions are "
                               f"{[tuple(t.shape)[:1] for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class StackDataset(Dataset):
    """Several data sets of one length read side by side (``torch.utils.data.StackDataset``): sample ``i``
    is ``(a[i], b[i])`` for ``StackDataset(a, b)``, ``{"x": a[i], "y": b[i]}`` for ``StackDataset(x=a, y=b)``.
    ValueError for no data sets, both forms at once, or different lengths."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: give the data sets either as arguments (samples are tuples) or as "
                             "keyword arguments (samples are dicts), not both")
        if not args and not kwargs:
            raise ValueError("StackDataset: at least one dataset should be passed")
        parts = args or tuple(kwargs.values())
        lengths = [len(d) for d in parts]
        if any(n != lengths[0] for n in lengths):
            raise ValueError(f"StackDataset: Size mismatch between datasets: lengths {lengths}")
        self.datasets = args or kwargs
        self._length = lengths[0]

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {key: d[index] for key, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list) -> list:
        named = isinstance(self.datasets, dict)
        columns = {key: _read_many(d, indices) for key, d in
                   (self.datasets.items() if named else enumerate(self.datasets))}
        if named:
            return [{key: column[i] for key, column in columns.items()} for i in range(len(indices))]
        return [tuple(column[i] for column in columns.values()) for i in range(len(indices))]

    def __len__(self) -> int:
        return self._length


def _read_many(dataset, indices: list) -> list:
    """``[dataset[i] for i in indices]``, through the data set's ``__getitems__`` when it has one."""
    getitems = getattr(dataset, "__getitems__", None)
    if not callable(getitems):
        return [dataset[i] for i in indices]
    items = getitems(indices)
    if len(items) != len(indices):
        raise ValueError(f"Nested dataset's output size mismatch. Expected {len(indices)}, got {len(items)}")
    return items


class ConcatDataset(Dataset):
    """Several map-style data sets read one after another (``torch.utils.data.ConcatDataset``)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise DatasetError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise DatasetError("ConcatDataset does not support IterableDataset; use ChainDataset")
        self.cumulative_sizes = list(accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError(f"ConcatDataset: absolute value of index should not exceed dataset length; "
                                 f"got {index} for length {len(self)}")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        if which >= len(self.datasets):
            raise IndexError(f"ConcatDataset: index {index} out of range for length {len(self)}")
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """Several iterable data sets read one after another, on the fly (``torch.utils.data.ChainDataset``).
    Each must be an IterableDataset: :class:`DatasetError` (an AssertionError) when iterated otherwise."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            _require_iterable(d)
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            _require_iterable(d)
            total += len(d)
        return total


def _require_iterable(dataset) -> None:
    if not isinstance(dataset, IterableDataset):
        raise DatasetError(f"ChainDataset only supports IterableDataset, got {type(dataset).__name__}")


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order (``torch.utils.data.Subset``).

    As in PyTorch, a subclass that overrides ``__getitem__`` must override ``__getitems__`` too (the
    DataLoader reads batches through it): NotImplementedError otherwise.
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices
        cls = type(self)
        if cls.__getitem__ is not Subset.__getitem__ and cls.__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{cls.__name__} overrides __getitem__ but not __getitems__, which the DataLoader reads batches "
                f"with; add:\n\ndef __getitems__(self, indices):\n    return [self.__getitem__(i) for i in indices]")

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list) -> list:
        return _read_many(self.dataset, [self.indices[i] for i in indices])

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset, lengths, generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets (``torch.utils.data.random_split``).

    ``lengths`` are the subsets' sizes, or fractions when they sum to 1 (each floor(n * fraction), the
    remainder handed out one by one to the first subsets, a warning for an empty one). The order comes
    from ``randperm(n, generator=generator)``: reproducible with a seeded ``ember.Generator``, not the
    same permutation as PyTorch's. ValueError for a fraction outside [0, 1] or sizes that do not sum to
    ``len(dataset)``.
    """
    from ...creation import randperm
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1: {fraction}")
        counts = [math.floor(n * fraction) for fraction in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0. This might result in an "
                              f"empty dataset.", stacklevel=2)
        lengths = counts
    if any(length < 0 for length in lengths):
        raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal the length of "
                         f"the input dataset ({n})")
    order = randperm(n, generator=generator).tolist()
    return [Subset(dataset, order[end - length:end]) for end, length in zip(accumulate(lengths), lengths)]
