"""The benchmark workloads, each written once for PyTorch-like frameworks and once in numpy.

A *torch-like* builder takes a ``Backend`` (a framework module with PyTorch's
API: ``T``, ``T.nn``, ``T.nn.functional``, ``T.optim``) and the workload's
data, and returns a ``Case``. The same builder serves ``torch`` and ``ember``,
so both run literally the same code. A *numpy* builder takes only the data and
returns a ``Case`` around the hand-written step in numpy_ref.py. Peer
frameworks with an API of their own (tinygrad, chainer) bring their builders
in a ``Peer`` (peer_tinygrad.py, peer_chainer.py), keyed by workload name.

Data (inputs, labels, initial parameters in PyTorch's layout) is generated
once per workload with numpy from a fixed seed and shared by every
implementation, which is what makes the numerics check possible.
"""
import functools
import gzip
import importlib
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

import numpy_ref

# The transformer block uses the tanh GELU so that plain numpy can express it
# (numpy has no erf); it is F.gelu(x, approximate="tanh") in PyTorch.
GELU_APPROXIMATE = "tanh"
OPS_PER_CALL = 1000  # op_overhead_* workloads: ops per timed call


# --------------------------------------------------------------------------
# Plumbing


class Backend:
    """A PyTorch-like module and its namespaces, resolved lazily.

    Lazy so that a framework missing e.g. ``optim`` still runs the workloads
    that do not need it; the AttributeError surfaces per workload.
    """

    def __init__(self, module):
        self.T = module

    @functools.cached_property
    def nn(self):
        return _submodule(self.T, "nn")

    @functools.cached_property
    def F(self):
        return _submodule(self.nn, "functional")

    @functools.cached_property
    def optim(self):
        return _submodule(self.T, "optim")


def _submodule(parent, name):
    try:
        return getattr(parent, name)
    except AttributeError:
        return importlib.import_module(f"{parent.__name__}.{name}")


class Peer:
    """A framework with an API of its own, e.g. tinygrad or chainer.

    ``builders`` maps workload names to ``(peer, data) -> Case``; a workload
    without a builder shows ``n/a`` for it. ``info`` describes the framework
    (version, device, ...) for the environment report.
    """

    def __init__(self, name, builders, info):
        self.name, self.builders, self.info = name, builders, info

    def build(self, workload, data):
        builder = self.builders.get(workload)
        return builder(self, data) if builder else None


@dataclass
class Case:
    """One implementation of one workload, ready to time.

    ``step()`` runs one iteration (and returns the loss, if there is one);
    ``grads()`` returns the last iteration's parameter gradients as arrays.
    ``check_step``, if set, is what the numerics check runs instead of
    ``step``: the same iteration, but also keeping the gradients, which a lazy
    framework's timed step would fuse into the optimizer update and never
    materialise.
    """

    step: Callable[[], Any]
    grads: Optional[Callable[[], list]] = None
    check_step: Optional[Callable[[], Any]] = None


@dataclass
class Workload:
    """A benchmark: its data, its torch/ember builder and (optionally) its numpy one."""

    name: str
    unit: str                       # "ms", "us/op" or "GFLOP/s"
    description: str
    make_data: Callable[[np.random.Generator], dict]
    torchlike: Optional[Callable[[Backend, dict], Case]] = None
    numpy: Optional[Callable[[dict], Case]] = None
    work_per_call: float = 1.0      # ops per call (us/op) or FLOPs per call (GFLOP/s)
    check: bool = False             # compare losses and grads across implementations
    smoke_data: Optional[Callable[[np.random.Generator], dict]] = None  # tiny data for --smoke
    long: bool = False              # one call is seconds (an epoch, a process start): no warm-up
                                    # beyond the first call, one call per batch, few rounds
    rounds: Optional[int] = None    # a long workload's rounds (default bench.LONG_ROUNDS), at most the mode's

    def value(self, seconds_per_call):
        """Convert a time per call into this workload's reported unit."""
        if self.unit == "ms":
            return seconds_per_call * 1e3
        if self.unit == "s":
            return seconds_per_call
        if self.unit == "us/op":
            return seconds_per_call / self.work_per_call * 1e6
        if self.unit == "GFLOP/s":
            return self.work_per_call / seconds_per_call / 1e9
        raise ValueError(f"unknown unit {self.unit!r}")

    def build(self, impl, backend, data):
        """A fresh Case for implementation impl, or None if it has none."""
        if impl == "numpy":
            return self.numpy(data) if self.numpy else None
        if isinstance(backend, Peer):
            return backend.build(self.name, data)
        return self.torchlike(backend, data) if self.torchlike else None


