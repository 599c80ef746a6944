"""Vector comparisons along a dim: ``normalize``, ``cosine_similarity``, ``pairwise_distance``, and the
bilinear form ``x1^T W x2`` (``bilinear``). Composites of ember ops, so every derivative order works."""

from __future__ import annotations

import math

import numpy as np

from ember.ops import DimensionError, OpTable, Primitive, Sample, ShapeError, apply, check_tensor, float_input

ops = OpTable()


class ClampMin(Primitive):
    """max(x, floor) with gradient only where x is above the floor (``Tensor.clamp_min``)."""

    save_inputs = True

    @staticmethod
    def forward(xp, x, floor):
        return xp.maximum(x, x.dtype.type(floor))

    @staticmethod
    def backward(ctx, g, floor):
        return g * (ctx.inputs[0] > floor)


def vector_norm(x, p, dim, keepdim):
    """The ``p``-norm of ``x`` along ``dim`` (p = 2 as sqrt of a sum of squares, inf as max of |x|)."""
    if p == 2:
        return (x * x).sum(dim, keepdim=keepdim).sqrt()
    if p == 1:
        return x.abs().sum(dim, keepdim=keepdim)
    if math.isinf(p):
        raise NotImplementedError("ember's normalize/pairwise_distance support finite p only")
    return (x.abs() ** p).sum(dim, keepdim=keepdim) ** (1.0 / p)


def _float(op, name, x):
    float_input(op, x, name)


@ops.op(namespaces=("functional",),
        samples=lambda make: [Sample((make(3, 4),)), Sample((make(2, 3, 2),), {"p": 1.0, "dim": -1}),
                              Sample((make(4, 3, away_from_zero=True),), {"p": 3.0, "dim": 0, "eps": 1e-3})])
def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along ``dim`` (``torch.nn.functional.normalize``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        DTypeError: ``input`` is not floating point.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` (or ``out``) is not a Tensor, or ``out=`` is given.

    PyTorch: ``torch.nn.functional.normalize``."""
    _float("normalize", "input", input)
    if out is not None:
        raise TypeError("normalize(): out= is not supported by ember")
    norm = vector_norm(input, p, dim, True)
    return input / apply(ClampMin, norm, floor=eps)


def _broadcast(op, x1, x2):
    try:
        shape = tuple(np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape)))
    except ValueError:
        raise ShapeError(f"{op}(): x1 of shape {tuple(x1.shape)} and x2 of shape {tuple(x2.shape)} cannot be "
                         f"broadcast together") from None
    return x1.expand(shape), x2.expand(shape)


@ops.op(namespaces=("ember", "functional"),
        samples=lambda make: [Sample((make(3, 4), make(3, 4))), Sample((make(2, 3), make(3)), {"dim": -1}),
                              Sample((make(4, 2), make(4, 1)), {"dim": 0, "eps": 1e-6})])
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) along ``dim``, after broadcasting
    (``torch.nn.functional.cosine_similarity``).

    Shape:
        - x1, x2: ``(*1, D, *2)`` with D at ``dim``, shapes that broadcast, floating point.
        - output: the broadcast shape without ``dim``, the inputs' dtype.

    Raises:
        ShapeError: ``x1`` and ``x2`` do not broadcast.
        OutOfRangeError: ``dim`` is out of range.
        DTypeError: an input is not floating point.
        TypeError: ``x1`` or ``x2`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.cosine_similarity``."""
    _float("cosine_similarity", "x1", x1)
    _float("cosine_similarity", "x2", x2)
    x1, x2 = _broadcast("cosine_similarity", x1, x2)
    n1 = apply(ClampMin, vector_norm(x1, 2, dim, True), floor=eps)
    n2 = apply(ClampMin, vector_norm(x2, 2, dim, True), floor=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


@ops.op(namespaces=("ember", "functional"),
        samples=lambda make: [Sample((make(3, 4), make(3, 4))), Sample((make(2, 3), make(3)), {"keepdim": True}),
                              Sample((make(3, 2), make(3, 2)), {"p": 1.0, "eps": 1e-3})])
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dim (``torch.nn.functional.pairwise_distance``); integer inputs subtract
    in their dtype and the float ``eps`` promotes to the default float, as in PyTorch.

    Shape:
        - x1, x2: ``(N, D)`` or ``(D,)``, shapes that broadcast; any dtype but bool.
        - output: ``(N,)`` or ``()``; with ``keepdim``, ``(N, 1)`` or ``(1,)``. Floating point.

    Raises:
        ShapeError: ``x1`` and ``x2`` do not broadcast.
        DTypeError: the inputs are bool tensors.
        TypeError: ``x1`` or ``x2`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.pairwise_distance``."""
    check_tensor("pairwise_distance", "x1", x1)
    check_tensor("pairwise_distance", "x2", x2)
    x1, x2 = _broadcast("pairwise_distance", x1, x2)
    if x1.dim() == 0:  # PyTorch's norm over dim -1 of a 0-d tensor: the tensor itself
        return vector_norm(x1 - x2 + eps, p, None, keepdim)
    return vector_norm(x1 - x2 + eps, p, -1, keepdim)


def _bilinear_samples(make):
    yield Sample((make(3, 2), make(3, 4), make(5, 2, 4), make(5)), name="bias")
    yield Sample((make(2, 3, 2), make(2, 3, 3), make(2, 2, 3)), name="3-D, no bias")


@ops.op(namespaces=("ember", "functional"), samples=_bilinear_samples)
def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = input1[..., i] W[o, i, j] input2[..., j] + b[o] (``torch.nn.functional.bilinear``).

    Shape:
        - input1: ``(*, in1)``; input2: ``(*, in2)``, the same leading dims, floating point.
        - weight: ``(out, in1, in2)``; bias: ``(out,)`` or None.
        - output: ``(*, out)``, the inputs' dtype.

    Raises:
        DimensionError: ``weight`` is not 3-D, or an input is 0-d.
        ShapeError: the inputs' last dims do not match ``weight``, or their leading dims differ.
        DTypeError: an input is not floating point.
        TypeError: an argument is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.bilinear``."""
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        _float("bilinear", name, t)
    if weight.dim() != 3:
        raise DimensionError(f"bilinear(): weight must be 3-D (out, in1, in2), got shape {tuple(weight.shape)}")
    o, i, j = weight.shape
    if not input1.dim() or not input2.dim():
        raise DimensionError(f"bilinear(): expected inputs with at least 1 dim (*, features), got shapes "
                             f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    if input1.shape[-1] != i or input2.shape[-1] != j or tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise ShapeError(f"bilinear(): expected input1 (*, {i}) and input2 (*, {j}) with equal leading dims for "
                         f"weight of shape {tuple(weight.shape)}, got {tuple(input1.shape)} and {tuple(input2.shape)}")
    lead = tuple(input1.shape[:-1])
    t = (input1.reshape(-1, i) @ weight.permute(1, 0, 2).reshape(i, o * j)).reshape(-1, o, j)
    y = (t * input2.reshape(-1, 1, j)).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (o,))
