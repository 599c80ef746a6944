"""The arithmetic the engine does on gradients itself: summing where paths meet, reducing broadcast
dimensions, expanding back. It works on backend arrays; when ``create_graph`` turns recording on and a
gradient requires grad, each step is recorded with one of the small ops below, so that higher-order
gradients flow through the engine's own work. No plugin is needed for any of it.

Each op follows the protocol :func:`ember.autograd.graph.record_node` expects (``name``,
``save_inputs``/``save_output``, ``backward``), as a :class:`ember.primitive.Primitive` does; they are
not Primitives because primitives run above this layer.
"""

from __future__ import annotations

import operator

from ..numpy_errors import run_quiet
from ..tensor import Tensor, wrap
from .grad_mode import STATE
from .graph import record_node

__all__ = ["add", "sum_to", "expand_to", "sum_to_shape"]


def sum_to_shape(data, shape: tuple):
    """``data`` (a backend array broadcast from ``shape``) summed back down to ``shape``.

    Raises ValueError when ``shape`` does not broadcast to ``data``'s shape.
    """
    lead = data.ndim - len(shape)
    if lead < 0:
        raise ValueError(f"cannot sum an array of shape {tuple(data.shape)} to the larger shape {tuple(shape)}")
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and data.shape[lead + i] != 1)
    if axes:
        data = data.sum(axis=axes, keepdims=True)
    if data.shape[lead:] != tuple(shape):
        raise ValueError(f"shape {tuple(shape)} does not broadcast to {tuple(data.shape)}")
    return data.reshape(shape) if lead else data


class _GradientSum:
    """``a + b`` for two gradients of one shape and dtype (PyTorch's ``AddBackward0``)."""

    name = "add"
    save_inputs = save_output = False

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class _SumToSize:
    """A broadcast gradient reduced to its input's shape (``Tensor.sum_to_size``)."""

    name = "sum_to_size"
    save_inputs = save_output = False

    @staticmethod
    def backward(ctx, grad, shape):
        return expand_to(grad, ctx.input_shapes[0])


class _ExpandTo:
    """A gradient broadcast to a larger shape (``Tensor.expand``): the backward of :class:`_SumToSize`."""

    name = "expand"
    save_inputs = save_output = False

    @staticmethod
    def backward(ctx, grad, shape):
        return sum_to(grad, ctx.input_shapes[0])


def _result(op, inputs: tuple, attrs: dict, data, device) -> Tensor:
    """``data`` as a tensor, recorded as ``op`` of ``inputs`` when the graph is being built."""
    out = wrap(data, device)
    if STATE.enabled and any(x._requires_grad for x in inputs):
        record_node(op, inputs, attrs, (out,))
    return out


def add(a: Tensor, b: Tensor) -> Tensor:
    """Two gradients for one tensor, summed; the result keeps ``a``'s dtype."""
    data = run_quiet(operator.add, a._data, b._data)  # inf + -inf gives NaN silently, as in PyTorch
    if data.dtype != a._data.dtype:
        data = data.astype(a._data.dtype)
    return _result(_GradientSum, (a, b), {}, data, a._device)


def sum_to(grad: Tensor, shape: tuple) -> Tensor:
    """``grad`` summed down to ``shape`` (ValueError when ``shape`` does not broadcast to it)."""
    if grad._data.shape == tuple(shape):
        return grad
    data = run_quiet(sum_to_shape, grad._data, shape)  # a reduction warns from numpy's own frames
    return _result(_SumToSize, (grad,), {"shape": tuple(shape)}, data, grad._device)


def expand_to(grad: Tensor, shape: tuple) -> Tensor:
    """``grad`` broadcast to ``shape``, as a new array (a gradient may later be added into in place)."""
    if grad._data.shape == tuple(shape):
        return grad
    xp = grad._device.xp
    data = xp.broadcast_to(grad._data, shape).copy()
    return _result(_ExpandTo, (grad,), {"shape": tuple(shape)}, data, grad._device)
