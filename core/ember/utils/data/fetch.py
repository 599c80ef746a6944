"""Turning one entry of the index sampler into one batch; shared by the main process and the workers."""

from __future__ import annotations

__all__ = ["MapFetcher", "IterableFetcher"]


class MapFetcher:
    """Reads a map-style data set: a list of indices becomes a collated batch, one index a converted sample."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        self.batched_tensors = _batched_tensors(dataset, auto_collation, collate_fn)

    def fetch(self, index):
        if self.batched_tensors is not None and type(index) is list:
            # default_collate of TensorDataset samples stacks t[i] for each i: t[index] is that stack, made by
            # one indexing instead of len(index) selects and a stack per tensor (a list, as default_collate
            # returns for tuple samples)
            return [t[index] for t in self.batched_tensors]
        if self.auto_collation:
            getitems = getattr(self.dataset, "__getitems__", None)
            data = getitems(index) if getitems is not None else [self.dataset[i] for i in index]
        else:
            data = self.dataset[index]
        return self.collate_fn(data)


def _batched_tensors(dataset, auto_collation, collate_fn):
    """The tensors of a plain ``TensorDataset`` read through ``default_collate`` (exact types: a subclass
    may override ``__getitem__``), else None."""
    from .collate import default_collate
    from .dataset import TensorDataset
    if auto_collation and collate_fn is default_collate and type(dataset) is TensorDataset:
        return dataset.tensors
    return None


class IterableFetcher:
    """Reads an iterable data set: the next ``batch_size`` items (fewer at the end unless ``drop_last``);
    raises StopIteration when the stream is spent."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool):
        self.iterator = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        data = []
        for _ in index:
            try:
                data.append(next(self.iterator))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.ended and self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)
