"""``F.interpolate`` against PyTorch over a table of modes, sizes and scale factors: bicubic with and
without ``align_corners``, antialiased bilinear and bicubic; values and gradients."""

import itertools

import numpy as np
import pytest

import ember
from ember.testing import assert_close, gradcheck, gradgradcheck

F = ember.nn.functional

MODES = [
    ("bicubic", False, None), ("bicubic", False, True), ("bicubic", False, False),
    ("bilinear", True, None), ("bicubic", True, None), ("bilinear", True, True), ("bicubic", True, True),
    ("bilinear", False, None),
]
RESIZES = [
    ((5, 7), {"size": (3, 4)}), ((5, 7), {"size": (9, 11)}), ((16, 16), {"scale_factor": 0.5}),
    ((8, 3), {"scale_factor": 2.3}), ((1, 4), {"size": (3, 2)}), ((6, 9), {"scale_factor": (0.3, 1.7)}),
    ((6, 9), {"scale_factor": 0.4, "recompute_scale_factor": True}), ((4, 5), {"size": (1, 1)}),
    ((11, 4), {"size": (4, 4)}),
]


def _ids():
    return [f"{m}{'-aa' if aa else ''}{'-ac' if ac else ''}-{shape}-{kw}" for (m, aa, ac), (shape, kw)
            in itertools.product(MODES, RESIZES)]


@pytest.mark.parametrize("mode, antialias, align_corners, shape, kwargs",
                         [(*m, *r) for m, r in itertools.product(MODES, RESIZES)], ids=_ids())
def test_interpolate_values_and_gradients_match_torch(torch, mode, antialias, align_corners, shape, kwargs):
    data = np.random.default_rng(sum(shape)).standard_normal((2, 3) + shape)
    x, tx = ember.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    options = dict(mode=mode, antialias=antialias, align_corners=align_corners, **kwargs)
    ours, theirs = F.interpolate(x, **options), torch.nn.functional.interpolate(tx, **options)
    assert_close(ours, theirs, rtol=1e-10, atol=1e-12)
    weights = np.random.default_rng(1).standard_normal(tuple(theirs.shape))
    (ours * ember.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    assert_close(x.grad, tx.grad, rtol=1e-10, atol=1e-12)


def test_bicubic_in_float32_matches_torch(torch):
    data = np.random.default_rng(0).standard_normal((1, 2, 7, 5)).astype(np.float32)
    for options in ({"size": (12, 9)}, {"size": (3, 3), "antialias": True},
                    {"scale_factor": 1.5, "align_corners": True}):
        ours = F.interpolate(ember.tensor(data), mode="bicubic", **options)
        theirs = torch.nn.functional.interpolate(torch.tensor(data), mode="bicubic", **options)
        assert ours.dtype is ember.float32
        assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


def test_bicubic_is_differentiable_twice():
    x = ember.randn(1, 1, 4, 5, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, size=(6, 3), mode="bicubic"), (x,))
    assert gradgradcheck(lambda t: F.interpolate(t, size=(2, 3), mode="bicubic", antialias=True), (x,))


@pytest.mark.parametrize("shape, mode", [((1, 1, 5), "linear"), ((1, 1, 5, 5), "nearest"),
                                         ((1, 1, 2, 2, 2), "trilinear")])
def test_antialias_is_refused_where_torch_refuses_it(torch, shape, mode):
    with pytest.raises(ValueError):
        torch.nn.functional.interpolate(torch.zeros(shape), size=shape[2:], mode=mode, antialias=True)
    with pytest.raises(ValueError, match="anti-alias"):
        F.interpolate(ember.zeros(shape), size=shape[2:], mode=mode, antialias=True)


def test_bicubic_needs_4d_input(torch):
    with pytest.raises(NotImplementedError):
        torch.nn.functional.interpolate(torch.zeros(1, 1, 5), size=3, mode="bicubic")
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(ember.zeros(1, 1, 5), size=3, mode="bicubic")


def test_antialias_to_width_one_is_the_separable_resize():
    # PyTorch 2.13's CPU kernel gives every output row the first row's weights when the output width is
    # one and the height changes (all rows equal); ember keeps the separable result, the two 1-D resizes
    # one after the other. A documented difference (README).
    x = ember.randn(1, 2, 8, 3, dtype=ember.float64)
    both = F.interpolate(x, size=(4, 1), mode="bilinear", antialias=True)
    rows = F.interpolate(x, size=(4, 3), mode="bilinear", antialias=True)
    assert_close(both, F.interpolate(rows, size=(4, 1), mode="bilinear", antialias=True))
    assert not np.allclose(both.numpy()[0, 0, 0], both.numpy()[0, 0, 1])
