"""Reductions: sum and mean over all elements or chosen dims, with ``keepdim`` and ``dtype``."""

from __future__ import annotations

import math

from ember import dtypes
from ember.ops import OpTable, Primitive, Sample, apply, check_tensor, normalize_dims

ops = OpTable()


def _reduction_samples(make):
    yield Sample((make(2, 3, 4),), name="all")
    yield Sample((make(2, 3, 4), 1), name="dim 1")
    yield Sample((make(2, 3, 4), (0, 2), True), name="dims (0, 2), keepdim")
    yield Sample((make(2, 3), -1), name="negative dim")
    yield Sample((make(),), name="zero-dim")
    yield Sample((make(3, 4, noncontiguous=True), 0), name="non-contiguous")
    yield Sample((make(0, 3), 1), name="empty")


def _expand_back(g, shape, dims, keepdim):
    """A reduced gradient broadcast back over the input's shape."""
    if dims is None:
        dims = tuple(range(len(shape)))
    if not keepdim:
        g = g.reshape(tuple(1 if i in dims else s for i, s in enumerate(shape)))
    return g.expand(shape)


class Sum(Primitive):
    @staticmethod
    def forward(xp, x, dims, keepdim, dtype):
        return xp.sum(x, axis=dims, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g, dims, keepdim, dtype):
        return _expand_back(g, ctx.input_shapes[0], dims, keepdim)


@ops.op(samples=_reduction_samples)
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum of elements over ``dim`` (all when None); bool and integer inputs sum as int64 (``torch.sum``)."""
    check_tensor("sum", "input", input)
    dims = normalize_dims("sum", dim, input._data.ndim)
    if dtype is not None:
        input = input.to(dtype)
    elif not input._dtype.is_floating_point:
        input = input.to(dtypes.int64)
    return apply(Sum, input, dims=dims, keepdim=bool(keepdim), dtype=None)


@ops.op(samples=_reduction_samples)
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim`` (all when None); floating inputs only, as in PyTorch (``torch.mean``)."""
    check_tensor("mean", "input", input)
    if dtype is not None:
        input = input.to(dtype)
    if not input._dtype.is_floating_point:
        raise TypeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                        f"complex dtype. Got: {input._dtype}")
    dims = normalize_dims("mean", dim, input._data.ndim)
    shape = input._data.shape
    count = math.prod(shape) if dims is None else math.prod(shape[d] for d in dims)
    total = apply(Sum, input, dims=dims, keepdim=bool(keepdim), dtype=None)
    return total / count if count else total * float("nan")
