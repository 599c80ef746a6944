"""Whole-tensor writes: fill (and ``Tensor.fill_``), ``zero_`` and ``Tensor.copy_``.

Each is an out-of-place primitive committed with :func:`ember.ops.inplace`, so the written tensor's
history becomes the write node and its version counter is bumped.
"""

from __future__ import annotations

from ember.ops import ErrorInput, OpTable, Primitive, Sample, ShapeError, apply, check_tensor, inplace, scalar_to
from ember.tensor import Tensor

ops = OpTable()


class Fill(Primitive):
    @staticmethod
    def forward(xp, x, value):
        return xp.full_like(x, value)

    @staticmethod
    def backward(ctx, g):
        need_x, need_v = ctx.needs_input_grad
        return (g * 0 if need_x else None), (g.sum() if need_v else None)


@ops.op(primitive=Fill, namespaces=("ember",), inplace=True, samples=lambda make: [
    Sample((make(2, 3), 1.5), name="number"), Sample((make(2, 3), make()), name="tensor value")])
def fill(input, value):
    """A tensor of ``input``'s shape and dtype filled with ``value`` (``torch.fill``); ``Tensor.fill_`` writes in
    place.

    Shape:
        - input, value: shapes that broadcast together; any dtype.
        - output: the broadcast shape; the promoted dtype of the inputs.

    Raises:
        ShapeError: ``value`` is a tensor with dims.
        RuntimeError: a number does not fit the integer dtype of ``input``.
        TypeError: ``input`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.fill``."""
    check_tensor("fill", "input", input)
    if isinstance(value, Tensor):
        if value.array.ndim:
            raise ShapeError(f"fill(): only supports a 0-dimension value tensor, but got tensor with "
                             f"{value.array.ndim} dimension(s)")
        value = value.to(input.dtype) if value.dtype is not input.dtype else value
    else:
        value = scalar_to("fill", value, input.dtype)
    return apply(Fill, input, value)


def fill_(self, value):
    """Fill ``self`` with ``value`` in place (``Tensor.fill_``).

    Shape:
        - self: ``(*)``, any dtype; value: a number or a 0-d tensor.
        - output: ``self``, filled.

    Raises:
        ShapeError: ``value`` is a tensor with dims.
        RuntimeError: ``value`` does not fit ``self``'s dtype, or ``self`` is a leaf that requires grad.
        TypeError: ``self`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.Tensor.fill_``."""
    check_tensor("fill_", "self", self)
    return inplace(self, fill(self, value), "fill_")


ops.op(fill_, primitive=Fill, namespaces=("Tensor",), torch="torch.Tensor.fill_", samples=lambda make: [
    Sample((make(2, 3, requires_grad=False), 1.5)), Sample((make(2, 3, requires_grad=False), make(requires_grad=False)))])


@ops.op(primitive=Fill, namespaces=("ember", "Tensor"), samples=lambda make: [Sample((make(2, 3, requires_grad=False),))])
def zero_(input):
    """Fill ``input`` with zeros in place (``Tensor.zero_``).

    Shape:
        - input: ``(*)``, any dtype.
        - output: ``input``, filled with zeros in place.

    Raises:
        RuntimeError: ``input`` is a leaf that requires grad.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.zero_``."""
    check_tensor("zero_", "input", input)
    return inplace(input, fill(input, 0), "zero_")


class Copy(Primitive):
    @staticmethod
    def forward(xp, x, src):
        return xp.broadcast_to(src, x.shape).astype(x.dtype, copy=True)

    @staticmethod
    def backward(ctx, g):
        return None, (g if ctx.needs_input_grad[1] else None)


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast, from any device) into ``self`` (``Tensor.copy_``); gradients flow to ``src``.

    Shape:
        - self: ``(*)``; src: a tensor broadcastable to ``self``, any dtype (cast) and device (transferred).
        - output: ``self``, overwritten.

    Raises:
        ShapeError: ``src`` does not broadcast to ``self``.
        RuntimeError: ``self`` is a leaf that requires grad.
        TypeError: ``self`` or ``src`` is not a Tensor.

    PyTorch: ``torch.Tensor.copy_``."""
    check_tensor("copy_", "self", self)
    check_tensor("copy_", "src", src)
    if src.device is not self.device:
        src = src.to(self.device)
    try:
        fits = self.device.xp.broadcast_shapes(src.array.shape, self.array.shape) == self.array.shape
    except ValueError:
        fits = False
    if not fits:  # src must broadcast to self's shape, not self to a larger one (a (3,) into a 0-d)
        raise ShapeError(f"copy_(): src of shape {tuple(src.shape)} cannot be broadcast to self of shape "
                         f"{tuple(self.shape)}")
    out = apply(Copy, self, src)
    if out.dtype is not self.dtype:
        out = out.to(self.dtype)
    return inplace(self, out, "copy_")


ops.op(copy_, primitive=Copy, namespaces=("Tensor",), torch="torch.Tensor.copy_", samples=lambda make: [
    Sample((make(2, 3, requires_grad=False), make(3, requires_grad=False)))], errors=lambda make: [
    ErrorInput(Sample((make(requires_grad=False), make(3, requires_grad=False))), ShapeError,
               r"copy_\(\): src of shape \(3,\) cannot be broadcast to self of shape \(\)")])
