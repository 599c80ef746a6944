"""Every optimizer, for each of its declared option sets, follows PyTorch's parameter trajectory
over 20 steps (float64 tight, float32 loose), with two param groups with different options; and
resuming from a state_dict mid-training gives the same trajectory as never stopping."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from problems import initial, loss_and_grads

NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS"]
CASES = [(name, i) for name in NAMES for i in range(len(getattr(ember.optim, name).sample_options))]
TOL = {np.float64: dict(rtol=1e-9, atol=1e-11), np.float32: dict(rtol=2e-4, atol=2e-5)}
# LBFGS's line search branches on float32 dot products, whose summation order differs from PyTorch's


class Run:
    """One framework's parameters and optimizer on the shared problem."""

    def __init__(self, lib, name, options, dtype, w=None, b=None):
        import torch
        self.lib = lib
        w0, b0 = initial(dtype) if w is None else (w, b)
        if lib is torch:
            self.w, self.b = torch.nn.Parameter(torch.tensor(w0)), torch.nn.Parameter(torch.tensor(b0))
        else:
            self.w, self.b = ember.nn.Parameter(ember.tensor(w0)), ember.nn.Parameter(ember.tensor(b0))
        cls = getattr(lib.optim, name)
        if name == "LBFGS":
            self.opt = cls([self.w, self.b], **options)
        else:
            self.opt = cls([{"params": [self.w]}, {"params": [self.b], "lr": options["lr"] * 0.5}], **options)

    def closure(self):
        self.opt.zero_grad()
        w, b = self.w.detach().numpy(), self.b.detach().numpy()
        loss, gw, gb = loss_and_grads(w, b)
        if self.opt.param_groups[0].get("maximize"):  # maximize -f: the same descent, the other way round
            loss, gw, gb = -loss, -gw, -gb
        self.w.grad, self.b.grad = self.lib.tensor(gw.astype(w.dtype)), self.lib.tensor(gb.astype(b.dtype))
        return self.lib.tensor(loss)

    def step(self):
        if isinstance(self.opt, self.lib.optim.LBFGS):
            self.opt.step(self.closure)
        else:
            self.closure()
            self.opt.step()

    def params(self):
        return self.w.detach().numpy().copy(), self.b.detach().numpy().copy()


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name,index", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_trajectory_matches_torch(torch, name, index, dtype):
    options = getattr(ember.optim, name).sample_options[index]
    ours, theirs = Run(ember, name, options, dtype), Run(torch, name, options, dtype)
    for step in range(20):
        ours.step()
        theirs.step()
        for mine, ref in zip(ours.params(), theirs.params()):
            assert mine.dtype == dtype
            tol = dict(rtol=1e-3, atol=1e-4) if name == "LBFGS" and dtype == np.float32 else TOL[dtype]
            np.testing.assert_allclose(mine, ref, **tol, err_msg=f"{name}{options}: step {step}")


@pytest.mark.parametrize("name,index", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_resume_from_state_dict_gives_same_trajectory(torch, name, index):
    options = getattr(ember.optim, name).sample_options[index]
    straight = Run(ember, name, options, np.float64)
    for _ in range(20):
        straight.step()
    first = Run(ember, name, options, np.float64)
    for _ in range(10):
        first.step()
    saved = first.opt.state_dict()
    resumed = Run(ember, name, {**options, "lr": 123.0}, np.float64, *first.params())
    resumed.opt.load_state_dict(saved)
    for _ in range(10):
        first.step()  # the saved dict must not alias the live optimizer's state
        resumed.step()
    for a, b in zip(straight.params(), resumed.params()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_torch_optimizer_state_loads_into_ember(torch):
    """An Adam state_dict saved by PyTorch (tensors converted to numpy) continues PyTorch's trajectory."""
    options = {"lr": 0.05, "amsgrad": True}
    theirs = Run(torch, "Adam", options, np.float64)
    for _ in range(5):
        theirs.step()
    saved = theirs.opt.state_dict()
    converted = {"param_groups": saved["param_groups"],
                 "state": {k: {n: v.numpy() if isinstance(v, torch.Tensor) else v for n, v in s.items()}
                           for k, s in saved["state"].items()}}
    ours = Run(ember, "Adam", options, np.float64, *theirs.params())
    ours.opt.load_state_dict(converted)
    for _ in range(5):
        theirs.step()
        ours.step()
    for a, b in zip(ours.params(), theirs.params()):
        np.testing.assert_allclose(a, b, rtol=1e-10)
