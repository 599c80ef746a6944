#!/usr/bin/env python
"""The BLAS thread policy, measured: ember's MLP (batch 64, 512) and CNN training steps with 1 thread,
with every core, and with the default adaptive policy, on an otherwise idle machine and beside one busy
neighbour (a ``python -c "while True: pass"`` process started by this script).

    python bench/threads.py [--rounds 5] [--batch-seconds 0.5] [--impl ember,torch]

Per condition, each round times one batch per setting, in rotating order; the report gives medians and
each setting's time over the best setting's (the policy must stay within 1.2x of the best), and the spread
(the largest relative inter-quartile range of the row's settings). ``bg load`` is the CPU other processes
(the neighbour included) used meanwhile: on a shared machine "idle" is only as idle as that column says,
so ``--wait-quiet SECONDS`` lets the run first wait (at most that long) for other processes to go quiet.
Optional torch rows show PyTorch's own steps under the same conditions.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import workloads as W
from bench import BackgroundLoad, QuietPolicy

STEPS = ("mlp_step_b64", "mlp_step_b512", "cnn_step_b64")


def settings(ember):
    """(name, function applying it) for each thread setting under test."""
    from ember import thread_policy
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    def fixed(n):
        return lambda: ember.set_num_threads(n)

    def adaptive():  # back to the default: not pinned, the load re-read now
        thread_policy._State.pinned = None
        thread_policy._State.next_check = 0.0
        thread_policy._State.last = None
    return [("1 thread", fixed(1)), (f"{cores} threads", fixed(cores)), ("policy", adaptive)]


def time_batch(step, seconds):
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        step()
        calls += 1
    return (time.perf_counter() - start) / calls


def measure(cases, setups, rounds, batch_s):
    rows = {}
    for name, step in cases.items():
        samples = {label: [] for label, _ in setups}
        load = BackgroundLoad()
        for r in range(rounds):
            order = setups[r % len(setups):] + setups[:r % len(setups)]
            for label, apply in order:
                apply()
                time_batch(step, 0.3 if label == "policy" else 0.05)  # the policy reads the load first
                samples[label].append(time_batch(step, batch_s))
        medians = {label: statistics.median(times) for label, times in samples.items()}
        rows[name] = (medians, max(_iqr_rel(times) for times in samples.values()), load.cores())
    return rows


def _iqr_rel(times):
    if len(times) < 2:
        return 0.0
    q1, median, q3 = statistics.quantiles(times, n=4, method="inclusive")
    return (q3 - q1) / median


def report(condition, rows):
    labels = list(next(iter(rows.values()))[0])
    print(f"\n{condition}\n| step | " + " | ".join(f"{lb} ms" for lb in labels)
          + " | " + " | ".join(f"{lb}/best" for lb in labels) + " | spread | bg load |")
    print("|---" * (2 * len(labels) + 3) + "|")
    for name, (medians, spread, bg) in rows.items():
        best = min(medians.values())
        print(f"| {name} | " + " | ".join(f"{medians[lb] * 1e3:.2f}" for lb in labels) + " | "
              + " | ".join(f"{medians[lb] / best:.2f}" for lb in labels) + f" | {100 * spread:.0f}% | {bg:.2f} |",
              flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch-seconds", type=float, default=0.5)
    p.add_argument("--impl", default="ember", help="ember, or ember,torch")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                   help="before the idle condition, wait at most this long for other processes to use "
                        "less than --max-bg-load cores (default 0: do not wait)")
    p.add_argument("--max-bg-load", type=float, default=0.1, metavar="CORES")
    args = p.parse_args(argv)

    import ember
    rng = np.random.default_rng(0)
    backends = {"ember": W.Backend(ember)}
    if "torch" in args.impl:
        import torch
        backends["torch"] = W.Backend(torch)
    cases = {}
    for workload in W.WORKLOADS:
        if workload.name in STEPS:
            data = workload.make_data(rng)
            for impl, backend in backends.items():
                cases[f"{impl} {workload.name}"] = workload.build(impl, backend, data).step
    setups = settings(ember)
    if "torch" in backends:  # torch's own pool follows the same settings; its default is every core
        torch = backends["torch"].T
        setups = [(label, lambda apply=apply, n=n: (apply(), torch.set_num_threads(n)))
                  for (label, apply), n in zip(setups, (1, os.cpu_count(), os.cpu_count()))]
    for condition in ("idle", "one busy neighbour"):
        neighbour = None
        if condition != "idle":
            neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            time.sleep(0.5)
        elif args.wait_quiet:
            QuietPolicy(args.max_bg_load, args.wait_quiet).wait()
        try:
            report(condition, measure(cases, setups, args.rounds, args.batch_seconds))
        finally:
            if neighbour is not None:
                neighbour.kill()
                neighbour.wait()


if __name__ == "__main__":
    main()
