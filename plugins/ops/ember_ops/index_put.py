"""Writes at indexed places: ``x[idx] = v`` (``Tensor.__setitem__``) and ``index_put``.

Writes are recorded as out-of-place primitives committed with :func:`ember.ops.inplace`, so the written
tensor's history becomes the write node (inputs: old value and written value) and its version counter
is bumped.
"""

from __future__ import annotations

from ember.autograd.grad_mode import STATE
from ember.ops import (DTypeError, ErrorInput, OpTable, OutOfRangeError, Primitive, Sample, ShapeError, apply,
                       check_tensor, inplace, read_only_message, scalar_to)
from ember.tensor import Tensor, bump_version, wrap

from .shape import Index, _backend_index

ops = OpTable()


# -- writes -----------------------------------------------------------------------------------------

class IndexPut(Primitive):
    """``x`` with ``value`` written (or added, ``accumulate``) at ``index``: the graph of ``x[index] = value``."""

    @staticmethod
    def forward(xp, x, value, index, basic, accumulate):
        out = x.copy()
        if accumulate:
            xp.add.at(out, index, value)
        else:
            out[index] = value
        return out

    @staticmethod
    def backward(ctx, g, index, basic, accumulate):
        need_x, need_v = ctx.needs_input_grad
        gx = None
        if need_x:
            gx = g if accumulate else apply(IndexPut, g, 0.0, index=index, basic=basic, accumulate=False)
        gv = None
        if need_v:
            gv = apply(Index, g, index=index, basic=basic)
            vshape = ctx.input_shapes[1]
            if len(vshape) > gv._data.ndim:  # NumPy let size-one leading dims of value drop
                gv = gv.reshape((1,) * (len(vshape) - gv._data.ndim) + tuple(gv._data.shape))
        return gx, gv


def _value_for(op, target, value):
    if isinstance(value, Tensor):
        if value._device is not target._device:
            value = value.to(target._device)
        if value._dtype is not target._dtype:
            value = value.to(target._dtype)
        return value
    if isinstance(value, (int, float, bool)):
        return scalar_to(op, value, target._dtype)
    return wrap(target._device.xp.asarray(value, dtype=target._data.dtype), target._device)


def _put(op, x, key, basic, value, accumulate):
    try:
        return apply(IndexPut, x, value, index=key, basic=basic, accumulate=accumulate)
    except IndexError as exc:
        raise OutOfRangeError(f"{op}: {exc} (tensor of shape {tuple(x.shape)})") from None
    except ValueError as exc:
        try:  # PyTorch checks the indices before the value's shape: an out-of-range index is the error
            x._data[key]
        except IndexError as bad:
            raise OutOfRangeError(f"{op}: {bad} (tensor of shape {tuple(x.shape)})") from None
        vshape = tuple(value.shape) if isinstance(value, Tensor) else ()
        raise ShapeError(f"{op}: value of shape {vshape} cannot be written into the indexed part of a tensor of "
                         f"shape {tuple(x.shape)} ({exc})") from None


def _put_samples(make):
    yield Sample((make(4, 3), (make.index([0, 2]),), make(2, 3)), name="rows")
    yield Sample((make(4, 3), (make.index([0, 3]), make.index([1, 2])), make(2)), name="points")
    yield Sample((make(4, 3), (make.index([0, 2]),), make(3)), name="broadcast value")
    yield Sample((make(4, 3), (make.index([0, 0, 2]),), make(3, 3)), {"accumulate": True}, name="accumulate")
    yield Sample((make(2, 3), (make.index([[True, False, True], [False, True, False]]),), make()), name="mask")


@ops.op(primitive=IndexPut, inplace=True, samples=_put_samples)
def index_put(input, indices, values, accumulate=False):
    """A copy of ``input`` with ``values`` put (or added) at ``input[indices]`` (``torch.index_put``).

    Shape:
        - input: ``(*)``; indices: a tuple of index tensors (int64 or bool), as ``input[indices]``; values:
          broadcastable to the indexed part.
        - output: the shape and dtype of ``input``.

    Raises:
        OutOfRangeError: an index is out of range (or of an invalid kind).
        ShapeError: ``values`` does not broadcast to the indexed part.
        DTypeError: ``values`` and ``input`` differ in dtype.
        RuntimeError: a number does not fit the integer dtype of ``input``.
        TypeError: ``indices`` is not a tuple, or ``input`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.index_put``."""
    check_tensor("index_put", "input", input)
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): indices must be a tuple of tensors, got {type(indices).__name__}")
    key, basic = _backend_index("index_put", tuple(indices), input._device)
    if isinstance(values, Tensor) and values._dtype is not input._dtype:
        raise DTypeError(f"index_put(): requires the source and destination dtypes to match, got "
                         f"{input._dtype.name} for the destination and {values._dtype.name} for the source")
    return _put("index_put", input, key, basic, _value_for("index_put", input, values), bool(accumulate))


def setitem(self, index, value):
    """``self[index] = value``, recorded on the tape when grad is on (``Tensor.__setitem__``): ``self``'s history
    becomes an index-put node whose inputs are its old value and ``value``.

    Shape:
        - self: ``(*)``; index: as ``__getitem__`` takes; value: a number or a tensor broadcastable to
          ``self[index]``.
        - output: None; ``self`` is written in place.

    Raises:
        OutOfRangeError: an index is out of range (or of an invalid kind).
        ShapeError: ``value`` does not broadcast to the indexed part.
        RuntimeError: a number does not fit ``self``'s dtype, or ``self`` is a leaf that requires grad or a view
            that cannot be written.
        OverflowError: a Python int fits no integer dtype.
        TypeError: ``self`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.Tensor.__setitem__``."""
    check_tensor("setitem", "self", self)
    key, basic = _backend_index("setitem", index, self._device)
    value = _value_for("setitem", self, value)
    v_grad = isinstance(value, Tensor) and value._requires_grad
    if STATE.enabled and (self._requires_grad or v_grad):
        inplace(self, _put("setitem", self, key, basic, value, False), "setitem")
        return
    try:
        self._data[key] = value._data if isinstance(value, Tensor) else value
    except IndexError as exc:
        raise OutOfRangeError(f"setitem: {exc} (tensor of shape {tuple(self.shape)})") from None
    except ValueError as exc:
        if not getattr(self._data.flags, "writeable", True):
            raise RuntimeError(read_only_message("setitem", self)) from None
        vshape = tuple(value.shape) if isinstance(value, Tensor) else ()
        raise ShapeError(f"setitem: value of shape {vshape} cannot be written into the indexed part of a tensor of "
                         f"shape {tuple(self.shape)} ({exc})") from None
    bump_version(self)


def _setitem_samples(make):
    yield Sample((make(4, 3, requires_grad=False), 1, make(3, requires_grad=False)), name="row")
    yield Sample((make(4, 3, requires_grad=False), (slice(1, 3), 0), 2.0), name="slice, number")
    yield Sample((make(4, 3, requires_grad=False), make.index([0, 2]), make(1, 3, requires_grad=False)),
                 name="index tensor, broadcast")


def _setitem_errors(make):
    yield ErrorInput(Sample((make(3, 2, requires_grad=False), 5, 1.0)), IndexError,
                     r"setitem: .*tensor of shape \(3, 2\)")
    yield ErrorInput(Sample((make(3, 2, requires_grad=False), 0, make(3))), RuntimeError,
                     r"setitem: value of shape \(3,\) cannot be written .*shape \(3, 2\)")


ops.op(setitem, namespaces=(), operator="setitem", mixed_devices=True, torch="torch.Tensor.__setitem__",
       samples=_setitem_samples, errors=_setitem_errors)
