"""gelu and layer_norm run as fused primitives with closed-form backward (their composites stay the
ops' ``reference=``, which the conformance kit checks): values, gradients and second derivatives are
PyTorch's."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gelu_matches_torch(torch, approximate, dtype):
    x = (np.random.default_rng(0).standard_normal((4, 50)) * 4).astype(dtype)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, theirs = F.gelu(ex, approximate=approximate), torch.nn.functional.gelu(tx, approximate=approximate)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    (gx,) = ember.autograd.grad(ours.square().sum(), ex, create_graph=True)
    (tgx,) = torch.autograd.grad(theirs.square().sum(), tx, create_graph=True)
    np.testing.assert_allclose(gx.detach().numpy(), tgx.detach().numpy(), rtol=1e-4, atol=1e-5)
    gx.sum().backward()
    tgx.sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_gelu_grad_fn_is_torchs():
    assert repr(F.gelu(ember.ones(2, requires_grad=True)).grad_fn) == "<GeluBackward0>"


LN_CASES = [
    ((4, 6), (6,), True, True),
    ((2, 3, 8), (8,), True, False),
    ((2, 3, 4), (3, 4), False, True),
    ((2, 3, 4), (3, 4), False, False),
    ((5,), (5,), True, True),
]


@pytest.mark.parametrize("shape, normalized, weight, bias", LN_CASES)
def test_layer_norm_matches_torch(torch, shape, normalized, weight, bias):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    w = rng.standard_normal(normalized).astype(np.float32) if weight else None
    b = rng.standard_normal(normalized).astype(np.float32) if bias else None
    e = [None if a is None else ember.tensor(a, requires_grad=True) for a in (x, w, b)]
    t = [None if a is None else torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    ours = F.layer_norm(e[0], normalized, e[1], e[2])
    theirs = torch.nn.functional.layer_norm(t[0], normalized, t[1], t[2])
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(shape).astype(np.float32)
    ours.backward(ember.tensor(g))
    theirs.backward(torch.tensor(g))
    for ea, ta in zip(e, t):
        if ea is not None:
            np.testing.assert_allclose(ea.grad.numpy(), ta.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_layer_norm_second_derivatives_match_torch(torch):
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((3, 5)), rng.standard_normal(5), rng.standard_normal(5)
    e = [ember.tensor(a, requires_grad=True) for a in (x, w, b)]
    t = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    ours = ember.autograd.grad(F.layer_norm(e[0], (5,), e[1], e[2]).pow(3).sum(), e, create_graph=True)
    theirs = torch.autograd.grad(torch.nn.functional.layer_norm(t[0], (5,), t[1], t[2]).pow(3).sum(), t,
                                 create_graph=True)
    sum(g.square().sum() for g in ours).backward()
    sum(g.square().sum() for g in theirs).backward()
    for ea, ta in zip(e, t):
        np.testing.assert_allclose(ea.grad.numpy(), ta.grad.numpy(), rtol=1e-6, atol=1e-8)
