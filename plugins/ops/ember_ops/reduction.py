"""Reductions over all elements or chosen dims: sum, mean, prod, amax/amin, max/min (with indices),
argmax/argmin, var/std (``correction``), logsumexp, norm and ``linalg.vector_norm``, all/any, and the
scans cumsum/cumprod/cummax/cummin.

Ops that select elements (max with dim, cummax) compute indices without a gradient and take the values
with :class:`TakeAlong`, whose gradient scatters back: one small pair of primitives serves them all.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from ember import dtypes
from ember.ops import (DTypeError, ErrorInput, OpTable, OutOfRangeError, Primitive, Sample, StabilityInput, apply,
                       check_tensor, float_input, normalize_dims)
from ember.tensor import Tensor

from . import return_types
from .elementwise_factories import bad_option
from .samples import extreme_inputs
from .selection import maximum, minimum, where

ops = OpTable()


def _reduction_samples(make):
    yield Sample((make(2, 3, 4),), name="all")
    yield Sample((make(2, 3, 4), 1), name="dim 1")
    yield Sample((make(2, 3, 4), (0, 2), True), name="dims (0, 2), keepdim")
    yield Sample((make(2, 3), -1), name="negative dim")
    yield Sample((make(),), name="zero-dim")
    yield Sample((make(3, 4, noncontiguous=True), 0), name="non-contiguous")
    yield Sample((make(0, 3), 1), name="empty")


def _dim_samples(make, empty=True, **opts):
    """Samples for ops taking one ``dim`` (ints only), with and without keepdim."""
    yield Sample((make(3, 4, **opts), 1), name="dim 1")
    yield Sample((make(2, 3, 4, **opts), 0, True), name="dim 0, keepdim")
    yield Sample((make(2, 3, **opts), -1), name="negative dim")
    yield Sample((make(3, 4, noncontiguous=True, **opts), 0), name="non-contiguous")
    yield Sample((make(**opts), 0), name="zero-dim")
    if empty:
        yield Sample((make(0, 3, **opts), 1), name="empty")


def _expand_back(g, shape, dims, keepdim):
    """A reduced gradient broadcast back over the input's shape."""
    if dims is None:
        dims = tuple(range(len(shape)))
    if not keepdim:
        g = g.reshape(tuple(1 if i in dims else s for i, s in enumerate(shape)))
    return g.expand(shape)


def _count(shape, dims):
    return math.prod(shape) if dims is None else math.prod(shape[d] for d in dims)


# -- sum, mean, prod --------------------------------------------------------------------------------

class Sum(Primitive):
    """The sum of all elements (``dims`` None); :class:`SumDim` is the overload over given dims."""

    @staticmethod
    def forward(xp, x, dims, keepdim, dtype):
        return xp.sum(x, axis=dims, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g, dims, keepdim, dtype):
        return _expand_back(g, ctx.input_shapes[0], dims, keepdim)


class SumDim(Sum):
    name, grad_fn = "sum.dim_IntList", "SumBackward1"


def _sum_errors(make):
    yield ErrorInput(Sample((make(2, 3), 3)), IndexError, r"sum\(\).*range.*got 3")


