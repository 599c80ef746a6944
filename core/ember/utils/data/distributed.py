"""DistributedSampler: each process of a data-parallel job reads its own share of the data set.

``torch.utils.data.distributed.DistributedSampler``'s semantics: every epoch, one permutation (the same on
all ranks: seeded with ``seed + epoch``) padded to a multiple of the number of replicas by repeating its
first indices (or cut down with ``drop_last``), of which rank r takes positions r, r + n, r + 2n, ...
The permutation comes from ember's generator, so it differs from PyTorch's for the same seed.
"""

from __future__ import annotations

import math

from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Indices of ``dataset`` for rank ``rank`` of ``num_replicas`` (defaults: from the default process group).

    Call ``set_epoch(epoch)`` before each epoch so that shuffling differs between epochs. Raises ValueError
    for a rank outside ``[0, num_replicas - 1]``, RuntimeError when the defaults are needed and no process
    group is initialized.
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False):
        if num_replicas is None or rank is None:
            from ... import distributed as dist
            if not dist.is_available():
                raise RuntimeError("DistributedSampler: Requires distributed package to be available")
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: num_replicas and rank default to the default process "
                                   "group's, which is not initialized; call init_process_group first or pass them")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be at least 1, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        self.shuffle = shuffle
        self.seed = seed
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            from ...random import Generator
            from ...creation import randperm
            indices = randperm(n, generator=Generator().manual_seed(self.seed + self.epoch)).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration's shuffle depend on ``epoch`` (the same on every rank)."""
        self.epoch = epoch
