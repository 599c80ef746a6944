"""Ops added for the API that real code uses, where the conformance kit cannot compare with torch by
itself: random draws (statistics), in-place shape changes, in-place activations, decompositions whose
signs or symmetric gradients need an invariant, _foreach lists, range indices."""

import numpy as np
import pytest

import ember

RNG = np.random.default_rng(0)


def test_in_place_random_initialisers_follow_their_distributions():
    ember.manual_seed(0)
    n = 40000
    x = ember.empty(n)
    assert abs(float(x.normal_(2.0, 0.5).mean()) - 2.0) < 0.02 and abs(float(x.std()) - 0.5) < 0.02
    x.uniform_(-1, 3)
    assert float(x.min()) >= -1 and float(x.max()) < 3 and abs(float(x.mean()) - 1) < 0.05
    assert abs(float(x.exponential_(2.0).mean()) - 0.5) < 0.02
    assert float(x.geometric_(0.25).min()) >= 1 and abs(float(x.mean()) - 4) < 0.1
    assert abs(float(x.log_normal_(0.0, 0.25).log().mean())) < 0.02
    assert abs(float(x.cauchy_(1.0, 0.5).median()) - 1.0) < 0.05
    assert abs(float(x.bernoulli_(0.3).mean()) - 0.3) < 0.02
    ints = ember.empty(n, dtype=ember.int64).random_(3, 7)
    assert set(np.unique(ints.numpy())) == {3, 4, 5, 6}
    assert ember.empty(5, dtype=ember.uint8).random_().dtype is ember.uint8


def test_samplers_follow_their_distributions(torch):
    ember.manual_seed(0)
    counts = ember.poisson(ember.full((20000,), 3.0))
    assert abs(float(counts.mean()) - 3.0) < 0.05 and counts.dtype is ember.float32
    probs = ember.tensor([0.1, 0.6, 0.3])
    draws = ember.multinomial(probs, 20000, replacement=True)
    np.testing.assert_allclose(np.bincount(draws.numpy(), minlength=3) / 20000, probs.numpy(), atol=0.02)
    unique = ember.multinomial(ember.tensor([[1.0, 1, 1, 0], [0, 2, 1, 1]]), 3)
    assert all(len(set(r)) == 3 for r in unique.tolist()) and 3 not in unique[0].tolist()
    for lib in (ember, torch):
        with pytest.raises(RuntimeError):
            lib.multinomial(lib.tensor([1.0, 0, 0]), 4)
    mean = ember.zeros(3, requires_grad=True)
    ember.normal(mean, 1.0).sum().backward()
    np.testing.assert_array_equal(mean.grad.numpy(), [1.0, 1.0, 1.0])
    assert tuple(ember.normal(0.0, 1.0, size=(2, 3)).shape) == (2, 3)
    assert float(ember.bernoulli(ember.full((10000,), 0.25)).mean()) == pytest.approx(0.25, abs=0.02)


@pytest.mark.parametrize("op, args", [("squeeze_", ()), ("squeeze_", (1,)), ("unsqueeze_", (0,)), ("unsqueeze_", (-1,))])
def test_in_place_shape_changes_match_torch(torch, op, args):
    data = RNG.normal(size=(2, 1, 3))
    e, t = ember.tensor(data), torch.tensor(data)
    assert getattr(e, op)(*args) is e
    getattr(t, op)(*args)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_resize_keeps_leading_elements(torch):
    e, t = ember.arange(6.0), torch.arange(6.0)
    e.resize_(2, 2)
    t.resize_(2, 2)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("name, args", [("relu_", ()), ("elu_", (0.5,)), ("leaky_relu_", (0.2,)),
                                        ("hardtanh_", (-0.3, 0.4)), ("threshold_", (0.1, 9.0))])
def test_in_place_activations_match_torch(torch, name, args):
    data = RNG.normal(size=(3, 4))
    e, t = ember.tensor(data), torch.tensor(data)
    assert getattr(ember.nn.functional, name)(e, *args) is e
    getattr(torch.nn.functional, name)(t, *args)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12)


def _sym(x):
    return x @ x.mT + 3 * ember.eye(x.shape[-1], dtype=x.dtype) if isinstance(x, ember.Tensor) else None


