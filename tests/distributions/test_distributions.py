"""ember.distributions against torch.distributions: log_prob, entropy, mean, variance, cdf and KL from the
same parameters; shapes of samples; reparameterised gradients; argument validation."""

import numpy as np
import pytest

import ember
import ember.distributions as D

RNG = np.random.default_rng(0)


def _pos(*shape):
    return RNG.uniform(0.5, 2.0, size=shape)


def _real(*shape):
    return RNG.uniform(-1.5, 1.5, size=shape)


def _spd(n):
    a = RNG.normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


def _simplex(*shape):
    p = RNG.uniform(0.1, 1.0, size=shape)
    return p / p.sum(-1, keepdims=True)


# name, parameter arrays, values inside the support
CASES = [
    ("Normal", lambda: ((_real(3), _pos(3)), {}), lambda: _real(4, 3)),
    ("Uniform", lambda: ((np.full(3, -1.0), np.full(3, 2.0)), {}), lambda: RNG.uniform(-1, 2, (4, 3))),
    ("Exponential", lambda: ((_pos(3),), {}), lambda: _pos(4, 3)),
    ("Laplace", lambda: ((_real(3), _pos(3)), {}), lambda: _real(4, 3)),
    ("Gamma", lambda: ((_pos(3), _pos(3)), {}), lambda: _pos(4, 3)),
    ("Beta", lambda: ((_pos(3), _pos(3)), {}), lambda: RNG.uniform(0.05, 0.95, (4, 3))),
    ("Dirichlet", lambda: ((_pos(2, 3),), {}), lambda: _simplex(4, 2, 3)),
    ("Bernoulli", lambda: ((), {"probs": RNG.uniform(0.1, 0.9, 3)}), lambda: RNG.integers(0, 2, (4, 3)).astype(float)),
    ("Bernoulli", lambda: ((), {"logits": _real(3)}), lambda: RNG.integers(0, 2, (4, 3)).astype(float)),
    ("Categorical", lambda: ((), {"probs": _simplex(2, 4)}), lambda: RNG.integers(0, 4, (5, 2))),
    ("Categorical", lambda: ((), {"logits": _real(2, 4)}), lambda: RNG.integers(0, 4, (5, 2))),
    ("OneHotCategorical", lambda: ((), {"probs": _simplex(2, 4)}), lambda: np.eye(4)[RNG.integers(0, 4, (5, 2))]),
    ("MultivariateNormal", lambda: ((_real(3),), {"covariance_matrix": _spd(3)}), lambda: _real(4, 3)),
    ("MultivariateNormal", lambda: ((_real(2, 3),), {"scale_tril": np.linalg.cholesky(_spd(3))}), lambda: _real(4, 2, 3)),
    ("MultivariateNormal", lambda: ((_real(3),), {"precision_matrix": _spd(3)}), lambda: _real(4, 3)),
]


def _both(torch, name, make_params):
    args, kwargs = make_params()
    e = getattr(D, name)(*[ember.tensor(a) for a in args], **{k: ember.tensor(v) for k, v in kwargs.items()})
    t = getattr(torch.distributions, name)(*[torch.tensor(a) for a in args],
                                           **{k: torch.tensor(v) for k, v in kwargs.items()})
    return e, t


def _close(e, t, atol=1e-6):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=atol)


@pytest.mark.parametrize("name, make_params, make_values", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_values_match_torch(torch, name, make_params, make_values):
    e, t = _both(torch, name, make_params)
    assert tuple(e.batch_shape) == tuple(t.batch_shape) and tuple(e.event_shape) == tuple(t.event_shape)
    values = make_values()
    _close(e.log_prob(ember.tensor(values)), t.log_prob(torch.tensor(values)))
    _close(e.entropy(), t.entropy())
    for stat in ("mean", "variance"):
        ev, tv = getattr(e, stat), getattr(t, stat)
        np.testing.assert_allclose(ev.detach().numpy(), tv.detach().numpy(), rtol=1e-6, atol=1e-6, equal_nan=True)
    if name in ("Normal", "Uniform", "Exponential", "Laplace"):
        _close(e.cdf(ember.tensor(values)), t.cdf(torch.tensor(values)))


@pytest.mark.parametrize("name, make_params, make_values", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_sample_shapes_and_support(torch, name, make_params, make_values):
    e, t = _both(torch, name, make_params)
    ember.manual_seed(0)
    s = e.sample((5, 2))
    assert tuple(s.shape) == tuple(t.sample((5, 2)).shape)
    assert s.dtype.name == str(t.sample().dtype).replace("torch.", "")
    assert bool(e.support.check(s).all()) if not name.startswith("Multivariate") else True


KL_PAIRS = ["Normal", "Uniform", "Exponential", "Laplace", "Gamma", "Beta", "Dirichlet", "Bernoulli", "Categorical",
            "OneHotCategorical", "MultivariateNormal"]


@pytest.mark.parametrize("index", range(len(CASES)))
def test_kl_divergence_matches_torch(torch, index):
    name, make_params, _ = CASES[index]
    if index in (12, 13, 14):  # MVN variants: compare covariance against covariance
        make_params = CASES[12][1]
    ep, tp = _both(torch, name, make_params)
    eq, tq = _both(torch, name, make_params)
    if name == "Uniform":  # q must cover p
        eq, tq = D.Uniform(ember.tensor(-2.0), ember.tensor(3.0)), torch.distributions.Uniform(-2.0, 3.0)
    _close(D.kl_divergence(ep, eq), torch.distributions.kl_divergence(tp, tq), atol=1e-5)


def test_independent_and_transformed_match_torch(torch):
    loc, scale = _real(2, 3), _pos(2, 3)
    value = _pos(4, 2, 3)
    e = D.Independent(D.Normal(ember.tensor(loc), ember.tensor(scale)), 1)
    t = torch.distributions.Independent(torch.distributions.Normal(torch.tensor(loc), torch.tensor(scale)), 1)
    assert tuple(e.batch_shape) == (2,) and tuple(e.event_shape) == (3,)
    _close(e.log_prob(ember.tensor(value)), t.log_prob(torch.tensor(value)))
    _close(e.entropy(), t.entropy())
    _close(D.kl_divergence(e, e), torch.distributions.kl_divergence(t, t))
    e = D.LogNormal(ember.tensor(loc), ember.tensor(scale))
    t = torch.distributions.LogNormal(torch.tensor(loc), torch.tensor(scale))
    _close(e.log_prob(ember.tensor(value)), t.log_prob(torch.tensor(value)))
    _close(e.mean, t.mean)
    _close(e.entropy(), t.entropy())
    e = D.TransformedDistribution(D.Normal(ember.tensor(loc), ember.tensor(scale)),
                                  [D.AffineTransform(ember.tensor(0.5), ember.tensor(2.0)), D.SigmoidTransform()])
    t = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(torch.tensor(loc), torch.tensor(scale)),
        [torch.distributions.AffineTransform(torch.tensor(0.5), torch.tensor(2.0)), torch.distributions.SigmoidTransform()])
    u = RNG.uniform(0.1, 0.9, (4, 2, 3))
    _close(e.log_prob(ember.tensor(u)), t.log_prob(torch.tensor(u)))


def test_rsample_is_differentiable_and_sample_is_not():
    loc = ember.tensor([0.5, -1.0], requires_grad=True)
    scale = ember.tensor([1.0, 2.0], requires_grad=True)
    d = D.Normal(loc, scale)
    assert not d.sample().requires_grad
    ember.manual_seed(0)
    x = d.rsample((1000,))
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [1000.0, 1000.0])
    assert scale.grad is not None


