"""Boolean masks: masked_fill, masked_select, and the indices of non-zero elements (nonzero, argwhere).

A mask travels as a primitive attribute (a backend array), not as an input: it never gets a gradient.
"""

from __future__ import annotations

from ember.device import DeviceError
from ember.ops import DTypeError, ErrorInput, OpTable, Primitive, Sample, ShapeError, apply, check_tensor, scalar_to
from ember.tensor import Tensor
from ember.ops import wrap

ops = OpTable()


# -- masks ------------------------------------------------------------------------------------------

class MaskedFill(Primitive):
    @staticmethod
    def forward(xp, x, value, mask):
        return xp.where(mask, xp.asarray(value, dtype=x.dtype), x)

    @staticmethod
    def backward(ctx, g, mask):
        need_x, need_v = ctx.needs_input_grad
        gx = apply(MaskedFill, g, 0.0, mask=mask) if need_x else None
        gv = apply(MaskedFill, g, 0.0, mask=~mask).sum() if need_v else None
        return gx, gv


def _mask(op, mask, input):
    check_tensor(op, "mask", mask)
    if mask.dtype.name != "bool":
        raise DTypeError(f"{op}(): only boolean masks are supported, but got mask with dtype {mask.dtype}")
    if mask.device is not input.device:
        raise DeviceError(f"{op}(): mask is on {mask.device} but input is on {input.device}")
    return mask.array


def _masked_fill_errors(make):
    yield ErrorInput(Sample((make(2, 3), make.index([1, 0, 1]), 1.0)), TypeError,
                     r"masked_fill\(\): only boolean masks are supported.*int64")
    yield ErrorInput(Sample((make(2, 3), make.index([True, False]), 1.0)), RuntimeError,
                     r"masked_fill\(\): mask of shape \(2,\) cannot be broadcast to input")


@ops.op(primitive=MaskedFill, inplace=True, samples=lambda make: [
    Sample((make(2, 3), make.index([[True, False, True], [False, False, True]]), 0.5), name="number"),
    Sample((make(2, 3), make.index([True, False, True]), make()), name="broadcast mask, tensor value"),
    Sample((make(3, 4, noncontiguous=True), make.index([[True], [False], [True]]), -1.0), name="non-contiguous")],
        errors=_masked_fill_errors)
def masked_fill(input, mask, value):
    """``input`` with ``value`` where ``mask`` (broadcast to input) is True (``torch.masked_fill``).

    Shape:
        - input: ``(*)``; mask: bool, broadcastable to ``input``; value: a number or a 0-d tensor.
        - output: the shape and dtype of ``input``.

    Raises:
        ShapeError: ``mask`` does not broadcast to ``input``, or ``value`` is a tensor with dims.
        DTypeError: ``mask`` is not bool.
        RuntimeError: a number does not fit the integer dtype of ``input``.
        TypeError: ``input`` or ``mask`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.masked_fill``."""
    check_tensor("masked_fill", "input", input)
    m = _mask("masked_fill", mask, input)
    try:
        shape = input.device.xp.broadcast_shapes(m.shape, input.array.shape)
    except ValueError:
        shape = None
    if shape is not None and shape != input.array.shape:  # out of place, input broadcasts to the mask too
        input = input.expand(shape)
    if shape is None:
        raise ShapeError(f"masked_fill(): mask of shape {tuple(mask.shape)} cannot be broadcast to input of shape "
                         f"{tuple(input.shape)}")
    if isinstance(value, Tensor):
        if value.array.ndim:
            raise ShapeError(f"masked_fill(): only supports a 0-dimensional value tensor, but got tensor with "
                             f"{value.array.ndim} dimension(s)")
        if value.dtype is not input.dtype:
            value = value.to(input.dtype)
    else:
        value = scalar_to("masked_fill", value, input.dtype)
    return apply(MaskedFill, input, value, mask=m)


@ops.op(samples=lambda make: [
    Sample((make(2, 3), make.index([[True, False, True], [False, False, True]]))),
    Sample((make(2, 3), make.index([True, False, True])), name="broadcast mask"),
    Sample((make(3), make.index([[True, False, True], [False, True, True]])), name="broadcast input")])
def masked_select(input, mask):
    """The elements where ``mask`` is True, as a 1-D tensor; input and mask broadcast (``torch.masked_select``).

    Shape:
        - input: ``(*)``; mask: bool, a shape that broadcasts with ``input``.
        - output: ``(K,)``, K the number of True entries of the broadcast mask.

    Raises:
        ShapeError: the shapes do not broadcast.
        DTypeError: ``mask`` is not bool.
        TypeError: ``input`` or ``mask`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.masked_select``."""
    check_tensor("masked_select", "input", input)
    _mask("masked_select", mask, input)
    try:
        shape = input.device.xp.broadcast_shapes(mask.array.shape, input.array.shape)
    except ValueError:
        raise ShapeError(f"masked_select(): mask of shape {tuple(mask.shape)} and input of shape "
                         f"{tuple(input.shape)} cannot be broadcast together") from None
    x = input.expand(shape) if input.array.shape != shape else input
    m = mask.expand(shape) if mask.array.shape != shape else mask
    return x[m] if shape else x.reshape(1)[m.reshape(1)]


# -- nonzero ----------------------------------------------------------------------------------------

@ops.op(differentiable=False, samples=lambda make: [
    Sample((make.index([[0, 1, 0], [2, 0, 3]]),), name="int"), Sample((make.index([True, False, True]),), name="bool"),
    Sample((make.index([[0, 1], [2, 0]]),), {"as_tuple": True}, name="as_tuple"),
    Sample((make(2, 3, requires_grad=False),), name="float")])
def nonzero(input, *, as_tuple=False):
    """Indices of non-zero elements: an (n, ndim) int64 tensor, or one 1-D tensor per dim with ``as_tuple``
    (``torch.nonzero``).

    Shape:
        - input: ``(*)`` with n dims, any dtype.
        - output: ``(K, n)`` int64 indices of the K nonzero elements; with ``as_tuple``, n tensors ``(K,)``.

    Raises:
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nonzero``."""
    check_tensor("nonzero", "input", input)
    xp, dev = input.device.xp, input.device
    data = input.array
    if as_tuple:
        if data.ndim == 0:
            return (wrap(xp.nonzero(data.reshape(1))[0].astype(xp.int64), dev),)
        return tuple(wrap(i.astype(xp.int64), dev) for i in xp.nonzero(data))
    return wrap(xp.argwhere(data).astype(xp.int64), dev)


@ops.op(differentiable=False, samples=lambda make: [Sample((make.index([[0, 1, 0], [2, 0, 3]]),))])
def argwhere(input):
    """``nonzero(input)``: indices of non-zero elements as an (n, ndim) tensor (``torch.argwhere``).

    Shape:
        - input: ``(*)`` with n dims, any dtype.
        - output: ``(K, n)`` int64 indices of the K nonzero elements.

    Raises:
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.argwhere``."""
    return nonzero(input)