@ops.op(primitive=Sum, samples=_reduction_samples, errors=_sum_errors)
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum of elements over ``dim`` (all when None); bool and integer inputs sum as int64 (``torch.sum``).

    Shape:
        - input: ``(*)``, any dtype; ``dim``: an int, a tuple of ints or None (all dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; integer and bool inputs sum in int64, floating ones keep their dtype (or ``dtype``).

    Raises:
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.sum``."""
    check_tensor("sum", "input", input)
    dims = normalize_dims("sum", dim, input._data.ndim)
    if dtype is not None:
        input = input.to(dtype)
    elif not input._dtype.is_floating_point:
        input = input.to(dtypes.int64)
    return apply(Sum if dims is None else SumDim, input, dims=dims, keepdim=bool(keepdim), dtype=None)


class Mean(Primitive):
    """The mean of all elements; :class:`MeanDim` is the overload over given dims (fused: it stands for
    ``sum / count``, in one backend call)."""

    @staticmethod
    def forward(xp, x, dims, keepdim):
        return xp.sum(x, axis=dims, keepdims=keepdim) / _count(x.shape, dims)  # 0 / 0: NaN, as PyTorch's

    @staticmethod
    def backward(ctx, g, dims, keepdim):
        shape = ctx.input_shapes[0]
        return _expand_back(g, shape, dims, keepdim) / _count(shape, dims)


class MeanDim(Mean):
    name, grad_fn = "mean.dim", "MeanBackward1"


def _mean_input(input, dtype):
    check_tensor("mean", "input", input)
    if dtype is not None:
        input = input.to(dtype)
    if not input._dtype.is_floating_point:
        raise DTypeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                         f"complex dtype. Got: {input._dtype}")
    return input


def _mean_composite(input, dim=None, keepdim=False, *, dtype=None):
    input = _mean_input(input, dtype)
    dims = normalize_dims("mean", dim, input._data.ndim)
    count = _count(input._data.shape, dims)
    total = input.sum(dims, keepdim=keepdim) if dims is not None else input.sum()
    return total / count if count else total * float("nan")


@ops.op(samples=_reduction_samples, primitive=Mean, reference=_mean_composite)
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim`` (all when None); floating inputs only, as in PyTorch (``torch.mean``).

    Shape:
        - input: ``(*)``, floating point (or a floating ``dtype``); ``dim``: an int, a tuple of ints or None (all
          dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; the dtype of ``input``.

    Raises:
        DTypeError: ``input`` is not floating point and no floating ``dtype`` is given.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.mean``."""
    input = _mean_input(input, dtype)
    dims = normalize_dims("mean", dim, input._data.ndim)
    return apply(Mean if dims is None else MeanDim, input, dims=dims, keepdim=bool(keepdim))


class Prod(Primitive):
    save_inputs = True
    save_output = True

    @staticmethod
    def forward(xp, x, dims, keepdim):
        return xp.prod(x, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g, dims, keepdim):
        x = ctx.inputs[0]
        shape = ctx.input_shapes[0]
        ge = _expand_back(g, shape, dims, keepdim)
        is_zero = x == 0
        safe = where(is_zero, 1.0, x)
        others = _expand_back(ctx.output, shape, dims, keepdim) / safe  # product of the others, if x_i != 0
        if not bool(is_zero.any()):
            return ge * others
        # a zero element's gradient is the product of the others: nonzero only when it is the only zero
        rest = apply(Prod, safe, dims=dims, keepdim=True)
        lone = is_zero.sum(dims, keepdim=True) == 1
        return ge * where(is_zero, where(lone, rest, 0.0), others)


def _prod_samples(make):
    yield Sample((make(2, 3, away_from_zero=True),), name="all")
    yield from _dim_samples(make, away_from_zero=True)
    x = make(3, 4, away_from_zero=True).detach()
    x._data[0, 1] = 0
    x._data[1, :2] = 0
    yield Sample((x.requires_grad_(True), 1), name="one zero, two zeros")


@ops.op(primitive=Prod, samples=_prod_samples, skips={
    "gradgradcheck": "second derivatives are exact except where a slice holds two or more zeros: the backward "
                     "treats the product of the other elements as a constant there, so they come out 0 "
                     "(first derivatives are exact everywhere)"})
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of all elements, or along one ``dim`` (``torch.prod``); integers multiply as int64. The gradient is
    exact where the input holds zeros.

    Shape:
        - input: ``(*)``, any dtype; ``dim``: one int or None; ``dim``: an int, a tuple of ints or None (all dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; integer and bool inputs give int64, floating ones keep their dtype (or ``dtype``).

    Raises:
        TypeError: ``dim`` is not an int, or ``input`` is not a Tensor.
        OutOfRangeError: ``dim`` is out of range for ``input``.

    PyTorch: ``torch.prod``."""
    check_tensor("prod", "input", input)
    if dim is not None and not isinstance(dim, int):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    dims = normalize_dims("prod", dim, input._data.ndim)
    if dtype is not None:
        input = input.to(dtype)
    elif not input._dtype.is_floating_point:
        input = input.to(dtypes.int64)
    return apply(Prod, input, dims=dims, keepdim=bool(keepdim) and dim is not None)


# -- selecting reductions ---------------------------------------------------------------------------

def _index_grid(xp, idx, dim):
    grids = list(xp.meshgrid(*[xp.arange(s) for s in idx.shape], indexing="ij", sparse=True))
    grids[dim] = idx
    return tuple(grids)


class TakeAlong(Primitive):
    """x's elements at ``indices`` (a backend integer array) along ``dim``; the gradient scatters back."""

    @staticmethod
    def forward(xp, x, indices, dim):
        return xp.take_along_axis(x, indices, axis=dim)

    @staticmethod
    def backward(ctx, g, indices, dim):
        return apply(ScatterAddAlong, g, indices=indices, dim=dim, shape=ctx.input_shapes[0])


class ScatterAddAlong(Primitive):
    """Zeros of ``shape`` with ``g`` added at ``indices`` along ``dim``: the gradient of TakeAlong."""

    @staticmethod
    def forward(xp, g, indices, dim, shape):
        out = xp.zeros(shape, dtype=g.dtype)
        xp.add.at(out, _index_grid(xp, indices, dim), g)
        return out

    @staticmethod
    def backward(ctx, gg, indices, dim, shape):
        return apply(TakeAlong, gg, indices=indices, dim=dim)


def take_along(x, indices, dim):
    """Elements of ``x`` at the integer tensor ``indices`` along ``dim``, differentiable in ``x``."""
    return apply(TakeAlong, x, indices=indices._data, dim=dim)


def _one_dim(op, input, dim):
    """``dim`` as a non-negative int for an op that takes exactly one (0-dim inputs count as 1-d)."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    dims = normalize_dims(op, dim, input._data.ndim)  # checked on 0-d inputs too: only -1 and 0 fit
    return dims[0] if dims else 0


def _check_nonempty(op, input, dims):
    shape = input._data.shape
    for d in range(len(shape)) if dims is None else dims:
        if shape[d] == 0:
            raise OutOfRangeError(f"{op}(): expected reduction dim {d} to have non-zero size, but the input has "
                                  f"shape {tuple(shape)}")


class Amax(Primitive):
    """The largest value over ``dims``; ties share the gradient equally, as in PyTorch."""

    save_inputs = True
    save_output = True

    @staticmethod
    def forward(xp, x, dims, keepdim):
        return xp.max(x, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g, dims, keepdim):
        x = ctx.inputs[0]
        shape = ctx.input_shapes[0]
        mask = x == _expand_back(ctx.output, shape, dims, keepdim)
        count = mask.sum(dims, keepdim=True)
        return _expand_back(g, shape, dims, keepdim) * mask / count


class Amin(Amax):
    """The smallest value over ``dims``; ties share the gradient equally."""

    @staticmethod
    def forward(xp, x, dims, keepdim):
        return xp.min(x, axis=dims, keepdims=keepdim)


class Max(Amax):
    """``max(input)``: the largest of all elements (PyTorch's overload without ``dim``)."""
    grad_fn = "MaxBackward1"


class Min(Amin):
    """``min(input)``: the smallest of all elements."""
    grad_fn = "MinBackward1"


def _extreme(op, prim, input, dim, keepdim):
    check_tensor(op, "input", input)
    dims = normalize_dims(op, None if dim == () else dim, input._data.ndim)
    _check_nonempty(op, input, dims)
    return apply(prim, input, dims=dims, keepdim=bool(keepdim))


def _amax_samples(make):
    yield Sample((make(2, 3, 4),), name="all")
    yield Sample((make(2, 3, 4), 1), name="dim 1")
    yield Sample((make(2, 3, 4), (0, 2), True), name="dims (0, 2), keepdim")
    yield Sample((make(3, 4, noncontiguous=True), -1), name="non-contiguous")
    yield Sample((make(),), name="zero-dim")


def _amax_errors(make):
    yield ErrorInput(Sample((make(0, 3), 0)), IndexError, r"amax\(\).*dim 0")


@ops.op(primitive=Amax, samples=_amax_samples, errors=_amax_errors)
def amax(input, dim=(), keepdim=False):
    """The largest value over ``dim`` (all when empty); ties share the gradient (``torch.amax``).

    Shape:
        - input: ``(*)``, any dtype; ``dim``: an int, a tuple of ints or None (all dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; the dtype of ``input``.

    Raises:
        OutOfRangeError: ``dim`` is out of range for ``input``.
        OutOfRangeError: a reduced dim is empty.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.amax``."""
    return _extreme("amax", Amax, input, dim, keepdim)


@ops.op(primitive=Amin, samples=_amax_samples)
def amin(input, dim=(), keepdim=False):
    """The smallest value over ``dim`` (all when empty); ties share the gradient (``torch.amin``).

    Shape:
        - input: ``(*)``, any dtype; ``dim``: an int, a tuple of ints or None (all dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; the dtype of ``input``.

    Raises:
        OutOfRangeError: ``dim`` is out of range for ``input``.
        OutOfRangeError: a reduced dim is empty.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.amin``."""
    return _extreme("amin", Amin, input, dim, keepdim)


class Argmax(Primitive):
    """The index of the largest value, flat (``dim`` None) or along ``dim``, as int64."""

    differentiable = False

    @staticmethod
    def forward(xp, x, dim, keepdim):
        return _arg_reduce(xp.argmax, xp, x, dim, keepdim)


class Argmin(Argmax):
    """The index of the smallest value, flat or along ``dim``, as int64."""

    @staticmethod
    def forward(xp, x, dim, keepdim):
        return _arg_reduce(xp.argmin, xp, x, dim, keepdim)


def _arg_reduce(arg, xp, x, dim, keepdim):
    if dim is None:
        return arg(x.reshape(-1)).reshape((1,) * x.ndim if keepdim else ()).astype(xp.int64)
    return arg(x, axis=dim, keepdims=keepdim).astype(xp.int64, copy=False)


def _arg_extreme(op, prim, input, dim, keepdim):
    check_tensor(op, "input", input)
    if input._dtype.category == 0:
        raise DTypeError(f"{op}(): does not support bool input")
    if dim is not None:
        dim = _one_dim(op, input, dim)
        if not input._data.ndim:
            dim = None
    _check_nonempty(op, input, None if dim is None else (dim,))
    return apply(prim, input, dim=dim, keepdim=bool(keepdim))


def _arg_samples(make):
    yield Sample((make(3, 4, requires_grad=False),), name="all")
    yield from (Sample(s.args, name=s.name) for s in _dim_samples(make, empty=False, requires_grad=False))


@ops.op(primitive=Argmax, differentiable=False, samples=_arg_samples)
def argmax(input, dim=None, keepdim=False):
    """Index of the largest value, flat or along ``dim``; the first one at ties (``torch.argmax``).

    Shape:
        - input: ``(*)``, any dtype but bool; ``dim``: one int.
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; int64 (the first maximum's index; over the flattened input when ``dim`` is None).

    Raises:
        DTypeError: ``input`` is a bool tensor.
        TypeError: ``dim`` is not an int, or ``input`` is not a Tensor.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        OutOfRangeError: a reduced dim is empty.

    PyTorch: ``torch.argmax``."""
    return _arg_extreme("argmax", Argmax, input, dim, keepdim)


@ops.op(primitive=Argmin, differentiable=False, samples=_arg_samples)
def argmin(input, dim=None, keepdim=False):
    """Index of the smallest value, flat or along ``dim``; the first one at ties (``torch.argmin``).

    Shape:
        - input: ``(*)``, any dtype but bool; ``dim``: one int.
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; int64 (the first minimum's index; over the flattened input when ``dim`` is None).

    Raises:
        DTypeError: ``input`` is a bool tensor.
        TypeError: ``dim`` is not an int, or ``input`` is not a Tensor.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        OutOfRangeError: a reduced dim is empty.

    PyTorch: ``torch.argmin``."""
    return _arg_extreme("argmin", Argmin, input, dim, keepdim)


def _select_along(input, dim, keepdim, indices, result_type):
    """(values, indices) for ``indices`` chosen along ``dim`` (kept, shape of input but size 1 there)."""
    if not input._data.ndim:
        return result_type(input * 1, indices.reshape(()))
    values = take_along(input, indices, dim)
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return result_type(values, indices)


class MaxDim(Primitive):
    """``max(input, dim)``: the largest values along ``dim`` and their (first) indices, one node as
    PyTorch's (MaxBackward0); the gradient goes to the chosen element only."""

    name, grad_fn = "max.dim", "MaxBackward0"
    num_outputs = 2
    save_output = True

    @staticmethod
    def forward(xp, x, dim, keepdim):
        return _chosen_along(xp.argmax, xp, x, dim, keepdim)

    @staticmethod
    def backward(ctx, g, g_indices, dim, keepdim):
        indices = ctx.outputs[1]
        if not keepdim:
            g, indices = g.unsqueeze(dim), indices.unsqueeze(dim)
        return g.new_zeros(ctx.input_shapes[0]).scatter(dim, indices, g)


class MinDim(MaxDim):
    """``min(input, dim)``: the smallest values along ``dim`` and their indices (MinBackward0)."""

    name, grad_fn = "min.dim", "MinBackward0"

    @staticmethod
    def forward(xp, x, dim, keepdim):
        return _chosen_along(xp.argmin, xp, x, dim, keepdim)


def _chosen_along(arg, xp, x, dim, keepdim):
    """(values, int64 indices) of the elements ``arg`` (argmax, argmin) picks along ``dim``."""
    indices = xp.expand_dims(arg(x, axis=dim), dim)
    values = xp.take_along_axis(x, indices, axis=dim)
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return values, indices.astype(xp.int64)


def _max_min(op, input, dim, keepdim, largest, binary):
    check_tensor(op, "input", input)
    if isinstance(dim, Tensor):
        return binary(input, dim)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}(): 'keepdim' needs a 'dim', got dim=None and keepdim=True")
        return _extreme(op, Max if largest else Min, input, (), False)
    dim = _one_dim(op, input, dim)
    _check_nonempty(op, input, (dim,) if input._data.ndim else ())
    result_type = return_types.max if largest else return_types.min
    if not input._data.ndim:
        indices = apply(Argmax if largest else Argmin, input, dim=None, keepdim=True)
        return _select_along(input, dim, keepdim, indices, result_type)
    return result_type(*apply(MaxDim if largest else MinDim, input, dim=dim, keepdim=bool(keepdim)))


def _max_samples(make):
    yield Sample((make(3, 4),), name="all")
    yield from _dim_samples(make, empty=False)
    yield Sample((make(2, 3), make(3)), name="binary form")


def _max_errors(make):
    yield ErrorInput(Sample((make(2, 3), -3)), IndexError, r"max\(\).*got -3")


@ops.op(primitive=Max, samples=_max_samples, errors=_max_errors)
def max(input, dim=None, keepdim=False):
    """The largest value (no ``dim``), ``(values, indices)`` along ``dim``, or ``maximum(input, other)`` when
    ``dim`` is a tensor (``torch.max``).

    Shape:
        - input: ``(*)``, any dtype; ``dim``: one int.
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; with ``dim``, a ``(values, indices)`` pair, the indices int64; the dtype of ``input``.

    Raises:
        TypeError: ``dim`` is not an int, ``keepdim`` is given without ``dim``, or ``input`` is not a Tensor.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        OutOfRangeError: a reduced dim is empty.

    PyTorch: ``torch.max``."""
    return _max_min("max", input, dim, keepdim, True, maximum)


@ops.op(primitive=Min, samples=_max_samples)
def min(input, dim=None, keepdim=False):
    """The smallest value (no ``dim``), ``(values, indices)`` along ``dim``, or ``minimum(input, other)`` when
    ``dim`` is a tensor (``torch.min``).

    Shape:
        - input: ``(*)``, any dtype; ``dim``: one int.
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; with ``dim``, a ``(values, indices)`` pair, the indices int64; the dtype of ``input``.

    Raises:
        TypeError: ``dim`` is not an int, ``keepdim`` is given without ``dim``, or ``input`` is not a Tensor.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        OutOfRangeError: a reduced dim is empty.

    PyTorch: ``torch.min``."""
    return _max_min("min", input, dim, keepdim, False, minimum)


# -- variance ---------------------------------------------------------------------------------------

class Var(Primitive):
    save_inputs = True

    @staticmethod
    def forward(xp, x, dims, correction, keepdim):
        n = x.size if dims is None else math.prod(x.shape[d] for d in dims)
        if n - correction <= 0 or not x.size:
            mean = xp.mean(x, axis=dims, keepdims=True) if x.size else xp.sum(x, axis=dims, keepdims=True)
            sq = xp.sum((x - mean) ** 2, axis=dims, keepdims=keepdim)
            return sq / x.dtype.type(builtins.max(n - correction, 0))  # inf or nan, as PyTorch
        return xp.var(x, axis=dims, ddof=correction, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g, dims, correction, keepdim):
        x = ctx.inputs[0]
        shape = ctx.input_shapes[0]
        denominator = builtins.max(_count(shape, dims) - correction, 0)
        scale = 2 / denominator if denominator else float("inf")
        return _expand_back(g, shape, dims, keepdim) * (x - x.mean(dims, keepdim=True)) * scale


class Std(Var):
    """sqrt(var): one node, as PyTorch's std (fused: it stands for ``var(...).sqrt()``)."""

    save_output = True

    @staticmethod
    def forward(xp, x, dims, correction, keepdim):
        return xp.sqrt(Var.forward(xp, x, dims, correction, keepdim))

    @staticmethod
    def backward(ctx, g, dims, correction, keepdim):
        std = ctx.output
        return Var.backward(ctx, where(std == 0, 0.0, g / (2 * std)), dims, correction, keepdim)  # 0 at 0, as PyTorch


def _correction(op, dim, unbiased, correction):
    if isinstance(dim, bool):  # the legacy var(input, unbiased) overload
        dim, unbiased = None, dim
    if correction is not None:
        if unbiased is not None:
            raise TypeError(f"{op}(): pass either 'unbiased' or 'correction', not both")
        if isinstance(correction, bool) or not isinstance(correction, (int, float)):
            raise TypeError(f"{op}(): argument 'correction' must be a number, got {correction!r}")
        return dim, correction
    return dim, 0 if unbiased is False else 1


def _var(op, input, dim, unbiased, keepdim, correction, prim=Var):
    check_tensor(op, "input", input)
    dim, correction = _correction(op, dim, unbiased, correction)
    float_input(op, input)
    dims = normalize_dims(op, dim, input._data.ndim)
    return apply(prim, input, dims=dims, correction=correction, keepdim=bool(keepdim))


def _var_samples(make):
    yield Sample((make(2, 3, 4),), name="all")
    yield Sample((make(2, 3, 4), 1), name="dim 1")
    yield Sample((make(2, 3, 4), (0, 2)), {"keepdim": True, "correction": 0}, name="dims, keepdim, correction=0")
    yield Sample((make(3, 4), -1), {"unbiased": False}, name="unbiased=False")
    yield Sample((make(3, 4), False), name="legacy positional unbiased")
    yield Sample((make(3, 4, noncontiguous=True), 0), {"correction": 2}, name="correction=2")
    yield Sample((make(0, 3), 1), name="empty")


def _sum_over(x, dims, keepdim):
    if dims is None:
        return x.sum(tuple(range(x.dim())), keepdim=True) if keepdim else x.sum()
    return x.sum(dims, keepdim=keepdim)


def _var_composite(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """mean((x - mean(x))**2) with ``correction``: what :class:`Var` stands for."""
    dim, correction = _correction("var", dim, unbiased, correction)
    dims = normalize_dims("var", dim, input._data.ndim)
    centred = input - _sum_over(input, dims, True) / _count(input._data.shape, dims)
    return _sum_over(centred * centred, dims, keepdim) / builtins.max(_count(input._data.shape, dims) - correction, 0)


def _var_errors(make):
    yield ErrorInput(Sample((make(3), 0, True), {"correction": 0}), TypeError, r"var\(\).*'unbiased' or 'correction'")
    yield ErrorInput(Sample((make(3, dtype="int64"),)), TypeError, r"var\(\): not implemented for input of dtype int64")


def _large_offset_stability(make):
    """Data far from zero (1e6 + noise): a one-pass sum of squares cancels, two passes stay exact."""
    for correction in (0, 1, 2):
        data = make.tensor(1e6 + np.random.default_rng(0).standard_normal((3, 7)))
        yield StabilityInput(Sample((data, 1), {"correction": correction}), rtol=1e-9, atol=1e-9,
                             dtypes=(dtypes.float64,))


@ops.op(primitive=Var, reference=_var_composite, samples=_var_samples, errors=_var_errors,
        stability=_large_offset_stability)
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with ``correction`` (Bessel's, 1, by default); the legacy ``unbiased`` flag is
    accepted (``torch.var``).

    Shape:
        - input: ``(*)``, floating point; ``dim``: an int, a tuple of ints or None (all dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; the dtype of ``input``.

    Raises:
        TypeError: both ``unbiased`` and ``correction`` are given, or ``correction`` is not a number.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.var``."""
    return _var("var", input, dim, unbiased, keepdim, correction)


def _std_composite(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _var_composite(input, dim, unbiased, keepdim, correction=correction).sqrt()


@ops.op(primitive=Std, reference=_std_composite, samples=_var_samples, stability=_large_offset_stability)
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim``: sqrt(var) (``torch.std``).

    Shape:
        - input: ``(*)``, floating point; ``dim``: an int, a tuple of ints or None (all dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; the dtype of ``input``.

    Raises:
        TypeError: both ``unbiased`` and ``correction`` are given, or ``correction`` is not a number.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.std``."""
    return _var("std", input, dim, unbiased, keepdim, correction, Std)


@ops.op(namespaces=("ember",), samples=_var_samples)
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over ``dim`` (``torch.var_mean``).

    Shape:
        - input: ``(*)``, floating point; ``dim``: an int, a tuple of ints or None (all dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; a ``(var, mean)`` pair of that shape, the dtype of ``input``.

    Raises:
        TypeError: both ``unbiased`` and ``correction`` are given, or ``correction`` is not a number.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.var_mean``."""
    v = _var("var_mean", input, dim, unbiased, keepdim, correction)
    dim = None if isinstance(dim, bool) else dim
    return v, mean(input, dim, keepdim)


@ops.op(namespaces=("ember",), samples=_var_samples)
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over ``dim`` (``torch.std_mean``).

    Shape:
        - input: ``(*)``, floating point; ``dim``: an int, a tuple of ints or None (all dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; a ``(std, mean)`` pair of that shape, the dtype of ``input``.

    Raises:
        TypeError: both ``unbiased`` and ``correction`` are given, or ``correction`` is not a number.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.std_mean``."""
    v = _var("std_mean", input, dim, unbiased, keepdim, correction)
    dim = None if isinstance(dim, bool) else dim
    return v.sqrt(), mean(input, dim, keepdim)


# -- logsumexp and norms ----------------------------------------------------------------------------

class Logsumexp(Primitive):
    save_inputs = True
    save_output = True

    @staticmethod
    def forward(xp, x, dims, keepdim):
        m = xp.max(x, axis=dims, keepdims=True) if x.size else xp.sum(x, axis=dims, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.sum(xp.exp(x - m), axis=dims, keepdims=True)) + m
        if keepdim:
            return out
        return out.reshape(()) if dims is None else xp.squeeze(out, axis=dims)

    @staticmethod
    def backward(ctx, g, dims, keepdim):
        x = ctx.inputs[0]
        shape = ctx.input_shapes[0]
        return _expand_back(g, shape, dims, keepdim) * (x - _expand_back(ctx.output, shape, dims, keepdim)).exp()


def _logsumexp_composite(input, dim, keepdim=False):
    """log(sum(exp(input))): what :class:`Logsumexp` stands for (without its shift by the max)."""
    return input.exp().sum(dim, keepdim=keepdim).log()


def _logsumexp_stability(make):
    yield from extreme_inputs(make, dim=-1)
    yield StabilityInput(Sample((make.tensor([-math.inf, -math.inf]), 0)), expected=-math.inf, finite=False)
    yield StabilityInput(Sample((make.tensor([1e4] * 4), 0)), expected=1e4 + math.log(4), rtol=1e-15, atol=0,
                         dtypes=(dtypes.float64,))


@ops.op(primitive=Logsumexp, reference=_logsumexp_composite, stability=_logsumexp_stability,
        samples=lambda make: [Sample((make(2, 3, 4), 1)), Sample((make(2, 3, 4), (0, 2), True)),
                              Sample((make(3, 4, noncontiguous=True), -1)), Sample((make(), 0)),
                              Sample((make(0, 3), 0), name="empty reduction")])
def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(input))) over ``dim``, without overflow (shifted by the max) (``torch.logsumexp``).

    Shape:
        - input: ``(*)``, any dtype (integers are computed in the default float); ``dim``: an int, a tuple of ints
          or None (all dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; floating point.

    Raises:
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.logsumexp``."""
    check_tensor("logsumexp", "input", input)
    if not input._dtype.is_floating_point:
        input = input.to(dtypes.get_default_dtype())
    dims = normalize_dims("logsumexp", dim, input._data.ndim)
    return apply(Logsumexp, input, dims=dims, keepdim=bool(keepdim))


class LinalgVectorNorm(Primitive):
    save_inputs = True
    save_output = True

    @staticmethod
    def forward(xp, x, ord, dims, keepdim):
        a = xp.abs(x)
        if ord == 2:
            return xp.sqrt(xp.sum(a * a, axis=dims, keepdims=keepdim))
        if ord == 1:
            return xp.sum(a, axis=dims, keepdims=keepdim)
        if ord == math.inf:
            return xp.max(a, axis=dims, keepdims=keepdim) if x.size else xp.sum(a, axis=dims, keepdims=keepdim)
        if ord == -math.inf:
            return xp.min(a, axis=dims, keepdims=keepdim)
        if ord == 0:
            return xp.sum(a != 0, axis=dims, keepdims=keepdim).astype(x.dtype)
        return xp.sum(a ** ord, axis=dims, keepdims=keepdim) ** (1.0 / ord)

    @staticmethod
    def backward(ctx, g, ord, dims, keepdim):
        x = ctx.inputs[0]
        shape = ctx.input_shapes[0]
        if ord == 0:
            return x * 0
        ge = _expand_back(g, shape, dims, keepdim)
        if ord == 1:
            return ge * x.sign()
        norm = _expand_back(ctx.output, shape, dims, keepdim)
        if ord in (math.inf, -math.inf):
            mask = x.abs() == norm
            return ge * x.sign() * mask / mask.sum(dims, keepdim=True)
        safe = where(norm == 0, 1.0, norm)  # the gradient at a zero norm is zero, as in PyTorch
        if ord == 2:
            return ge * x / safe
        return ge * x * x.abs() ** (ord - 2) / safe ** (ord - 1)


def _vector_norm(op, x, ord, dim, keepdim, dtype):
    check_tensor(op, "input", x)
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):  # a TypeError, as in PyTorch
        raise TypeError(f"{op}(): argument 'ord' must be a number (inf and -inf included), got "
                        f"{type(ord).__name__} {ord!r}")
    if dtype is not None:
        x = x.to(dtype)
    float_input(op, x)
    dims = normalize_dims(op, dim, x._data.ndim)
    if ord < 0 or ord == math.inf:
        _check_nonempty(op, x, dims)
    return apply(LinalgVectorNorm, x, ord=float(ord), dims=dims, keepdim=bool(keepdim))


def _norm_samples(make):
    for ord in (2, 1, math.inf, -math.inf, 3, 0.5):
        yield Sample((make(3, 4, away_from_zero=True),), {"ord": ord}, name=f"ord={ord}")
    yield Sample((make(2, 3, 4),), {"dim": (0, 2), "keepdim": True}, name="dims, keepdim")
    yield Sample((make(3, 4, noncontiguous=True),), {"dim": 1}, name="non-contiguous")
    yield Sample((make(3, 4),), {"ord": 0}, name="ord=0")


def _vector_norm_composite(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """sum(|x|**ord)**(1/ord), max or min of |x| for +-inf, the count of nonzeros for 0: what
    :class:`LinalgVectorNorm` stands for."""
    x = x.to(dtype) if dtype is not None else x
    dims = normalize_dims("vector_norm", dim, x._data.ndim)
    if ord in (math.inf, -math.inf):
        return (x.abs().amax if ord > 0 else x.abs().amin)(() if dims is None else dims, keepdim)
    if ord == 0:
        return _sum_over((x != 0).to(x.dtype), dims, keepdim)
    return _sum_over(x.abs() ** ord, dims, keepdim) ** (1.0 / ord)


def _norm_composite(input, p="fro", dim=None, keepdim=False, dtype=None):
    return _vector_norm_composite(input, 2 if p in ("fro", None) else p, dim, keepdim, dtype=dtype)


def _vector_norm_errors(make):
    yield ErrorInput(Sample((make(3),), {"ord": "fro"}), TypeError, r"vector_norm\(\).*'ord'.*'fro'")


@ops.op(primitive=LinalgVectorNorm, reference=_vector_norm_composite, namespaces=("linalg",), samples=_norm_samples,
        errors=_vector_norm_errors)
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The ``ord``-norm of ``x`` seen as a vector (flattened, or over ``dim``) (``torch.linalg.vector_norm``).

    Shape:
        - x: ``(*)``, floating point; ``dim``: an int, a tuple of ints or None (all dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; the dtype of ``x``.

    Raises:
        DTypeError: ``x`` is not floating point.
        OutOfRangeError: ``dim`` is out of range for ``x``.
        OutOfRangeError: a reduced dim is empty (for an ``ord`` that needs an element).
        TypeError: ``x`` is not a Tensor.

    PyTorch: ``torch.linalg.vector_norm``."""
    return _vector_norm("vector_norm", x, ord, dim, keepdim, dtype)


def _torch_norm_samples(make):
    yield Sample((make(3, 4),), name="fro")
    yield Sample((make(3, 4), 1), name="p=1")
    yield Sample((make(3, 4, away_from_zero=True), math.inf, 1), name="p=inf, dim 1")
    yield Sample((make(2, 3, 4), "fro", (1, 2), True), name="fro over two dims, keepdim")
    yield Sample((make(2, 3), 3, 0), name="p=3")


def _norm_errors(make):
    yield ErrorInput(Sample((make(3),), {"p": "nuclear"}), ValueError, r"norm\(\).*'p'.*'nuclear'")


@ops.op(primitive=LinalgVectorNorm, reference=_norm_composite, samples=_torch_norm_samples, errors=_norm_errors)
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """A vector norm over ``dim`` (all when None): ``p`` is 'fro' (= 2) or a number (``torch.norm``); the nuclear
    norm ('nuc') is ``ember.linalg.matrix_norm``'s business and is refused here.

    Shape:
        - input: ``(*)``, floating point; ``p`` a number ('fro' by default); ``dim``: an int, a tuple of ints or
          None (all dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; the dtype of ``input``.

    Raises:
        DTypeError: ``input`` is not floating point.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        OutOfRangeError: a reduced dim is empty.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.norm``."""
    if p == "fro" or p is None:
        p = 2
    elif isinstance(p, str):
        raise bad_option("norm", "p", p, "'fro' or a number (inf, -inf, 0, 1, 2, ...)")
    return _vector_norm("norm", input, p, dim, keepdim, dtype)


# -- all and any ------------------------------------------------------------------------------------

class All(Primitive):
    """True where every element over ``dims`` is nonzero; uint8 stays uint8, as in PyTorch."""

    differentiable = False

    @staticmethod
    def forward(xp, x, dims, keepdim):
        return _truth(xp.all, xp, x, dims, keepdim)


class Any(All):
    """True where some element over ``dims`` is nonzero."""

    @staticmethod
    def forward(xp, x, dims, keepdim):
        return _truth(xp.any, xp, x, dims, keepdim)


def _truth(reduce, xp, x, dims, keepdim):
    out = reduce(x, axis=dims, keepdims=keepdim)
    return out.astype(xp.uint8) if x.dtype == xp.uint8 else out  # PyTorch keeps uint8 for uint8 input


def _truth_samples(make):
    yield Sample((make(2, 3, requires_grad=False),), name="all elements")
    yield Sample((make(2, 3, requires_grad=False) > 0, 1), name="bool, dim 1")
    yield Sample((make(2, 3, 4, requires_grad=False) > 0, (0, 2), True), name="dims, keepdim")
    yield Sample((make(0, 3, requires_grad=False), 1), name="empty")


@ops.op(primitive=All, differentiable=False, samples=_truth_samples)
def all(input, dim=None, keepdim=False):
    """True where every element over ``dim`` is nonzero (``torch.all``).

    Shape:
        - input: ``(*)``, any dtype; ``dim``: an int, a tuple of ints or None (all dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; bool.

    Raises:
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.all``."""
    check_tensor("all", "input", input)
    return apply(All, input, dims=normalize_dims("all", dim, input._data.ndim), keepdim=bool(keepdim))


@ops.op(primitive=Any, differentiable=False, samples=_truth_samples)
def any(input, dim=None, keepdim=False):
    """True where some element over ``dim`` is nonzero (``torch.any``).

    Shape:
        - input: ``(*)``, any dtype; ``dim``: an int, a tuple of ints or None (all dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; bool.

    Raises:
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.any``."""
    check_tensor("any", "input", input)
    return apply(Any, input, dims=normalize_dims("any", dim, input._data.ndim), keepdim=bool(keepdim))


# -- scans ------------------------------------------------------------------------------------------

def _reverse_cumsum(g, dim):
    return g.sum(dim, keepdim=True) - g.cumsum(dim) + g


class Cumsum(Primitive):
    @staticmethod
    def forward(xp, x, dim):
        return x.copy() if dim is None else xp.cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx, g, dim):
        return g if dim is None else _reverse_cumsum(g, dim)


class Cumprod(Primitive):
    save_inputs = True
    save_output = True

    @staticmethod
    def forward(xp, x, dim):
        return x.copy() if dim is None else xp.cumprod(x, axis=dim)

    @staticmethod
    def backward(ctx, g, dim):
        if dim is None:
            return g
        return _reverse_cumsum(g * ctx.output, dim) / ctx.inputs[0]


def _scan(op, prim, input, dim, dtype):
    check_tensor(op, "input", input)
    dim = _one_dim(op, input, dim)
    if dtype is not None:
        input = input.to(dtype)
    elif not input._dtype.is_floating_point:
        input = input.to(dtypes.int64)
    return apply(prim, input, dim=dim if input._data.ndim else None)


@ops.op(primitive=Cumsum, inplace=True, samples=lambda make: [Sample(s.args[:2], name=s.name) for s in _dim_samples(make)])
def cumsum(input, dim, *, dtype=None):
    """Running sums along ``dim`` (``torch.cumsum``); integers accumulate as int64.

    Shape:
        - input: ``(*)``, any dtype; ``dim``: one int.
        - output: the shape of ``input``; integer and bool inputs give int64 (or ``dtype``).

    Raises:
        TypeError: ``dim`` is not an int, or ``input`` is not a Tensor.
        OutOfRangeError: ``dim`` is out of range for ``input``.

    PyTorch: ``torch.cumsum``."""
    return _scan("cumsum", Cumsum, input, dim, dtype)


@ops.op(primitive=Cumprod, inplace=True, samples=lambda make: [Sample(s.args[:2], name=s.name)
                                            for s in _dim_samples(make, away_from_zero=True)])
def cumprod(input, dim, *, dtype=None):
    """Running products along ``dim`` (``torch.cumprod``). The gradient divides by the input, so it is undefined
    where the input holds zeros.

    Shape:
        - input: ``(*)``, any dtype; ``dim``: one int.
        - output: the shape of ``input``; integer and bool inputs give int64 (or ``dtype``).

    Raises:
        TypeError: ``dim`` is not an int, or ``input`` is not a Tensor.
        OutOfRangeError: ``dim`` is out of range for ``input``.

    PyTorch: ``torch.cumprod``."""
    return _scan("cumprod", Cumprod, input, dim, dtype)


class CumExtremeIndex(Primitive):
    """Index of the running max (min) along ``dim``: the latest one at ties, as PyTorch."""

    differentiable = False

    @staticmethod
    def forward(xp, x, dim, largest):
        running = (xp.maximum if largest else xp.minimum).accumulate(x, axis=dim)
        shape = [1] * x.ndim
        shape[dim] = x.shape[dim]
        positions = xp.arange(x.shape[dim]).reshape(shape)
        return xp.maximum.accumulate(xp.where(x == running, positions, 0), axis=dim).astype(xp.int64)


def _cum_extreme(op, input, dim, largest, result_type):
    check_tensor(op, "input", input)
    dim = _one_dim(op, input, dim)
    if not input._data.ndim:
        return result_type(input.clone(), input.detach().to(dtypes.int64) * 0)
    indices = apply(CumExtremeIndex, input, dim=dim, largest=largest)
    return result_type(take_along(input, indices, dim), indices)


def _cum_extreme_samples(make):
    return [Sample(s.args[:2], name=s.name) for s in _dim_samples(make, empty=False)]


@ops.op(samples=_cum_extreme_samples)
def cummax(input, dim):
    """(running max, its index) along ``dim`` (``torch.cummax``).

    Shape:
        - input: ``(*)``, any dtype; ``dim``: one int.
        - output: ``(values, indices)``, each the shape of ``input``; the indices int64.

    Raises:
        TypeError: ``dim`` is not an int, or ``input`` is not a Tensor.
        OutOfRangeError: ``dim`` is out of range for ``input``.

    PyTorch: ``torch.cummax``."""
    return _cum_extreme("cummax", input, dim, True, return_types.cummax)


@ops.op(samples=_cum_extreme_samples)
def cummin(input, dim):
    """(running min, its index) along ``dim`` (``torch.cummin``).

    Shape:
        - input: ``(*)``, any dtype; ``dim``: one int.
        - output: ``(values, indices)``, each the shape of ``input``; the indices int64.

    Raises:
        TypeError: ``dim`` is not an int, or ``input`` is not a Tensor.
        OutOfRangeError: ``dim`` is out of range for ``input``.

    PyTorch: ``torch.cummin``."""
    return _cum_extreme("cummin", input, dim, False, return_types.cummin)
