"""The generic layer check, over every registered layer and each declared sample (no PyTorch needed):
forward and backward shapes and dtypes, state_dict round trip into a fresh instance, train/eval
behaviour, and that every layer declares samples."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import ember
from layer_harness import DTYPES, all_cases, call_or_skip_missing_op, flatten, layer_names, leaf, materialize, \
    samples_of, stochastic, tensors_in
from ember.plugins import registries

CASES = all_cases()
IDS = [c[2] for c in CASES]
PARAMS = [c[:2] for c in CASES]


def _build(name, index, dtype):
    sample = samples_of(name, dtype)[index]
    layer = registries["layers"][name](*copy.deepcopy(sample.args), **sample.kwargs).to(dtype)
    return sample, materialize(layer, sample)


def test_every_layer_declares_samples_or_says_why_not():
    without = [n for n in layer_names() if not samples_of(n)]
    # containers without a forward
    assert set(without) <= {"ModuleList", "ModuleDict", "ParameterList", "ParameterDict"}, without


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name,index", PARAMS, ids=IDS)
def test_forward_backward_shapes_and_dtypes(name, index, dtype):
    dtype = DTYPES[dtype]
    sample, layer = _build(name, index, dtype)
    inputs = leaf(sample.inputs)
    outputs = flatten(call_or_skip_missing_op(layer, inputs))
    assert outputs, f"{name} returned no tensor"
    floats = [o for o in outputs if o.is_floating_point()]
    for o in floats:
        assert o.dtype == dtype, f"{name}: output dtype {o.dtype}, expected {dtype}"
        assert np.isfinite(o.detach().numpy()).all()
    differentiable = [o for o in floats if o.requires_grad]
    if not differentiable:
        return
    sum(o.sum() for o in differentiable).backward()
    for x in tensors_in(inputs):
        if x.requires_grad and x.grad is not None:
            assert x.grad.shape == x.shape and x.grad.dtype == x.dtype
    grads = [p for p in layer.parameters() if p.grad is not None]
    for p in grads:
        assert p.grad.shape == p.shape and p.grad.dtype == p.dtype
    assert grads or not list(layer.parameters()) or name == "Embedding", f"{name}: no parameter got a gradient"


@pytest.mark.parametrize("name,index", PARAMS, ids=IDS)
def test_state_dict_round_trip(name, index):
    sample, layer = _build(name, index, ember.float64)
    layer.eval()
    # perturb parameters and buffers so that a fresh layer differs until it loads
    with ember.no_grad():
        for t in list(layer.parameters()) + [b for b in layer.buffers() if b.is_floating_point()]:
            t._data += np.random.default_rng(0).uniform(0.1, 0.2, t._data.shape)
    saved = pickle.loads(pickle.dumps({k: v.numpy() for k, v in layer.state_dict().items()}))
    fresh = registries["layers"][name](*copy.deepcopy(sample.args), **sample.kwargs).double().eval()
    result = fresh.load_state_dict(saved)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for key, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), saved[key])
    inputs = leaf(sample.inputs)
    a = flatten(call_or_skip_missing_op(layer, inputs))
    b = flatten(fresh(*inputs))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())


@pytest.mark.parametrize("name,index", PARAMS, ids=IDS)
def test_train_eval_behaviour(name, index):
    sample, layer = _build(name, index, ember.float64)
    assert layer.training and all(m.training for m in layer.modules())
    assert layer.eval() is layer and not any(m.training for m in layer.modules())
    inputs = leaf(sample.inputs)
    first = flatten(call_or_skip_missing_op(layer, inputs))
    second = flatten(layer(*inputs))
    for x, y in zip(first, second):  # eval mode is deterministic
        np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())
    layer.train()
    assert all(m.training for m in layer.modules())
    if stochastic(layer):
        ember.manual_seed(1)
        a = flatten(layer(*inputs))
        ember.manual_seed(2)
        b = flatten(layer(*inputs))
        assert any(not np.array_equal(x.detach().numpy(), y.detach().numpy()) for x, y in zip(a, b)), \
            f"{name}: training mode with dropout gave identical outputs for different seeds"
        ember.manual_seed(1)
        c = flatten(layer(*inputs))
        for x, y in zip(a, c):  # and reproducible under the same seed
            np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())


def test_dropout_scales_kept_values_and_is_identity_in_eval():
    x = ember.ones(2000, dtype=ember.float64)
    layer = ember.nn.Dropout(0.25)
    out = layer(x).numpy()
    kept = out[out != 0]
    np.testing.assert_allclose(kept, 1 / 0.75)
    assert 0.15 < 1 - kept.size / out.size < 0.35
    np.testing.assert_array_equal(layer.eval()(x).numpy(), x.numpy())


def test_batchnorm_eval_uses_running_stats_and_momentum_none_averages():
    bn = ember.nn.BatchNorm1d(2, momentum=None).double()
    batches = [ember.tensor(np.random.default_rng(i).normal(i, 1 + i, (8, 2))) for i in range(3)]
    for b in batches:
        bn(b)
    stacked = [b.numpy() for b in batches]
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([s.mean(0) for s in stacked], 0))
    np.testing.assert_allclose(bn.running_var.numpy(), np.mean([s.var(0, ddof=1) for s in stacked], 0))
    assert int(bn.num_batches_tracked.item()) == 3
    bn.eval()
    x = batches[0]
    expected = (x.numpy() - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + bn.eps)
    np.testing.assert_allclose(bn(x).detach().numpy(), expected, rtol=1e-10)
    assert int(bn.num_batches_tracked.item()) == 3


def test_embedding_padding_idx_row_is_zero_and_gets_no_gradient():
    emb = ember.nn.Embedding(5, 3, padding_idx=2)
    assert not emb.weight.detach().numpy()[2].any()
    emb(ember.tensor([2, 1, 2])).sum().backward()
    assert not emb.weight.grad.numpy()[2].any() and emb.weight.grad.numpy()[1].all()


def test_embedding_from_pretrained_freezes_by_default():
    weights = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    emb = ember.nn.Embedding.from_pretrained(weights)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(emb(ember.tensor([1, 0])).numpy(), [[3.0, 4.0], [1.0, 2.0]])
    assert ember.nn.Embedding.from_pretrained(weights, freeze=False).weight.requires_grad
