"""ember.distributed on 2 MPI ranks: all-reduce throughput against mpi4py's raw Allreduce, and the DDP step
time of the seed MLP.

    python bench/bench_distributed.py            # starts the mpirun jobs itself; prints a table
    python bench/bench_distributed.py --json

1. ``dist.all_reduce`` of 1M, 10M and 100M float32 values (and 1K, where the per-call overhead shows), as a ratio to ``comm.Allreduce(MPI.IN_PLACE, a)``
   on the same buffers (1.0 = no overhead; the goal is >= 0.9). Best of several rounds, the two
   interleaved so that load from other processes hits both alike.
2. One training step (forward, backward with DDP's gradient all-reduce, SGD step) of the seed MLP
   (784-512-10) with a per-rank batch of 64: 2 ranks against 1 rank on the same per-rank batch (half the
   global data). The ratio is the cost of data parallelism per step (1.0 = free); on a machine with fewer
   free cores than ranks it also measures the ranks competing for the CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

SIZES = {"1K": 1_000, "1M": 1_000_000, "10M": 10_000_000, "100M": 100_000_000}
ROUNDS = {"1K": 500, "1M": 60, "10M": 12, "100M": 4}  # 1K shows the per-call overhead


def _best(fn, rounds):
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def allreduce_worker() -> dict:
    import numpy as np
    from mpi4py import MPI

    import ember
    import ember.distributed as dist
    dist.init_process_group("mpi")
    comm = MPI.COMM_WORLD
    results = {}
    for label, n in SIZES.items():
        tensor = ember.ones(n)
        raw = np.ones(n, np.float32)
        ember_best = raw_best = float("inf")
        for _ in range(ROUNDS[label]):  # interleaved, best of each
            comm.Barrier()
            ember_best = min(ember_best, _best(lambda: dist.all_reduce(tensor), 1))
            comm.Barrier()
            raw_best = min(raw_best, _best(lambda: comm.Allreduce(MPI.IN_PLACE, raw), 1))
        results[label] = {"ember_s": ember_best, "mpi4py_s": raw_best, "ratio": raw_best / ember_best,
                          "ember_GBps": n * 4 / ember_best / 1e9}
        del tensor, raw
    dist.destroy_process_group()
    return results


def ddp_step_worker(batch: int, steps: int = 30) -> dict:
    import numpy as np

    import ember
    import ember.distributed as dist
    import ember.nn as nn
    import ember.nn.functional as F
    from ember.nn.parallel import DistributedDataParallel as DDP
    dist.init_process_group("mpi")
    ember.manual_seed(0)
    model = DDP(nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10)))
    optimizer = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(dist.get_rank())
    x = ember.from_numpy(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    y = ember.from_numpy(rng.integers(0, 10, batch))

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    def median_step():
        for _ in range(5):
            step()
        times = []
        for _ in range(steps):
            dist.barrier()
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        slowest = [None] * dist.get_world_size()
        dist.all_gather_object(slowest, (float(np.median(times)), min(times)))
        return max(m for m, _ in slowest), max(b for _, b in slowest)
    synced = median_step()
    with model.no_sync():  # the same step without the gradient all-reduce: what the CPUs alone cost
        local = median_step()
    world = dist.get_world_size()
    dist.destroy_process_group()
    return {"median_step_s": synced[0], "best_step_s": synced[1], "median_step_without_allreduce_s": local[0],
            "best_step_without_allreduce_s": local[1], "world_size": world, "per_rank_batch": batch}


def _launch(n: int, *args) -> dict:
    # one BLAS thread per rank, in both runs, so that the ranks do not fight over the cores' threads
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OMPI_MCA_mpi_yield_when_idle=os.environ.get("OMPI_MCA_mpi_yield_when_idle", "1"))
    out = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"bench_distributed_{os.getpid()}.json")
    command = ["mpirun", "--oversubscribe", "-n", str(n), sys.executable, os.path.abspath(__file__), "--worker",
               *args, "--out", out]
    subprocess.run(command, check=True, env=env, timeout=600)
    with open(out) as f:
        result = json.load(f)
    os.unlink(out)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", choices=("allreduce", "ddp"))
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.worker:
        result = allreduce_worker() if args.worker == "allreduce" else ddp_step_worker(args.batch)
        if int(os.environ.get("OMPI_COMM_WORLD_RANK", "0")) == 0:
            with open(args.out, "w") as f:
                json.dump(result, f)
        return
    results = {"allreduce": _launch(2, "allreduce"),
               "ddp_2_ranks": _launch(2, "ddp", "--batch", str(args.batch)),
               "ddp_1_rank": _launch(1, "ddp", "--batch", str(args.batch))}
    results["ddp_step_ratio_2_over_1"] = results["ddp_2_ranks"]["median_step_s"] / results["ddp_1_rank"]["median_step_s"]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("all-reduce on 2 ranks (ratio = mpi4py raw Allreduce time / ember all_reduce time; goal >= 0.9)")
    for label, r in results["allreduce"].items():
        print(f"  {label:>5} float32: ember {r['ember_s'] * 1e3:9.2f} ms  mpi4py {r['mpi4py_s'] * 1e3:9.2f} ms  "
              f"ratio {r['ratio']:.3f}  ({r['ember_GBps']:.2f} GB/s)")
    one, two = results["ddp_1_rank"], results["ddp_2_ranks"]
    print(f"DDP step of the seed MLP, per-rank batch {args.batch} (slowest rank; median / best of 30):")
    print(f"  1 rank  {one['median_step_s'] * 1e3:7.2f} / {one['best_step_s'] * 1e3:6.2f} ms")
    print(f"  2 ranks {two['median_step_s'] * 1e3:7.2f} / {two['best_step_s'] * 1e3:6.2f} ms  (median ratio "
          f"{results['ddp_step_ratio_2_over_1']:.2f}, twice the data per step)")
    print(f"  2 ranks without the all-reduce (no_sync): {two['median_step_without_allreduce_s'] * 1e3:7.2f} / "
          f"{two['best_step_without_allreduce_s'] * 1e3:6.2f} ms")


if __name__ == "__main__":
    main()
