"""``ember.utils.data``: data sets, samplers and the DataLoader, with ``torch.utils.data``'s semantics.

Shuffling draws from ``ember.Generator`` streams, so a seed makes batches reproducible with ember
itself (the streams differ from PyTorch's). ``num_workers > 0`` runs real worker processes.
"""

from .collate import default_collate, default_convert
from .dataloader import DataLoader, get_worker_info
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
                      random_split)
from .distributed import DistributedSampler
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "Subset", "ConcatDataset", "ChainDataset",
           "random_split", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler",
           "WeightedRandomSampler", "DataLoader", "get_worker_info", "default_collate", "default_convert",
           "DistributedSampler"]
