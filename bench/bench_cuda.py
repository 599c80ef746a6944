"""GPU workloads timed for PyTorch and ember on one device, in one process, as ratios (ember / torch).

    python bench/bench_cuda.py                  # on cuda:0 (a machine with a GPU, CuPy and torch)
    python bench/bench_cuda.py --device cpu     # the same code on the CPU, to check the script itself

Each workload is written once against a torch-like module (``fw`` is ``torch`` or ``ember``), starts
from the same numpy weights in both, and checks that both compute the same loss before it is timed.
A call is timed from a synchronised start to a synchronised end; the figure is the median of
``--repeat`` such calls after ``--warmup``. The device is named in the output, for the issue note.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np


def _weights(rng, *shape):
    return (rng.standard_normal(shape) / np.sqrt(shape[-1])).astype(np.float32)


def _load(fw, module, rng):
    with fw.no_grad():
        for p in module.parameters():
            p.copy_(fw.tensor(_weights(rng, *p.shape) if p.dim() > 1 else np.zeros(p.shape, np.float32)))


def _classifier_step(fw, model, x, y, opt):
    """One training step of ``model`` on (x, y) with cross-entropy: the call that is timed."""
    def step():
        opt.zero_grad()
        loss = fw.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def mlp_step(fw, device, rng, batch=512):
    model = fw.nn.Sequential(fw.nn.Linear(784, 512), fw.nn.ReLU(), fw.nn.Linear(512, 10)).to(device)
    _load(fw, model, rng)
    x = fw.tensor(rng.standard_normal((batch, 784)).astype(np.float32)).to(device)
    y = fw.tensor(rng.integers(0, 10, batch)).to(device)
    return _classifier_step(fw, model, x, y, fw.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))


def lenet_step(fw, device, rng, batch=64):
    nn = fw.nn
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                          nn.Linear(84, 10)).to(device)
    _load(fw, model, rng)
    x = fw.tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)).to(device)
    y = fw.tensor(rng.integers(0, 10, batch)).to(device)
    return _classifier_step(fw, model, x, y, fw.optim.Adam(model.parameters(), lr=1e-3))


def transformer_block(fw, device, rng, batch=8, seq=128, d_model=256, heads=4):
    nn, F = fw.nn, fw.nn.functional
    ln1, ln2 = nn.LayerNorm(d_model).to(device), nn.LayerNorm(d_model).to(device)
    qkv, proj = nn.Linear(d_model, 3 * d_model).to(device), nn.Linear(d_model, d_model).to(device)
    ff1, ff2 = nn.Linear(d_model, 4 * d_model).to(device), nn.Linear(4 * d_model, d_model).to(device)
    params = [p for m in (qkv, proj, ff1, ff2) for p in m.parameters()]
    for m in (qkv, proj, ff1, ff2):
        _load(fw, m, rng)
    x = fw.tensor(rng.standard_normal((batch, seq, d_model)).astype(np.float32)).to(device)

    def step():
        for p in params + list(ln1.parameters()) + list(ln2.parameters()):
            p.grad = None
        q, k, v = qkv(ln1(x)).reshape(batch, seq, 3, heads, d_model // heads).permute(2, 0, 3, 1, 4)
        attn = F.softmax(q @ k.transpose(-2, -1) / (d_model // heads) ** 0.5, dim=-1)
        h = x + proj((attn @ v).transpose(1, 2).reshape(batch, seq, d_model))
        out = h + ff2(F.gelu(ff1(ln2(h)), approximate="tanh"))
        loss = (out * out).mean()
        loss.backward()
        return loss
    return step


def matmul_4096(fw, device, rng, n=4096):
    a = fw.tensor(rng.standard_normal((n, n)).astype(np.float32)).to(device)
    b = fw.tensor(rng.standard_normal((n, n)).astype(np.float32)).to(device)
    return lambda: (a @ b)[0, 0]


WORKLOADS = {"mlp_step_b512": mlp_step, "lenet_step_b64": lenet_step, "transformer_block_fwd_bwd": transformer_block,
             "matmul_4096": matmul_4096}


def _time(step, sync, warmup, repeat):
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _sync(fw, device):
    if device.startswith("cuda"):
        return fw.cuda.synchronize
    return lambda: None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--only", help="comma-separated workload names")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    import torch

    import ember
    names = args.only.split(",") if args.only else list(WORKLOADS)
    device_name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu"
    print(f"device: {args.device} ({device_name})")
    results = {}
    for name in names:
        steps = {}
        for fw in (torch, ember):
            steps[fw.__name__] = WORKLOADS[name](fw, args.device, np.random.default_rng(0))
        losses = {k: float(s().detach().cpu().numpy()) for k, s in steps.items()}  # one step each, same start
        agree = np.isclose(losses["torch"], losses["ember"], rtol=1e-3, atol=1e-3)
        ms = {k: 1e3 * _time(s, _sync(torch if k == "torch" else ember, args.device), args.warmup, args.repeat)
              for k, s in steps.items()}
        results[name] = {"torch_ms": ms["torch"], "ember_ms": ms["ember"], "ratio": ms["ember"] / ms["torch"],
                         "same_value": bool(agree)}
        print(f"{name:28s} torch {ms['torch']:9.3f} ms  ember {ms['ember']:9.3f} ms  ember/torch "
              f"{ms['ember'] / ms['torch']:6.2f}  {'values agree' if agree else 'VALUES DIFFER ' + str(losses)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": args.device, "device_name": device_name, "results": results}, f, indent=2)
    return 0 if all(r["same_value"] for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