def to_numpy(t):
    """A framework tensor (or numpy array) as a numpy array."""
    if isinstance(t, np.ndarray):
        return t
    if hasattr(t, "detach"):
        t = t.detach()
    return np.asarray(t.numpy())


def to_float(x):
    return float(x.item()) if hasattr(x, "item") else float(x)


def load_params(bk, module, arrays):
    """Overwrite a module's parameters, in registration order, with arrays."""
    params = list(module.parameters())
    shapes = [tuple(p.shape) for p in params]
    expected = [a.shape for a in arrays]
    if shapes != expected:
        raise ValueError(f"parameter shapes {shapes} != initial arrays {expected}")
    with bk.T.no_grad():
        for p, a in zip(params, arrays):
            p.copy_(bk.T.tensor(a))


def grads_of(module):
    return lambda: [to_numpy(p.grad) for p in module.parameters()]


def train_step_case(bk, model, make_optimizer, d):
    """One classifier training step: zero_grad, forward, cross-entropy, backward, step."""
    load_params(bk, model, d["params"])
    opt = make_optimizer(model.parameters(), lr=d["lr"])
    x, y = bk.T.tensor(d["x"]), bk.T.tensor(d["y"])
    cross_entropy = bk.F.cross_entropy

    def step():
        opt.zero_grad()
        loss = cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return Case(step, grads_of(model))


# --------------------------------------------------------------------------
# Data


