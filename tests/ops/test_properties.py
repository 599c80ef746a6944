"""Property tests: elementwise ops over random broadcastable shapes and reductions over random shapes
and dims agree with PyTorch (values and gradients)."""

import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import ember

SETTINGS = settings(max_examples=25, deadline=None)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
# values whose cubes do not underflow (at subnormal scale gradients are 0/0 in both libraries, differently)
VALUES = st.floats(-3, 3, width=64).filter(lambda v: v == 0 or abs(v) > 1e-6)


def _pair(fn, values, grad=True):
    """ember and torch leaves (float64) for each numpy array in ``values``."""
    import torch
    ours = [ember.tensor(v, dtype=ember.float64, requires_grad=grad) for v in values]
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=grad) for v in values]
    return fn(ember, *ours), fn(torch, *theirs), ours, theirs


def _assert_matches(out, t_out, ours, theirs, rtol=1e-9, atol=1e-12):
    import torch
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=rtol, atol=atol)
    if not t_out.requires_grad or not t_out.numel():
        return
    cot = np.random.default_rng(0).standard_normal(tuple(t_out.shape))
    grads = ember.autograd.grad(out, ours, ember.tensor(cot, dtype=ember.float64), allow_unused=True)
    t_grads = torch.autograd.grad(t_out, theirs, torch.tensor(cot), allow_unused=True)
    for g, tg in zip(grads, t_grads):
        if tg is None:
            continue
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-7, atol=1e-10)


@st.composite
def broadcast_pair(draw, low=-3.0, high=3.0):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4))
    elements = st.floats(low, high, allow_nan=False, width=64).filter(lambda v: v == 0 or abs(v) > 1e-6)
    a = draw(hnp.arrays(np.float64, shapes.input_shapes[0], elements=elements))
    b = draw(hnp.arrays(np.float64, shapes.input_shapes[1], elements=elements))
    return a, b


BINARY = {
    "add": lambda m, a, b: m.add(a, b, alpha=0.5),
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "maximum": lambda m, a, b: m.maximum(a, b),
    "atan2": lambda m, a, b: m.atan2(a, b),
    "where": lambda m, a, b: m.where(a > 0, a, b),
    "lerp": lambda m, a, b: m.lerp(a, b, 0.3),
    "hypot-like": lambda m, a, b: (a * a + b * b + 1).sqrt(),
}


@SETTINGS
@given(broadcast_pair(), st.sampled_from(sorted(BINARY)))
def test_binary_ops_broadcast_like_torch(torch, pair, name):
    out, t_out, ours, theirs = _pair(BINARY[name], pair)
    assert tuple(out.shape) == tuple(t_out.shape)
    _assert_matches(out, t_out, ours, theirs)


@SETTINGS
@given(broadcast_pair(low=0.5, high=3.0), st.sampled_from(["div", "pow", "remainder", "floor"]))
def test_dividing_ops_broadcast_like_torch(torch, pair, name):
    fn = {"div": lambda m, a, b: a / b, "pow": lambda m, a, b: a ** b,
          "remainder": lambda m, a, b: m.remainder(a * 3, b),
          "floor": lambda m, a, b: m.div(a * 3, b, rounding_mode="floor")}[name]
    out, t_out, ours, theirs = _pair(fn, pair)
    _assert_matches(out, t_out, ours, theirs)


@SETTINGS
@given(broadcast_pair(), st.sampled_from(["eq", "lt", "ge", "logical_xor"]))
def test_comparisons_broadcast_like_torch(torch, pair, name):
    a, b = (np.round(v) for v in pair)
    out, t_out, _, _ = _pair(lambda m, x, y: getattr(m, name)(x, y), (a, b), grad=False)
    assert out.dtype is ember.bool
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())


UNARY = ["exp", "sin", "tanh", "sigmoid", "erf", "abs", "neg", "atan", "expm1", "square", "sign", "floor"]


@SETTINGS
@given(hnp.arrays(np.float64, SHAPES, elements=VALUES), st.sampled_from(UNARY))
def test_unary_ops_match_torch(torch, x, name):
    out, t_out, ours, theirs = _pair(lambda m, v: getattr(m, name)(v), (x,))
    _assert_matches(out, t_out, ours, theirs)


@st.composite
def array_and_dims(draw, min_side=0):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=min_side, max_side=4))
    x = draw(hnp.arrays(np.float64, shape, elements=VALUES, unique=True))
    dims = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                         unique_by=lambda d: d % len(shape)))
    keepdim = draw(st.booleans())
    return x, tuple(dims), keepdim


MULTI_DIM = {
    "sum": lambda m, x, d, k: m.sum(x, d, k),
    "mean": lambda m, x, d, k: m.mean(x, d, k),
    "var": lambda m, x, d, k: m.var(x, d, keepdim=k, correction=0),
    "logsumexp": lambda m, x, d, k: m.logsumexp(x, d, k),
    "vector_norm": lambda m, x, d, k: m.linalg.vector_norm(x, 3, d, k),
}


@SETTINGS
@given(array_and_dims(min_side=1), st.sampled_from(sorted(MULTI_DIM)))
def test_multi_dim_reductions_match_torch(torch, case, name):
    x, dims, keepdim = case
    out, t_out, ours, theirs = _pair(lambda m, v: MULTI_DIM[name](m, v, dims, keepdim), (x,))
    assert tuple(out.shape) == tuple(t_out.shape)
    _assert_matches(out, t_out, ours, theirs, rtol=1e-8)


ONE_DIM = {
    "max": lambda m, x, d, k: m.max(x, d, k).values,
    "min indices": lambda m, x, d, k: m.min(x, d, k).indices,
    "amax": lambda m, x, d, k: m.amax(x, d, k),
    "prod": lambda m, x, d, k: m.prod(x, d, k),
    "cumsum": lambda m, x, d, k: m.cumsum(x, d),
    "cummax": lambda m, x, d, k: m.cummax(x, d).values,
    "sort": lambda m, x, d, k: m.sort(x, d, descending=k).values,
    "argsort": lambda m, x, d, k: m.argsort(x, d, descending=k),
    "median": lambda m, x, d, k: m.median(x, d, k).values,
    "std": lambda m, x, d, k: m.std(x, d, keepdim=k),
}


@SETTINGS
@given(array_and_dims(min_side=1), st.sampled_from(sorted(ONE_DIM)))
def test_single_dim_reductions_match_torch(torch, case, name):
    x, dims, keepdim = case
    out, t_out, ours, theirs = _pair(lambda m, v: ONE_DIM[name](m, v, dims[0], keepdim), (x,))
    assert tuple(out.shape) == tuple(t_out.shape)
    _assert_matches(out, t_out, ours, theirs, rtol=1e-8)