@pytest.mark.parametrize("dist", ["Gamma", "Beta", "Dirichlet"])
def test_implicit_reparameterisation_gradient_estimates_d_mean(torch, dist):
    """The average of d(sample)/d(concentration) over many draws estimates d(mean)/d(concentration),
    which both ember and torch must reproduce (their draws differ, the expectation does not)."""
    ember.manual_seed(0)
    a = ember.tensor([1.5, 3.0], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([2.0, 0.7], dtype=ember.float64)
    if dist == "Gamma":
        d, expected = D.Gamma(a, b), 1 / b.numpy()  # d(a / b) / da
    elif dist == "Beta":
        d = D.Beta(a, b)
        expected = b.numpy() / (a.detach().numpy() + b.numpy()) ** 2
    else:
        d = D.Dirichlet(a)
        s = a.detach().numpy().sum()
        expected = (s - a.detach().numpy()) / s ** 2
    x = d.rsample((20000,))
    (x[..., 0].sum() if dist == "Dirichlet" else x.sum(0)[0] + x.sum(0)[1]).backward()
    grad = a.grad.numpy() / 20000
    if dist == "Dirichlet":
        np.testing.assert_allclose(grad[0], expected[0], rtol=0.08)
    else:
        np.testing.assert_allclose(grad, expected, rtol=0.08)


def test_sample_means_are_the_distribution_means():
    ember.manual_seed(1)
    cases = [D.Normal(ember.tensor(1.5), ember.tensor(0.5)), D.Gamma(ember.tensor(2.0), ember.tensor(3.0)),
             D.Beta(ember.tensor(2.0), ember.tensor(5.0)), D.Exponential(ember.tensor(2.0)),
             D.Bernoulli(probs=ember.tensor(0.3)), D.Laplace(ember.tensor(-1.0), ember.tensor(0.5)),
             D.Uniform(ember.tensor(-1.0), ember.tensor(3.0))]
    for d in cases:
        draws = d.sample((20000,))
        assert abs(float(draws.mean()) - float(d.mean)) < 4 * float(d.stddev) / 20000 ** 0.5 + 1e-3, d
    probs = ember.tensor([0.2, 0.5, 0.3])
    counts = np.bincount(D.Categorical(probs=probs).sample((20000,)).numpy(), minlength=3) / 20000
    np.testing.assert_allclose(counts, probs.numpy(), atol=0.02)


def test_invalid_arguments_raise_value_error_as_torch(torch):
    with pytest.raises(ValueError, match="Expected parameter scale"):
        D.Normal(ember.tensor([0.0]), ember.tensor([-1.0]))
    with pytest.raises(ValueError, match="within the support"):
        D.Bernoulli(probs=ember.tensor([0.5])).log_prob(ember.tensor([0.3]))
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.Categorical()
    D.Normal(ember.tensor([0.0]), ember.tensor([-1.0]), validate_args=False)  # allowed, as in torch
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Gamma(1.0, 1.0))


def test_normal_icdf_inverts_cdf_as_torch(torch):
    p = RNG.uniform(0.01, 0.99, 5)
    e = D.Normal(ember.tensor(0.5), ember.tensor(2.0)).icdf(ember.tensor(p))
    t = torch.distributions.Normal(torch.tensor(0.5), torch.tensor(2.0)).icdf(torch.tensor(p))
    _close(e, t, atol=1e-9)