def uniform(rng, shape, bound):
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def linear_init(rng, n_in, n_out):
    """PyTorch's default nn.Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1.0 / math.sqrt(n_in)
    return [uniform(rng, (n_out, n_in), bound), uniform(rng, (n_out,), bound)]


def conv_init(rng, c_in, c_out, k):
    bound = 1.0 / math.sqrt(c_in * k * k)
    return [uniform(rng, (c_out, c_in, k, k), bound), uniform(rng, (c_out,), bound)]


def layer_norm_init(d):
    return [np.ones(d, np.float32), np.zeros(d, np.float32)]


def normal(rng, *shape):
    return rng.standard_normal(shape, dtype=np.float32)


def labels(rng, n, classes=10):
    return rng.integers(0, classes, size=n)


# --------------------------------------------------------------------------
# 1-2. MLP training step


def mlp_data(batch):
    def make(rng):
        return {
            "params": linear_init(rng, 784, 512) + linear_init(rng, 512, 10),
            "x": normal(rng, batch, 784),
            "y": labels(rng, batch),
            "lr": 0.01,
        }
    return make


def mlp_torchlike(bk, d):
    nn = bk.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
    return train_step_case(bk, model, bk.optim.SGD, d)


def mlp_numpy(d):
    step = numpy_ref.MLPStep(d["params"], d["x"], d["y"], d["lr"])
    return Case(step, lambda: step.grads)


# --------------------------------------------------------------------------
# 3. LeNet-like CNN training step


def cnn_data(batch):
    def make(rng):
        return {
            "params": (conv_init(rng, 1, 6, 5) + conv_init(rng, 6, 16, 5)
                       + linear_init(rng, 400, 120) + linear_init(rng, 120, 84)
                       + linear_init(rng, 84, 10)),
            "x": normal(rng, batch, 1, 28, 28),
            "y": labels(rng, batch),
            "lr": 1e-3,
        }
    return make


def cnn_torchlike(bk, d):
    nn = bk.nn
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )
    return train_step_case(bk, model, bk.optim.Adam, d)


def cnn_numpy(d):
    step = numpy_ref.LeNetStep(d["params"], d["x"], d["y"], d["lr"])
    return Case(step, lambda: step.grads)


# --------------------------------------------------------------------------
# 4. Per-op overhead on 1-element tensors


def add_data(rng):
    return {"a": normal(rng, 1), "b": normal(rng, 1)}


def _add_loop(a, b):
    def step():
        for _ in range(OPS_PER_CALL):
            c = a + b  # noqa: F841
    return Case(step)


def add_torchlike(bk, d):
    return _add_loop(bk.T.tensor(d["a"]), bk.T.tensor(d["b"]))


def add_grad_torchlike(bk, d):
    return _add_loop(bk.T.tensor(d["a"], requires_grad=True),
                     bk.T.tensor(d["b"], requires_grad=True))


def add_numpy(d):
    return _add_loop(d["a"].copy(), d["b"].copy())


# --------------------------------------------------------------------------
# 5. Matmul


MATMUL_N = 1024


def matmul_data(rng, n=MATMUL_N):
    return {"a": normal(rng, n, n), "b": normal(rng, n, n)}


def _matmul(a, b):
    def step():
        return a @ b
    return Case(step)


def matmul_torchlike(bk, d):
    return _matmul(bk.T.tensor(d["a"]), bk.T.tensor(d["b"]))


def matmul_numpy(d):
    return _matmul(d["a"], d["b"])


# --------------------------------------------------------------------------
# 6. Adam step over 1M parameters


ADAM_TENSORS, ADAM_NUMEL = 10, 1_000_000


def adam_data(rng, numel=ADAM_NUMEL):
    n = numel // ADAM_TENSORS
    return {"params": [normal(rng, n) for _ in range(ADAM_TENSORS)],
            "grads": [normal(rng, n) for _ in range(ADAM_TENSORS)]}


def adam_torchlike(bk, d):
    T = bk.T
    params = [T.tensor(p, requires_grad=True) for p in d["params"]]
    for p, g in zip(params, d["grads"]):
        p.grad = T.tensor(g)
    opt = bk.optim.Adam(params, lr=1e-3)
    return Case(opt.step)


def adam_numpy(d):
    opt = numpy_ref.Adam([p.copy() for p in d["params"]], lr=1e-3)
    grads = d["grads"]
    return Case(lambda: opt.step(grads))


# --------------------------------------------------------------------------
# 7. Transformer encoder block, forward + backward


D_MODEL, N_HEADS, D_FFN, SEQ, BATCH = 256, 4, 1024, 128, 8


def transformer_data(rng, batch=BATCH, seq=SEQ):
    return {
        "params": (layer_norm_init(D_MODEL)
                   + linear_init(rng, D_MODEL, D_MODEL)       # q
                   + linear_init(rng, D_MODEL, D_MODEL)       # k
                   + linear_init(rng, D_MODEL, D_MODEL)       # v
                   + linear_init(rng, D_MODEL, D_MODEL)       # proj
                   + layer_norm_init(D_MODEL)
                   + linear_init(rng, D_MODEL, D_FFN)         # fc1
                   + linear_init(rng, D_FFN, D_MODEL)),       # fc2
        "x": normal(rng, batch, seq, D_MODEL),
    }


def make_block_class(bk):
    """A pre-LN encoder block written from primitives against backend bk."""
    nn, F = bk.nn, bk.F

    class Block(nn.Module):
        def __init__(self, d_model, n_heads, d_ffn):
            super().__init__()
            self.n_heads = n_heads
            self.ln1 = nn.LayerNorm(d_model)
            self.q = nn.Linear(d_model, d_model)
            self.k = nn.Linear(d_model, d_model)
            self.v = nn.Linear(d_model, d_model)
            self.proj = nn.Linear(d_model, d_model)
            self.ln2 = nn.LayerNorm(d_model)
            self.fc1 = nn.Linear(d_model, d_ffn)
            self.fc2 = nn.Linear(d_ffn, d_model)

        def attention(self, h):
            b, s, d = h.shape
            nh, dh = self.n_heads, d // self.n_heads
            q = self.q(h).reshape(b, s, nh, dh).transpose(1, 2)   # (B, H, S, Dh)
            k = self.k(h).reshape(b, s, nh, dh).transpose(1, 2)
            v = self.v(h).reshape(b, s, nh, dh).transpose(1, 2)
            scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(dh))
            ctx = F.softmax(scores, dim=-1) @ v
            return self.proj(ctx.transpose(1, 2).reshape(b, s, d))

        def forward(self, x):
            x = x + self.attention(self.ln1(x))
            return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate=GELU_APPROXIMATE))

    return Block


def transformer_torchlike(bk, d):
    block = make_block_class(bk)(D_MODEL, N_HEADS, D_FFN)
    load_params(bk, block, d["params"])
    x = bk.T.tensor(d["x"])

    def step():
        block.zero_grad()
        out = block(x)
        loss = (out * out).mean()
        loss.backward()
        return loss

    return Case(step, grads_of(block))


def transformer_numpy(d):
    step = numpy_ref.TransformerBlockStep(d["params"], d["x"], N_HEADS)
    return Case(step, lambda: step.grads)


# --------------------------------------------------------------------------
# 8. Fashion-MNIST: one epoch of `ember train --model cnn`'s model and loop


FASHION_MNIST = os.environ.get("FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
EPOCH_IMAGES = {"full": 60_000, "quick": 6_000, "smoke": 64}  # bench.py picks the mode's subset
EPOCH_MODE = "full"
EPOCH_BATCH, EPOCH_LR, EPOCH_MOMENTUM = 32, 0.01, 0.9     # ember train's defaults (SGD)


def read_idx(path):
    """An IDX file (gzip'd or not) of the MNIST family as a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist_data(rng, images=None):
    images = images or EPOCH_IMAGES[EPOCH_MODE]
    x = read_idx(os.path.join(FASHION_MNIST, "train-images-idx3-ubyte.gz"))[:images]
    y = read_idx(os.path.join(FASHION_MNIST, "train-labels-idx1-ubyte.gz"))[:images]
    return {
        "params": (conv_init(rng, 1, 16, 3) + conv_init(rng, 16, 32, 3) + linear_init(rng, 32 * 7 * 7, 10)),
        "x": (x.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28),  # ToTensor(), as ember train
        "y": y.astype(np.int64),
    }


def fashion_mnist_epoch_torchlike(bk, d):
    """ember train's CNN (two 3x3 conv + ReLU + 2x2 max-pool blocks, a linear classifier) and loop: a
    shuffling DataLoader over the training images, batch 32, SGD(lr=0.01, momentum=0.9), one epoch."""
    nn, T = bk.nn, bk.T
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
    load_params(bk, model, d["params"])
    opt = bk.optim.SGD(model.parameters(), lr=EPOCH_LR, momentum=EPOCH_MOMENTUM)
    data = _submodule(_submodule(T, "utils"), "data")
    x, y = T.tensor(d["x"]), T.tensor(d["y"])
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=EPOCH_BATCH, shuffle=True)
    cross_entropy = bk.F.cross_entropy

    def train_step(images, labels):
        opt.zero_grad()
        loss = cross_entropy(model(images), labels)
        loss.backward()
        opt.step()
        return loss

    def epoch():
        for images, labels in loader:
            loss = train_step(images, labels)
        return loss

    first = (x[:EPOCH_BATCH], y[:EPOCH_BATCH])
    return Case(epoch, grads_of(model), check_step=lambda: train_step(*first))


