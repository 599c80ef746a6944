"""Turning one entry of the index sampler into one batch; shared by the main process and the workers."""

from __future__ import annotations

__all__ = ["MapFetcher", "IterableFetcher"]


class MapFetcher:
    """Reads a map-style data set: a list of indices becomes a collated batch, one index a converted sample."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn

    def fetch(self, index):
        if self.auto_collation:
            getitems = getattr(self.dataset, "__getitems__", None)
            data = getitems(index) if getitems is not None else [self.dataset[i] for i in index]
        else:
            data = self.dataset[index]
        return self.collate_fn(data)


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
