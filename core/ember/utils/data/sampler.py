"""Samplers: which indices a DataLoader reads, and in what order (``torch.utils.data.sampler``).

Random samplers draw from an ``ember.Generator``; without one they seed a private generator from
the default generator when iteration starts, as PyTorch does, so ``ember.manual_seed`` fixes them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler",
           "WeightedRandomSampler"]


class Sampler:
    """Base class: ``__iter__`` yields indices (or lists of indices, for batch samplers)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def draw_seed(generator=None) -> int:
    """A 63-bit seed drawn from ``generator`` (or the default CPU generator)."""
    from ...random import default_generator
    gen = generator if generator is not None else default_generator("cpu")
    return int(gen.stream.integers(0, 2 ** 63 - 1, (), np.int64))


def _private_generator(generator):
    if generator is not None:
        return generator
    from ...random import Generator
    return Generator().manual_seed(draw_seed())


class RandomSampler(Sampler):
    """A random permutation of the data set (or ``num_samples`` draws, with or without replacement)."""

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, got {replacement!r}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"RandomSampler: num_samples should be a positive integer value, got "
                             f"{self.num_samples!r}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        from ...creation import randint, randperm
        n = len(self.data_source)
        gen = _private_generator(self.generator)
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from randint(0, n, (32,), generator=gen).tolist()
            yield from randint(0, n, (self.num_samples % 32,), generator=gen).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from randperm(n, generator=gen).tolist()
            yield from randperm(n, generator=gen).tolist()[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, without replacement (``torch.utils.data.SubsetRandomSampler``);
    ``indices`` is kept as given (any sequence)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        from ...creation import randperm
        for i in randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``
    (``torch.utils.data.WeightedRandomSampler``).

    ``weights`` is kept as a float64 tensor. As in PyTorch, ``num_samples``, ``replacement`` and the
    weights' shape are checked here (ValueError), the weights' values when drawing (RuntimeError, as
    ``torch.multinomial``): negative, infinite or NaN entries, a zero sum, or more samples than weights
    without replacement. Without replacement, zero weights are drawn last, once the others are used up.
    Draws come from ``generator``, or the default generator, so ``ember.manual_seed`` fixes them.
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        from ...creation import as_tensor
        from ... import dtypes
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples!r}")
        if not isinstance(replacement, bool):
            raise ValueError(f"WeightedRandomSampler: replacement should be a boolean value, but got "
                             f"replacement={replacement!r}")
        weights = as_tensor(weights, dtype=dtypes.float64)
        if weights.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence but given weights have "
                             f"shape {tuple(weights.shape)}")
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        yield from _weighted_draw(self.weights.numpy(), self.num_samples, self.replacement,
                                  _stream_of(self.generator)).tolist()

    def __len__(self) -> int:
        return self.num_samples


def _stream_of(generator):
    from ...random import default_generator
    return (generator if generator is not None else default_generator("cpu")).stream


def _weighted_draw(weights: np.ndarray, n: int, replacement: bool, stream) -> np.ndarray:
    """``n`` indices of ``weights``, drawn as ``torch.multinomial`` draws them, with its errors."""
    if not np.isfinite(weights).all():
        raise RuntimeError("WeightedRandomSampler: invalid multinomial distribution (encountering probability "
                           "entry = infinity or NaN)")
    if (weights < 0).any():
        raise RuntimeError("WeightedRandomSampler: invalid multinomial distribution (encountering probability "
                           "entry < 0)")
    if weights.sum() <= 0:
        raise RuntimeError("WeightedRandomSampler: invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and n > len(weights):
        raise RuntimeError(f"WeightedRandomSampler: cannot sample n_sample > prob_dist.size(-1) samples without "
                           f"replacement: {n} samples from {len(weights)} weights")
    u = stream.random((n if replacement else len(weights),), np.float64)
    if replacement:  # inverse of the cumulative distribution
        cdf = np.cumsum(weights)
        return np.minimum(np.searchsorted(cdf, u * cdf[-1], side="right"), len(weights) - 1)
    # Efraimidis-Spirakis: the n largest log(u) / w are a weighted sample without replacement; zero
    # weights get -inf and come last, in index order.
    with np.errstate(divide="ignore"):
        keys = np.where(weights > 0, np.log(np.maximum(u, 1e-300)) / np.where(weights > 0, weights, 1), -np.inf)
    return np.argsort(-keys, kind="stable")[:n]


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last shorter unless ``drop_last``)."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer value, got {batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, got {drop_last!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
