"""Every registered layer, from each of its declared samples, matches PyTorch: from identical weights
(PyTorch's state_dict loaded as numpy arrays) and inputs, outputs, input gradients, parameter
gradients and updated buffers agree, in training and eval mode, float64 tight and float32 loose."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from layer_harness import (DTYPES, call_or_skip_missing_op, TOL, all_cases, build_pair, flatten, leaf, samples_of, stochastic,
                           tensors_in, to_torch, materialize)
from ember.plugins import registries

CASES = all_cases()


def _compare(ours, theirs, what, tol):
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape {tuple(ours.shape)} vs {tuple(theirs.shape)}"
    a, b = ours.detach().numpy(), theirs.detach().numpy()
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} vs {b.dtype}"
    np.testing.assert_allclose(a, b, **tol, err_msg=what)


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name,index", [c[:2] for c in CASES], ids=[c[2] for c in CASES])
def test_matches_torch(name, index, dtype, mode):
    dtype = DTYPES[dtype]
    sample = samples_of(name, dtype)[index]
    ours, theirs = build_pair(name, sample, dtype)
    if theirs is None:
        pytest.skip(f"{name}: sample built from other modules; parity is checked by the model tests")
    if mode == "train" and stochastic(ours):
        pytest.skip(f"{name}: training mode is random (dropout); parity is checked in eval mode")
    ours.train(mode == "train")
    theirs.train(mode == "train")
    tol = TOL[dtype]
    inputs = leaf(sample.inputs)
    t_inputs = to_torch(inputs)
    out = flatten(call_or_skip_missing_op(ours, inputs))
    t_out = flatten(theirs(*t_inputs))
    assert len(out) == len(t_out), f"{name}: {len(out)} outputs vs torch's {len(t_out)}"
    for i, (a, b) in enumerate(zip(out, t_out)):
        _compare(a, b, f"{name} output {i}", tol)

    rng = np.random.default_rng(7)
    loss, t_loss = 0, 0
    for a, b in zip(out, t_out):
        if b.requires_grad and b.is_floating_point():
            seed = rng.standard_normal(tuple(b.shape)).astype(b.detach().numpy().dtype)
            loss = loss + (a * ember.tensor(seed)).sum()
            t_loss = t_loss + (b * torch.from_numpy(seed)).sum()
    if isinstance(t_loss, torch.Tensor):
        loss.backward()
        t_loss.backward()
        for i, (x, tx) in enumerate(zip(tensors_in(inputs), tensors_in(t_inputs))):
            if tx.requires_grad:
                assert (x.grad is None) == (tx.grad is None), f"{name}: input {i} grad presence differs"
                if tx.grad is not None:
                    _compare(x.grad, tx.grad, f"{name} grad of input {i}", tol)
        t_params = dict(theirs.named_parameters())
        for pname, p in ours.named_parameters():
            tp = t_params[pname]
            assert (p.grad is None) == (tp.grad is None), f"{name}: grad presence of {pname} differs"
            if tp.grad is not None:
                _compare(p.grad, tp.grad, f"{name} grad of {pname}", tol)
    t_buffers = dict(theirs.named_buffers())
    for bname, buf in ours.named_buffers():
        _compare(buf, t_buffers[bname], f"{name} buffer {bname} after forward", tol)


@pytest.mark.parametrize("name,index", [c[:2] for c in CASES], ids=[c[2] for c in CASES])
def test_state_dict_keys_and_shapes_are_torchs(name, index):
    sample = samples_of(name, ember.float32)[index]
    ours, theirs = build_pair(name, sample, ember.float32)
    if theirs is None:
        pytest.skip(f"{name}: sample built from other modules")
    mine = ours.state_dict()
    ref = theirs.state_dict()
    assert list(mine) == list(ref)
    for key in ref:
        assert tuple(mine[key].shape) == tuple(ref[key].shape), key
        assert str(mine[key].dtype).split(".")[-1] == str(ref[key].dtype).split(".")[-1], key
    assert repr(ours).replace("ember.", "torch.") == repr(theirs)


@pytest.mark.parametrize("name,index", [c[:2] for c in CASES], ids=[c[2] for c in CASES])
def test_default_initialisation_follows_torchs_distribution(name, index):
    sample = samples_of(name, ember.float32)[index]
    ember.manual_seed(0)
    torch.manual_seed(0)
    ours = materialize(registries["layers"][name](*sample.args, **sample.kwargs), sample)
    if not hasattr(torch.nn, name) or any(isinstance(a, ember.nn.Module) for a in sample.args):
        pytest.skip(f"{name}: no PyTorch twin for this sample")
    theirs = materialize(getattr(torch.nn, name)(*to_torch(sample.args), **to_torch(sample.kwargs)), sample)
    ref = dict(theirs.named_parameters())
    for pname, p in ours.named_parameters():
        a, b = p.detach().numpy().ravel(), ref[pname].detach().numpy().ravel()
        if b.std() == 0:  # constant initialisation (ones, zeros, 0.25): exactly the same values
            np.testing.assert_array_equal(a, b, err_msg=pname)
            continue
        if a.size >= 24:  # small draws say too little about a distribution
            assert np.abs(a).max() <= 1.25 * np.abs(b).max() + 1e-6, f"{name}.{pname}: values exceed torch's range"
            assert 0.6 < a.std() / b.std() < 1.6, f"{name}.{pname}: std {a.std():.4f} vs torch's {b.std():.4f}"