# --------------------------------------------------------------------------
# 9. import time


def _import_case(module):
    """``python -c "import <module>"`` in a new process, as a user of the installed package starts it:
    with bytecode caches. ``PYTHONDONTWRITEBYTECODE`` (set in some shells and CI images) is dropped from
    the child's environment so that the first call, the warm-up, writes them; with it, every call would
    compile a source checkout's modules again (measured: 0.4 s instead of 0.15 s for ember)."""
    command = [sys.executable, "-c", f"import {module}"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def start():
        subprocess.run(command, check=True, env=env)
    return Case(start)


def import_torchlike(bk, d):
    return _import_case(bk.T.__name__)


def import_numpy(d):
    return _import_case("numpy")


# --------------------------------------------------------------------------
# Registry, in report order


WORKLOADS = [
    Workload("mlp_step_b64", "ms", "MLP 784-512-10 train step (SGD), batch 64",
             mlp_data(64), mlp_torchlike, mlp_numpy, check=True, smoke_data=mlp_data(4)),
    Workload("mlp_step_b512", "ms", "MLP 784-512-10 train step (SGD), batch 512",
             mlp_data(512), mlp_torchlike, mlp_numpy, check=True, smoke_data=mlp_data(8)),
    Workload("cnn_step_b64", "ms", "LeNet-like CNN train step (Adam), batch 64",
             cnn_data(64), cnn_torchlike, cnn_numpy, check=True, smoke_data=cnn_data(2)),
    Workload("op_overhead_add", "us/op", "c = a + b, 1-element float32, no grad",
             add_data, add_torchlike, add_numpy, work_per_call=OPS_PER_CALL),
    Workload("op_overhead_add_grad", "us/op", "c = a + b, 1-element float32, requires_grad",
             add_data, add_grad_torchlike, None, work_per_call=OPS_PER_CALL),
    Workload("matmul_1024", "GFLOP/s", "1024x1024 @ 1024x1024 float32",
             matmul_data, matmul_torchlike, matmul_numpy, work_per_call=2 * MATMUL_N ** 3,
             smoke_data=functools.partial(matmul_data, n=32)),
    Workload("adam_step_1M", "ms", "Adam step, 1M float32 params in 10 tensors",
             adam_data, adam_torchlike, adam_numpy, smoke_data=functools.partial(adam_data, numel=1000)),
    Workload("transformer_block_fwd_bwd", "ms",
             "pre-LN encoder block d256 h4 ffn1024 seq128 b8, fwd+bwd",
             transformer_data, transformer_torchlike, transformer_numpy, check=True,
             smoke_data=functools.partial(transformer_data, batch=1, seq=8)),
    Workload("fashion_mnist_cnn_epoch", "s",
             "ember train --model cnn: one Fashion-MNIST epoch (quick: 6000 images), batch 32, SGD",
             fashion_mnist_data, fashion_mnist_epoch_torchlike, None, check=True, long=True,
             smoke_data=functools.partial(fashion_mnist_data, images=EPOCH_IMAGES["smoke"])),
    Workload("import", "s", "python -c 'import <framework>' (numpy: import numpy), in a new process",
             lambda rng: {}, import_torchlike, import_numpy, long=True, rounds=15),
]
