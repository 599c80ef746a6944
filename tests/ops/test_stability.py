"""Numerically delicate ops stay finite and match PyTorch at extreme inputs (+-1e4), values and gradients."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F

EXTREMES = [-1e4, -50.0, -1.0, 0.0, 1.0, 50.0, 1e4]

CASES = {
    "log_softmax": (lambda m, x: m.log_softmax(x, dim=-1)),
    "softmax": (lambda m, x: m.softmax(x, dim=-1)),
    "logsumexp": (lambda m, x: m.logsumexp(x, dim=-1)),
    "softplus": (lambda m, x: m.nn.functional.softplus(x)),
    "softplus beta": (lambda m, x: m.nn.functional.softplus(x, beta=2.0, threshold=5.0)),
    "sigmoid": (lambda m, x: m.sigmoid(x)),
    "logsigmoid": (lambda m, x: m.nn.functional.logsigmoid(x)),
    "silu": (lambda m, x: m.nn.functional.silu(x)),
    "mish": (lambda m, x: m.nn.functional.mish(x)),
    "elu": (lambda m, x: m.nn.functional.elu(x)),
    "gelu": (lambda m, x: m.nn.functional.gelu(x)),
    "tanh": (lambda m, x: m.tanh(x)),
}


def _both(fn, values, dtype):
    import torch
    x = ember.tensor(values, dtype=getattr(ember, dtype), requires_grad=True)
    t = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
    out, t_out = fn(ember, x), fn(torch, t)
    out.sum().backward()
    t_out.sum().backward()
    return out, t_out, x.grad, t.grad


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_extreme_inputs_stay_finite_and_match_torch(torch, case, dtype):
    out, t_out, grad, t_grad = _both(CASES[case], [EXTREMES], dtype)
    assert np.isfinite(out.detach().numpy()).all(), f"{case}: non-finite values {out}"
    assert np.isfinite(grad.numpy()).all(), f"{case}: non-finite gradient {grad}"
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad.numpy(), t_grad.numpy(), rtol=1e-5, atol=1e-6)


def test_log_softmax_of_one_huge_logit_is_zero_and_minus_the_gap():
    out = ember.log_softmax(ember.tensor([1e4, 0.0], dtype=ember.float64), dim=0)
    assert out.tolist() == [0.0, -1e4]


def test_logsumexp_of_minus_infinity_is_minus_infinity():
    out = ember.logsumexp(ember.tensor([-float("inf"), -float("inf")]), dim=0)
    assert out.item() == -float("inf")


def test_logsumexp_of_large_equal_values_adds_log_count():
    out = ember.logsumexp(ember.full((4,), 1e4, dtype=ember.float64), dim=0)
    assert out.item() == pytest.approx(1e4 + np.log(4), rel=1e-15)


@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_and_std_with_correction_match_torch_on_large_offset_data(torch, correction):
    values = (1e6 + np.random.default_rng(0).standard_normal((3, 7))).tolist()
    x = ember.tensor(values, dtype=ember.float64, requires_grad=True)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    for name in ("var", "std"):
        out = getattr(ember, name)(x, 1, correction=correction)
        t_out = getattr(torch, name)(t, 1, correction=correction)
        np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-9)
        (g,) = ember.autograd.grad(out.sum(), x)
        (tg,) = torch.autograd.grad(t_out.sum(), t)
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-7, atol=1e-9)


def test_erf_and_erfc_match_torch_across_the_range_in_float64(torch):
    values = np.concatenate([np.linspace(-8, 8, 2001), np.logspace(-20, 1, 50), [0.0, 30.0, -30.0]])
    x = ember.tensor(values, dtype=ember.float64)
    t = torch.tensor(values, dtype=torch.float64)
    np.testing.assert_allclose(ember.erf(x).numpy(), torch.erf(t).numpy(), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(ember.erfc(x).numpy(), torch.erfc(t).numpy(), rtol=1e-12, atol=1e-300)


def test_softplus_threshold_is_linear_above_it():
    x = ember.tensor([30.0, 1e4], dtype=ember.float64)
    assert F.softplus(x).tolist() == [30.0, 1e4]
