"""Linear's hot path (the layer reading its parameter store, F.linear's one-expression check, a backward on the
arrays when no graph is built) gives what the general path and PyTorch give, where it applies and where it must not."""

import numpy as np
import pytest

import ember


def _load(module, weights, framework):
    with framework.no_grad():
        for p, w in zip(module.parameters(), weights):
            p.copy_(framework.tensor(w))


def _weights(rng, *shapes):
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def test_parametrized_linear_uses_the_parametrization(torch):
    """register_parametrization makes ``weight`` a property of a subclass: the layer must read it, not the store."""
    rng = np.random.default_rng(0)
    w, b, x = _weights(rng, (2, 3), (2,), (4, 3))
    outs = []
    for framework in (ember, torch):
        class Doubled(framework.nn.Module):
            def forward(self, weight):
                return 2 * weight
        layer = framework.nn.Linear(3, 2)
        _load(layer, (w, b), framework)
        framework.nn.utils.parametrize.register_parametrization(layer, "weight", Doubled())
        outs.append(layer(framework.tensor(x)).detach().numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6)


@pytest.mark.parametrize("create_graph", [False, True])
def test_linear_gradients_match_pytorch_with_and_without_create_graph(torch, create_graph):
    rng = np.random.default_rng(1)
    w, b, x = _weights(rng, (3, 5), (3,), (4, 5))
    grads = []
    for framework in (ember, torch):
        layer = framework.nn.Linear(5, 3)
        _load(layer, (w, b), framework)
        inp = framework.tensor(x, requires_grad=True)
        out = layer(inp)
        gx, gw, gb = framework.autograd.grad((out * out).sum(), (inp, layer.weight, layer.bias),
                                             create_graph=create_graph)
        found = [gx, gw, gb]
        if create_graph:  # a gradient penalty: the second order goes through linear's backward
            found += list(framework.autograd.grad(gx.pow(2).sum() + gw.pow(2).sum(), (inp, layer.weight)))
        grads.append([g.detach().numpy() for g in found])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-4 * np.abs(theirs).max())


def test_functional_linear_checks_still_reject_what_the_fast_check_lets_through():
    x = ember.ones(4, 5)
    with pytest.raises(ember.ops.DTypeError):
        ember.nn.functional.linear(x, ember.ones(3, 5, dtype=ember.float64), ember.ones(3, dtype=ember.float64))
    with pytest.raises(ember.ops.ShapeError):
        ember.nn.functional.linear(x, ember.ones(3, 5), ember.ones(4))
    with pytest.raises(ember.ops.DTypeError):
        ember.nn.functional.linear(x.bool(), ember.ones(3, 5).bool(), ember.ones(3).bool())