@pytest.mark.parametrize("fn", ["cholesky", "eigh", "eigvalsh", "slogdet"])
def test_symmetric_decomposition_gradients_match_torch(torch, fn):
    """Gradients through A = X X^T + 3I (every entry of A moves with X), for invariants of the outputs."""
    data = RNG.normal(size=(3, 3))
    results = []
    for lib in (ember, torch):
        x = lib.tensor(data, requires_grad=True)
        a = x @ x.mT + 3 * lib.eye(3, dtype=x.dtype)
        out = getattr(lib.linalg, fn)(a)
        if fn == "eigh":
            w, v = out
            value = (w * lib.arange(3, dtype=w.dtype)).sum() + ((v * v)[0] * w).sum()  # sign-invariant
        elif fn == "slogdet":
            value = out[1]
        else:
            value = (out * lib.arange(9, dtype=out.dtype).reshape(3, 3)).sum()
        value.backward()
        results.append((value.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-8, atol=1e-10)


def test_svd_reconstructs_and_its_invariant_gradients_match_torch(torch):
    data = RNG.normal(size=(4, 3))
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(data, requires_grad=True)
        u, s, vh = lib.linalg.svd(x, full_matrices=False)
        np.testing.assert_allclose((u * s.unsqueeze(-2) @ vh).detach().numpy(), data, atol=1e-12)
        value = s.sum() + (u @ vh).pow(2).sum() * 0 + (u * u).sum(0)[0] + (u @ lib.diag(s) @ vh).sum()
        value.backward()
        grads.append(x.grad.numpy())
        u2, s2, v2 = lib.svd(x.detach())
        np.testing.assert_allclose((u2 * s2 @ v2.mT).numpy(), data, atol=1e-12)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ember.linalg.svdvals(ember.tensor(data)).numpy(),
                               torch.linalg.svdvals(torch.tensor(data)).numpy(), rtol=1e-12)


@pytest.mark.parametrize("args, kwargs", [((), {}), ((2,), {}), (("fro",), {}), ((1,), {"dim": 0}),
                                          ((float("inf"),), {"dim": (0, 1)}), (("nuc",), {})])
def test_linalg_norm_chooses_as_torch(torch, args, kwargs):
    data = RNG.normal(size=(3, 4))
    np.testing.assert_allclose(ember.linalg.norm(ember.tensor(data), *args, **kwargs).numpy(),
                               torch.linalg.norm(torch.tensor(data), *args, **kwargs).numpy(), rtol=1e-10)


@pytest.mark.parametrize("name, extra", [("_foreach_add_", (1.5,)), ("_foreach_add", ("list", )), ("_foreach_mul_", (2.0,)),
                                         ("_foreach_div", ("list",)), ("_foreach_maximum_", (0.1,)),
                                         ("_foreach_neg", ()), ("_foreach_sqrt", ()), ("_foreach_lerp_", ("list", 0.3)),
                                         ("_foreach_addcmul_", ("list", "list")), ("_foreach_zero_", ())])
def test_foreach_matches_torch(torch, name, extra):
    data = [RNG.uniform(0.5, 2, size=s) for s in ((2, 3), (4,))]
    results = []
    for lib in (ember, torch):
        tensors = [lib.tensor(d) for d in data]
        args = [[lib.tensor(d * 0.5 + 1) for d in data] if a == "list" else a for a in extra]
        out = getattr(lib, name)(tensors, *args)
        results.append([t.numpy() for t in (tensors if name.endswith("_") else out)])
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-12)


def test_range_indices_get_and_set_as_torch(torch):
    e, t = ember.zeros(3, 4), torch.zeros(3, 4)
    cols = [0, 2, 1]
    e[range(3), ember.tensor(cols)] = 5.0
    t[range(3), torch.tensor(cols)] = 5.0
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    np.testing.assert_array_equal(e[range(1, 3)].numpy(), t[range(1, 3)].numpy())
    assert tuple(ember.randint(5, size=(2, 3)).shape) == tuple(torch.randint(5, size=(2, 3)).shape)


def test_dropout2d_on_2d_input_warns_and_drops_elements():
    ember.manual_seed(0)
    with pytest.warns(UserWarning, match="2-D input"):
        out = ember.nn.functional.dropout2d(ember.ones(200, 50), 0.5)
    kept = out.numpy() != 0
    assert 0.4 < kept.mean() < 0.6 and kept.any(1).all()  # single elements, not whole rows
    np.testing.assert_array_equal(np.unique(out.numpy()), [0.0, 2.0])


def test_fft_frequencies_and_shifts_match_torch(torch):
    np.testing.assert_allclose(ember.fft.fftfreq(7, 0.5).numpy(), torch.fft.fftfreq(7, 0.5).numpy())
    np.testing.assert_allclose(ember.fft.rfftfreq(8).numpy(), torch.fft.rfftfreq(8).numpy())
    x = np.arange(12.0).reshape(3, 4)
    for fn, kwargs in (("fftshift", {}), ("ifftshift", {}), ("fftshift", {"dim": 1}), ("ifftshift", {"dim": (0,)})):
        np.testing.assert_array_equal(getattr(ember.fft, fn)(ember.tensor(x), **kwargs).numpy(),
                                      getattr(torch.fft, fn)(torch.tensor(x), **kwargs).numpy())
    with pytest.raises(NotImplementedError, match="complex"):
        ember.fft.rfft(ember.ones(4))
