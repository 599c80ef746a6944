"""``ember.nn.parallel``: data-parallel wrappers (``torch.nn.parallel``)."""

from .data_parallel import DataParallel, data_parallel, gather, parallel_apply, replicate, scatter  # noqa: F401

__all__ = ["DataParallel", "data_parallel", "scatter", "gather", "replicate", "parallel_apply"]
