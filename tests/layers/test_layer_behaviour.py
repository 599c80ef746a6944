"""What particular layers promise beyond the generic checks of the conformance kit (which every layer
gets from ``tests/layers/test_layer_kit.py``): dropout's scaling, batch norm's running statistics,
embedding's padding row and frozen pretrained weights."""

from __future__ import annotations

import numpy as np

import ember


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
