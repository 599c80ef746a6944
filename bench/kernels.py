#!/usr/bin/env python
"""Each ember_fast kernel against the numpy path it replaces, in one process, paired and interleaved.

    python bench/kernels.py [--rounds 7] [--threads 1] [--only adam_step_1M,cnn_step_b64]
    python bench/kernels.py --family elementwise --threads 2 --clock wall   # the threaded loops alone

For every workload of workloads.py that exercises a kernel (the training steps, matmul, Adam, the
transformer block) and for the kernel's own shapes, a round times a batch with the kernels on and a batch
with them off (the primitives' ``kernels`` dicts emptied), in alternating order; the report gives the
medians and the median of the per-round ratios (kernel time / numpy-path time, < 1 means faster).
Needs ember[fast] installed (the mkl wheel and numba).
"""

import argparse
import contextlib
import gc
import statistics
import sys
import time

import numpy as np

import workloads as W

KERNEL_WORKLOADS = ("mlp_step_b64", "mlp_step_b512", "cnn_step_b64", "matmul_1024", "adam_step_1M",
                    "transformer_block_fwd_bwd")


@contextlib.contextmanager
def kernels_off(primitives):
    saved = [prim.kernels for prim in primitives]
    for prim in primitives:
        prim.kernels = {}
    try:
        yield
    finally:
        for prim, kernels in zip(primitives, saved):
            prim.kernels = kernels


CLOCK = [time.process_time]  # CPU seconds of this process: with one BLAS thread, immune to neighbours


def _batch(step, calls):
    gc.collect()
    start = CLOCK[0]()
    for _ in range(calls):
        step()
    return (CLOCK[0]() - start) / calls


def measure(name, step, primitives, rounds, batch_s):
    """(kernel seconds, numpy seconds, ratio) medians over rounds, paired per round."""
    step()
    with kernels_off(primitives):
        step()
    calls = max(1, int(batch_s / max(_batch(step, 1), 1e-6)))
    on, off, ratios = [], [], []
    for r in range(rounds):
        order = (True, False) if r % 2 == 0 else (False, True)
        times = {}
        for kernels in order:
            time.sleep(0.15)  # let the other side's BLAS workers stop spinning
            if kernels:
                times[True] = _batch(step, calls)
            else:
                with kernels_off(primitives):
                    times[False] = _batch(step, calls)
        on.append(times[True])
        off.append(times[False])
        ratios.append(times[True] / times[False])
    return statistics.median(on), statistics.median(off), statistics.median(ratios), max(
        _iqr(on), _iqr(off))


def _iqr(values):
    q = statistics.quantiles(values, n=4)
    return (q[2] - q[0]) / statistics.median(values)


def gemm_steps(ember):
    """The kernel's own shapes: the forward+backward of one linear/conv layer of the MLP and the CNN."""
    rng = np.random.default_rng(0)
    F = ember.nn.functional

    def linear(batch):
        x = ember.tensor(rng.standard_normal((batch, 784), dtype=np.float32))
        w = ember.tensor(rng.standard_normal((512, 784), dtype=np.float32) * 0.03, requires_grad=True)

        def step():
            F.linear(x, w).sum().backward()
        return step

    def conv(c_in, c_out, size, padding):
        x = ember.tensor(rng.standard_normal((64, c_in, size, size), dtype=np.float32), requires_grad=True)
        w = ember.tensor(rng.standard_normal((c_out, c_in, 5, 5), dtype=np.float32) * 0.1, requires_grad=True)

        def step():
            F.conv2d(x, w, padding=padding).sum().backward()
        return step

    return {"linear 784->512 b64 fwd+bwd": linear(64), "linear 784->512 b512 fwd+bwd": linear(512),
            "conv 1->6 5x5 28x28 b64 fwd+bwd": conv(1, 6, 28, 2), "conv 6->16 5x5 14x14 b64 fwd+bwd": conv(6, 16, 14, 0)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--batch-seconds", type=float, default=0.3)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads for both sides (default 1)")
    p.add_argument("--only", help="comma-separated workload names")
    p.add_argument("--family", choices=("all", "elementwise"), default="all",
                   help="turn every ember_fast kernel off for the numpy side (default), or only the multi-threaded "
                        "elementwise loops (ember_fast.elementwise; use with --threads 2 --clock wall)")
    p.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                   help="CPU time of this process (default; fair on a shared machine at 1 thread) or wall time")
    args = p.parse_args(argv)

    CLOCK[0] = time.process_time if args.clock == "cpu" else time.perf_counter
    import ember
    import ember_fast
    ember.set_num_threads(args.threads)
    if args.family == "elementwise":
        from ember_fast import elementwise
        primitives = [prim for prim in elementwise.primitives() if prim.kernels]
    else:
        from ember_fast.block import block_primitives  # the transformer block's gelu, layer_norm, softmax kernels
        primitives = [prim for prim in ember_fast.registered_primitives() + block_primitives() if prim.kernels]
    if not primitives:
        sys.exit("ember_fast registered no kernel here: install ember[fast] (the mkl wheel and numba)")
    steps = gemm_steps(ember)
    backend, rng = W.Backend(ember), np.random.default_rng(0)
    for workload in W.WORKLOADS:
        if workload.name in KERNEL_WORKLOADS:
            steps[workload.name] = workload.build("ember", backend, workload.make_data(rng)).step
    only = set(args.only.split(",")) if args.only else None
    print(f"kernels: {', '.join(prim.__name__ for prim in primitives)}; BLAS threads {args.threads}; "
          f"{args.clock} time")
    print(f"| workload | with kernels ms | numpy path ms | kernels/numpy | spread |\n|---|---:|---:|---:|---:|")
    for name, step in steps.items():
        if only and name not in only:
            continue
        on, off, ratio, spread = measure(name, step, primitives, args.rounds, args.batch_seconds)
        print(f"| {name} | {on * 1e3:.3f} | {off * 1e3:.3f} | {ratio:.2f} | {spread:.0%} |", flush=True)


if __name__ == "__main__":
    main()
