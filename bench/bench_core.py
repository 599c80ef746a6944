"""Per-op overhead, a matmul, a training step and import time: ember against PyTorch and numpy.

Run: ``python bench/bench_core.py``. Prints the best-of-N time per call and ember's ratio to each
baseline (lower is better; < 1 means ember is faster). The machine is shared and noisy: compare
ratios from one run, never absolute numbers across runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import timeit

import numpy as np


def best(fn, number, repeat=7):
    """Best per-call time in microseconds over ``repeat`` runs of ``number`` calls."""
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def import_time(module: str, runs: int = 5) -> float:
    """Best wall time in ms of a fresh interpreter importing ``module``, with bytecode caching on (as a
    user has it: PYTHONDONTWRITEBYTECODE would make every import recompile every module) and warmed once."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.check_output([sys.executable, "-c", code], text=True, env=env)
    times = [float(subprocess.check_output([sys.executable, "-c", code], text=True, env=env)) for _ in range(runs)]
    return min(times) * 1e3


def numpy_mlp_step(params, x, y, lr=0.01):
    """The seed MLP's training step written by hand in numpy: the floor ember aims for."""
    w1, b1, w2, b2 = params
    h = x @ w1.T + b1
    a = np.maximum(h, 0)
    logits = a @ w2.T + b2
    shifted = logits - logits.max(1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    n = x.shape[0]
    loss = -logp[np.arange(n), y].mean()
    g = np.exp(logp)
    g[np.arange(n), y] -= 1
    g /= n
    gw2, gb2 = g.T @ a, g.sum(0)
    ga = g @ w2
    ga *= h > 0
    gw1, gb1 = ga.T @ x, ga.sum(0)
    for p, gp in zip(params, (gw1, gb1, gw2, gb2)):
        p -= lr * gp
    return loss


def main():
    import ember
    import torch

    rows = []

    def row(name, e, t, n=None):
        rows.append((name, e, t, n))

    a, b = ember.ones(1), ember.ones(1)
    ta, tb = torch.ones(1), torch.ones(1)
    na, nb = np.ones(1, np.float32), np.ones(1, np.float32)
    row("a + b, 1 element", best(lambda: a + b, 20000), best(lambda: ta + tb, 20000), best(lambda: na + nb, 20000))
    ag, tg = ember.ones(1, requires_grad=True), torch.ones(1, requires_grad=True)
    row("a + b, 1 element, recording", best(lambda: ag + b, 20000), best(lambda: tg + tb, 20000))
    ember.manual_seed(0)
    x, w = ember.randn(64, 784), ember.randn(784, 512)
    tx, tw = torch.from_numpy(x.numpy()), torch.from_numpy(w.numpy())
    nx, nw = x.numpy(), w.numpy()
    row("matmul 64x784 @ 784x512", best(lambda: x @ w, 300), best(lambda: tx @ tw, 300), best(lambda: nx @ nw, 300))

    model = ember.nn.Sequential(ember.nn.Flatten(), ember.nn.Linear(784, 512), ember.nn.ReLU(),
                                ember.nn.Linear(512, 10))
    tmodel = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                 torch.nn.Linear(512, 10))
    tmodel.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    opt, topt = ember.optim.SGD(model.parameters(), lr=0.01), torch.optim.SGD(tmodel.parameters(), lr=0.01)
    crit, tcrit = ember.nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    images = ember.randn(64, 1, 28, 28)
    labels = ember.randint(0, 10, (64,))
    timages, tlabels = torch.from_numpy(images.numpy()), torch.from_numpy(labels.numpy())
    nparams = [p.detach().numpy().copy() for p in model.parameters()]
    nimages, nlabels = images.numpy().reshape(64, -1), labels.numpy()

    def step():
        opt.zero_grad()
        loss = crit(model(images), labels)
        loss.backward()
        opt.step()

    def tstep():
        topt.zero_grad()
        loss = tcrit(tmodel(timages), tlabels)
        loss.backward()
        topt.step()

    row("seed MLP training step, batch 64", best(step, 100), best(tstep, 100),
        best(lambda: numpy_mlp_step(nparams, nimages, nlabels), 100))
    row("import (ms)", import_time("ember"), import_time("torch", runs=2), import_time("numpy"))

    print(f"{'benchmark':36} {'ember':>10} {'torch':>10} {'numpy':>10} {'ember/torch':>12} {'ember/numpy':>12}")
    for name, e, t, n in rows:
        unit = "ms" if "import" in name else "us"
        print(f"{name:36} {e:9.2f}{unit[0]} {t:9.2f}{unit[0]} " + (f"{n:9.2f}{unit[0]} " if n else f"{'-':>10} ")
              + f"{e / t:12.2f} " + (f"{e / n:12.2f}" if n else f"{'-':>12}"))


if __name__ == "__main__":
    main()
