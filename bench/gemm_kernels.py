#!/usr/bin/env python
"""Which GEMM for ember_fast: numpy's OpenBLAS, MKL (the ``mkl`` wheel, through ctypes) and BLIS (the
``blis`` wheel), on the float32 products of ember's workloads: the MLP's (forward and weight gradient)
and the LeNet step's conv-shaped ones (im2col columns times weights, and the gradients), plus 1024^2.

    python bench/gemm_kernels.py [--threads 1] [--repeats 7]

Times are CPU seconds of this process (``time.process_time``) per product, median over repeats, so that
a neighbour's load on a shared machine does not count; with ``--threads 2`` they are wall seconds.
Every result is first checked against a float64 product. Needs ``pip install mkl blis``.
"""

import argparse
import statistics
import time

import numpy as np

SHAPES = {  # name: (m, k, n) of an (m x k) @ (k x n) product
    "MLP b64 forward": (64, 784, 512),
    "MLP b512 forward": (512, 784, 512),
    "MLP b512 weight grad": (512, 512, 784),
    "conv1 b64 columns @ W": (50176, 25, 6),
    "conv1 b64 W @ columns": (6, 25, 50176),
    "conv1 b64 weight grad": (6, 50176, 25),
    "conv2 b64 columns @ W": (6400, 150, 16),
    "conv2 b64 W @ columns": (16, 150, 6400),
    "conv2 b64 weight grad": (16, 6400, 150),
    "conv2 b64 input grad": (6400, 16, 150),
    "1024^2": (1024, 1024, 1024),
}


def mkl_gemm():
    from ember_fast import gemm
    if not gemm.available():
        return None
    return gemm.matmul


def blis_gemm():
    try:
        import blis.py
    except ImportError:
        return None
    return lambda a, b: blis.py.gemm(a, b, out=np.empty((a.shape[0], b.shape[1]), np.float32), beta=0.0)


def seconds(fn, a, b, repeats, wall):
    clock = time.perf_counter if wall else time.process_time
    calls = max(1, int(3e8 / (a.shape[0] * a.shape[1] * b.shape[1])))
    fn(a, b)
    samples = []
    for _ in range(repeats):
        start = clock()
        for _ in range(calls):
            fn(a, b)
        samples.append((clock() - start) / calls)
    return statistics.median(samples)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args(argv)
    import ember
    ember.set_num_threads(args.threads)
    candidates = {"MKL": mkl_gemm(), "BLIS": blis_gemm()}
    candidates = {name: fn for name, fn in candidates.items() if fn is not None}
    rng = np.random.default_rng(0)
    print(f"threads {args.threads}; {'wall' if args.threads > 1 else 'CPU'} time; ratios over numpy (OpenBLAS)")
    print("| product | m x k x n | numpy us | " + " | ".join(f"{n}/numpy" for n in candidates) + " |")
    print("|---|---|---:|" + "---:|" * len(candidates))
    for name, (m, k, n) in SHAPES.items():
        a, b = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)
        want = a.astype(np.float64) @ b
        for label, fn in candidates.items():
            np.testing.assert_allclose(fn(a, b), want, rtol=1e-3, atol=1e-3 * np.abs(want).max(), err_msg=label)
        base = seconds(np.matmul, a, b, args.repeats, args.threads > 1)
        ratios = [seconds(fn, a, b, args.repeats, args.threads > 1) / base for fn in candidates.values()]
        print(f"| {name} | {m}x{k}x{n} | {base * 1e6:.0f} | " + " | ".join(f"{r:.2f}" for r in ratios) + " |",
              flush=True)


if __name__ == "__main__":
    main()
