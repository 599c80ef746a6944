"""Convolutional and attention workloads, forward + backward: ember against PyTorch (CPU) and plain numpy.

- LeNet features at batch 64: conv2d(1->6, 5x5) -> max_pool2d(2) -> conv2d(6->16, 5x5) -> max_pool2d(2),
  gradients for both weights and biases.
- Attention: q, k, v of shape (64, 8, 32, 16), gradients for all three.

Run: ``python bench/bench_conv.py``. Prints the median time of several repeats and ember's ratio to each
baseline (lower is better). The machine is shared and noisy: compare ratios from one run only.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

import ember
import ember.nn.functional as F


def median_ms(fn, repeat=15, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


# -- plain numpy references ---------------------------------------------------------------------------

def np_conv(x, w, b):
    k = w.shape[-1]
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))  # (B, C, H', W', k, k)
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(-1, w[0].size)
    out = cols @ w.reshape(w.shape[0], -1).T + b
    bsz, _, h, wd = win.shape[:4]
    return out.reshape(bsz, h, wd, -1).transpose(0, 3, 1, 2), cols


def np_conv_backward(g, x_shape, w, cols, need_x=True):
    bsz, o, h, wd = g.shape
    gm = g.transpose(0, 2, 3, 1).reshape(-1, o)
    gw = (gm.T @ cols).reshape(w.shape)
    gb = gm.sum(0)
    if not need_x:
        return None, gw, gb
    gcols = (gm @ w.reshape(o, -1)).reshape(bsz, h, wd, x_shape[1], w.shape[2], w.shape[3])
    gx = np.zeros(x_shape, dtype=g.dtype)
    for i in range(w.shape[2]):
        for j in range(w.shape[3]):
            gx[:, :, i:i + h, j:j + wd] += gcols[..., i, j].transpose(0, 3, 1, 2)
    return gx, gw, gb


def np_pool(x):
    bsz, c, h, w = x.shape
    blocks = x.reshape(bsz, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(bsz, c, h // 2, w // 2, 4)
    arg = blocks.argmax(-1)
    return np.take_along_axis(blocks, arg[..., None], -1)[..., 0], arg


def np_pool_backward(g, arg, shape):
    bsz, c, h, w = shape
    out = np.zeros((bsz, c, h // 2, w // 2, 4), dtype=g.dtype)
    np.put_along_axis(out, arg[..., None], g[..., None], -1)
    return out.reshape(bsz, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(shape)


def np_lenet(x, w1, b1, w2, b2):
    h1, cols1 = np_conv(x, w1, b1)
    p1, a1 = np_pool(h1)
    h2, cols2 = np_conv(p1, w2, b2)
    p2, a2 = np_pool(h2)
    g2 = np_pool_backward(np.ones_like(p2), a2, h2.shape)
    gp1, gw2, gb2 = np_conv_backward(g2, p1.shape, w2, cols2)
    g1 = np_pool_backward(gp1, a1, h1.shape)
    _, gw1, gb1 = np_conv_backward(g1, x.shape, w1, cols1, need_x=False)
    return gw1, gb1, gw2, gb2


def np_attention(q, k, v):
    scale = 1 / np.sqrt(q.shape[-1])
    s = (q * scale) @ k.swapaxes(-1, -2)
    e = np.exp(s - s.max(-1, keepdims=True))
    p = e / e.sum(-1, keepdims=True)
    out = p @ v
    g = np.ones_like(out)
    gv = p.swapaxes(-1, -2) @ g
    gp = g @ v.swapaxes(-1, -2)
    gs = p * (gp - (gp * p).sum(-1, keepdims=True))
    gq = gs @ k * scale
    gk = gs.swapaxes(-1, -2) @ q * scale
    return gq, gk, gv


def main():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    params = [rng.standard_normal(s).astype(np.float32) * 0.1 for s in ((6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,))]
    qkv = [rng.standard_normal((64, 8, 32, 16)).astype(np.float32) for _ in range(3)]

    ex = ember.tensor(x)
    ep = [ember.tensor(p, requires_grad=True) for p in params]
    eqkv = [ember.tensor(a, requires_grad=True) for a in qkv]

    def ember_lenet():
        h = F.max_pool2d(F.conv2d(ex, ep[0], ep[1]), 2)
        h = F.max_pool2d(F.conv2d(h, ep[2], ep[3]), 2)
        h.sum().backward()
        for p in ep:
            p.grad = None

    def ember_attention():
        F.scaled_dot_product_attention(*eqkv).sum().backward()
        for p in eqkv:
            p.grad = None

    results = {"lenet": {"ember": median_ms(ember_lenet), "numpy": median_ms(lambda: np_lenet(x, *params))},
               "attention": {"ember": median_ms(ember_attention), "numpy": median_ms(lambda: np_attention(*qkv))}}
    try:
        import torch
        torch.set_num_threads(max(1, torch.get_num_threads()))
        tx = torch.from_numpy(x)
        tp = [torch.from_numpy(p.copy()).requires_grad_(True) for p in params]
        tqkv = [torch.from_numpy(a.copy()).requires_grad_(True) for a in qkv]
        tf = torch.nn.functional

        def torch_lenet():
            h = tf.max_pool2d(tf.conv2d(tx, tp[0], tp[1]), 2)
            h = tf.max_pool2d(tf.conv2d(h, tp[2], tp[3]), 2)
            h.sum().backward()
            for p in tp:
                p.grad = None

        def torch_attention():
            tf.scaled_dot_product_attention(*tqkv).sum().backward()
            for p in tqkv:
                p.grad = None

        results["lenet"]["torch"] = median_ms(torch_lenet)
        results["attention"]["torch"] = median_ms(torch_attention)
    except ImportError:
        pass

    print(f"{'workload (fwd+bwd)':<22}{'ember ms':>10}{'torch ms':>10}{'numpy ms':>10}{'vs torch':>10}{'vs numpy':>10}")
    for name, r in results.items():
        t = r.get("torch", float("nan"))
        print(f"{name:<22}{r['ember']:>10.2f}{t:>10.2f}{r['numpy']:>10.2f}{r['ember'] / t:>10.2f}"
              f"{r['ember'] / r['numpy']:>10.2f}")


if __name__ == "__main__":
    main()
