"""``ember train --distributed``: the same training, data-parallel over the ranks of ``mpirun -n N``.

Each rank builds the same model (DistributedDataParallel makes sure: rank 0's weights), draws the same
shuffled order of the training set (the loader's generator is seeded alike everywhere) and cuts each
global batch of ``N * batch_size`` samples into N interleaved shares, one per rank. Gradients are
averaged over the ranks, so N ranks with ``--batch-size B`` take the steps one process takes with
``--batch-size N*B``, and report the same epoch losses (to float32 rounding) — exactly so when every
global batch splits evenly (a last batch of fewer than N samples is dropped; one that splits unevenly
is averaged per rank). Only rank 0 prints, plots and writes checkpoints; a rank that fails aborts the job.
"""

from __future__ import annotations

import contextlib
import io

__all__ = ["DataParallelTraining", "ShardedBatchSampler", "run_on_every_rank"]


class ShardedBatchSampler:
    """Rank ``rank``'s share (positions rank, rank + n, ...) of each batch of ``batch_sampler``; batches with
    fewer samples than ranks are skipped on every rank, so that every rank takes the same number of steps."""

    def __init__(self, batch_sampler, num_replicas: int, rank: int):
        self.batch_sampler, self.num_replicas, self.rank = batch_sampler, num_replicas, rank

    def __iter__(self):
        for batch in self.batch_sampler:
            if len(batch) >= self.num_replicas:
                yield list(batch)[self.rank::self.num_replicas]

    def __len__(self) -> int:
        if self.batch_sampler.drop_last:
            return len(self.batch_sampler)
        full, last = divmod(len(self.batch_sampler.sampler), self.batch_sampler.batch_size)
        return full + (last >= self.num_replicas)


class DataParallelTraining:
    """What ``--distributed`` changes in :func:`ember.train.loop.run_training`: the model is wrapped in
    DistributedDataParallel, the loader gives this rank its share of each global batch, and the epoch's
    sums are added over the ranks."""

    def __init__(self):
        from .. import distributed as dist
        if not dist.is_initialized():
            dist.init_process_group("mpi")
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap_model(self, model):
        from ..nn.parallel import DistributedDataParallel
        return DistributedDataParallel(model)

    def loader(self, dataset, batch_size: int, generator):
        from ..utils.data import BatchSampler, DataLoader, RandomSampler
        global_batches = BatchSampler(RandomSampler(dataset, generator=generator), batch_size * self.world_size,
                                      drop_last=False)
        # the loader draws its workers' base seed from ``generator`` first, as the one-process loader does
        return DataLoader(dataset, batch_sampler=ShardedBatchSampler(global_batches, self.world_size, self.rank),
                          generator=generator)

    def sum_over_ranks(self, *values) -> tuple:
        """Each value summed over all ranks (float64 on the wire: exact for counts)."""
        import numpy as np
        from .. import distributed as dist
        from ..creation import from_numpy
        total = from_numpy(np.array(values, np.float64))
        dist.all_reduce(total)
        return tuple(type(v)(x) for v, x in zip(values, total.tolist()))


def run_on_every_rank(run_one, args) -> int:
    """Run ``run_one(args, parallel)`` on this rank: rank 0 as usual, the others silently and without
    saving or plotting; any error on any rank ends the whole job, naming the rank."""
    from ..distributed.process_groups import abort_job
    try:
        parallel = DataParallelTraining()
        if parallel.is_main:
            return run_one(args, parallel)
        args.save = args.plot = args.tensorboard = None
        with contextlib.redirect_stdout(io.StringIO()):
            return run_one(args, parallel)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            abort_job(f"exited with status {exc.code}")
        raise
    except BaseException as exc:  # noqa: BLE001 - any failure must end every rank, not leave them waiting
        from ..cli import UsageError
        abort_job(f"ember train: error: {exc}" if isinstance(exc, UsageError) else
                  f"ember train: {type(exc).__name__}: {exc}")
