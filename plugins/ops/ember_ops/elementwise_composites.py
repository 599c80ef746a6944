"""Elementwise functions public programs call, as composites of ember ops (every derivative order
comes from the ops used): ``hypot``, ``logit``, ``xlogy`` and the finite difference ``diff``."""

from __future__ import annotations

import numpy as np

from ember import dtypes
from ember.ops import ArgumentError, ErrorInput, OpTable, OutOfRangeError, Sample, check_tensor, normalize_dims

from .elementwise_factories import binary_op

ops = OpTable()


@ops.op(namespaces=("ember", "Tensor"), samples=lambda make: [Sample((make(3, 4), make(3, 4))),
                                                          Sample((make(2, 3), make(3)), name="broadcast")])
def hypot(input, other):
    """sqrt(input**2 + other**2) elementwise (``torch.hypot``).

    Shape:
        - input, other: shapes that broadcast together; any dtype.
        - output: the broadcast shape; the promoted dtype; integer and bool inputs give the default float dtype.

    Raises:
        ShapeError: the shapes do not broadcast.
        TypeError: ``input`` or ``other`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.hypot``."""
    check_tensor("hypot", "input", input)
    check_tensor("hypot", "other", other)
    return (input * input + other * other).sqrt()


@ops.op(namespaces=("ember", "Tensor"), samples=lambda make: [Sample((make(3, 4).sigmoid(),)),
                                                          Sample((make(5).sigmoid(),), {"eps": 0.3}, name="eps")])
def logit(input, eps=None):
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when ``eps`` is given (``torch.logit``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype.
        - output: ``(*)``, the shape of ``input``; floating inputs keep their dtype, integer and bool ones give the
          default float dtype.

    Raises:
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.logit``."""
    check_tensor("logit", "input", input)
    p = input if eps is None else input.clamp(eps, 1 - eps)
    return (p / (1 - p)).log()


def _xlogy_forward(xp, x, y):
    dtype = x.dtype if isinstance(x, xp.ndarray) else y.dtype  # a Python-number operand takes the tensor's dtype
    with np.errstate(divide="ignore", invalid="ignore"):
        product = (x * xp.log(y)).astype(dtype, copy=False)
    return xp.where((x == 0) & ~xp.isnan(y), xp.zeros((), product.dtype), product)


def _xlogy_backward(ctx, g):
    x, y = ctx.inputs
    need_x, need_y = ctx.needs_input_grad
    # PyTorch's formulas: d/dx = xlogy(y != 0, y) (0 where y is 0), d/dy = x / y
    return (g * xlogy((y != 0).to(y.dtype), y) if need_x else None), (g * x / y if need_y else None)


def _xlogy_samples(make):
    yield Sample((make(3, 4), make(3, 4).abs() + 0.1), name="positive other")
    yield Sample((make(4) * make.index([0, 1, 0, 1]), make(4).abs() + 0.1), name="zeros in input")
    yield Sample((make(2, 3), make(3).abs() + 0.1), name="broadcast")


xlogy = binary_op("xlogy", _xlogy_forward, _xlogy_backward, float_result=True, table=ops, samples=_xlogy_samples,
                  doc="input * log(other), and 0 where input is 0 unless other is NaN (``torch.xlogy``).")


def _diff_samples(make):
    yield Sample((make(3, 5),), name="last dim")
    yield Sample((make(4, 3),), {"n": 2, "dim": 0}, name="second difference, dim 0")
    yield Sample((make(2, 3),), {"prepend": make(2, 1), "append": make(2, 2)}, name="prepend and append")


def _diff_errors(make):
    yield ErrorInput(Sample((make(3),), {"dim": 2}), OutOfRangeError, r"diff\(\): dimension out of range .*\[-1, 0\].*got 2")


@ops.op(namespaces=("ember", "Tensor"), samples=_diff_samples, errors=_diff_errors)
def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim``, after concatenating ``prepend`` and ``append`` there
    (``torch.diff``).

    Shape:
        - input: ``(*1, N, *2)`` with N = ``input.shape[dim]``, at least 1-D; any dtype.
        - prepend, append: ``input``'s shape but along ``dim``, joined to ``input`` first.
        - output: ``(*1, N - n, *2)`` (N counting prepend/append), the dtype of ``input``.

    Raises:
        ArgumentError: ``input`` is 0-d, or ``n`` is negative.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.diff``."""
    check_tensor("diff", "input", input)
    if input.dim() == 0:
        raise ArgumentError("diff(): expected at least a 1-dimensional tensor")
    if not isinstance(n, int) or n < 0:
        raise ArgumentError(f"diff(): order n must be a non-negative integer, got {n!r}")
    normalize_dims("diff", dim, input.dim())  # an out-of-range dim is an OutOfRangeError, as in PyTorch
    from ember import cat
    pieces = [t for t in (prepend, input, append) if t is not None]
    out = cat(pieces, dim) if len(pieces) > 1 else input
    for _ in range(n):
        size = out.shape[dim]
        if size == 0:
            break
        ahead, behind = out.narrow(dim, 1, size - 1), out.narrow(dim, 0, size - 1)
        out = ahead ^ behind if out.dtype is dtypes.bool else ahead - behind  # bool: logical xor, as PyTorch
    return out
