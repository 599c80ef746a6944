"""``ember.utils.data``: data sets, samplers and the DataLoader, with ``torch.utils.data``'s semantics.

Shuffling draws from ``ember.Generator`` streams, so a seed makes batches reproducible with ember
itself (the streams differ from PyTorch's). ``num_workers > 0`` runs real worker processes.
"""

from .collate import default_collate, default_convert
from .dataloader import DataLoader, get_worker_info
from .distributed import DistributedSampler
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
           "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler",
           "WeightedRandomSampler", "DataLoader", "get_worker_info", "default_collate", "default_convert",
           "DistributedSampler"]
