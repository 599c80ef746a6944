"""Elementwise selection: where, clamp/clip, maximum/minimum, fmax/fmin, nan_to_num.

Gradients flow to the operand that was selected; at exact ties between maximum/minimum operands
they are split equally, as PyTorch does.
"""

from __future__ import annotations

from ember import dtypes
from ember.ops import (ArgumentError, DTypeError, ErrorInput, OpTable, Primitive, Sample, apply, check_tensor, promote,
                       scalar_to)
from ember.tensor import Tensor

from .elementwise_factories import _broadcast_error, binary_op
from .samples import binary_samples, unary_samples

ops = OpTable()


# -- where ------------------------------------------------------------------------------------------

class Where(Primitive):
    save_inputs = True

    @staticmethod
    def forward(xp, condition, a, b):
        return xp.where(condition, a, b)

    @staticmethod
    def backward(ctx, g):
        condition = ctx.inputs[0]
        _, need_a, need_b = ctx.needs_input_grad
        return None, (where(condition, g, 0.0) if need_a else None), (where(condition, 0.0, g) if need_b else None)


def where(condition, input=None, other=None):
    """input where condition is True, else other, broadcast (``torch.where``); ``where(condition)`` is
    ``condition.nonzero(as_tuple=True)``.

    Shape:
        - condition, input, other: shapes that broadcast together; any dtype.
        - output: the broadcast shape; the promoted dtype of the inputs.

    Raises:
        DTypeError: ``condition`` is not bool.
        ShapeError: the shapes do not broadcast.
        TypeError: ``condition`` is not a Tensor, or neither ``input`` nor ``other`` is a Tensor.
        RuntimeError: a number does not fit the result's integer dtype.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.where``."""
    check_tensor("where", "condition", condition)
    if input is None and other is None:
        from ember.tensor import tensor
        xp = condition.device.xp
        return tuple(tensor(i, dtype=dtypes.int64, device=condition.device) for i in xp.nonzero(condition.array))
    if condition.dtype is not dtypes.bool:
        raise DTypeError(f"where(): expected condition to be a bool tensor, got a tensor of dtype {condition.dtype}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        from ember.tensor import tensor
        input = tensor(input, device=condition.device)
    a, b = promote("where", input, other)
    dtype = a.dtype if isinstance(a, Tensor) else b.dtype
    # a Python number is converted to the result's dtype with PyTorch's range check (uint8: 300 raises)
    a, b = (v if isinstance(v, Tensor) else scalar_to("where", raw, dtype) for v, raw in ((a, input), (b, other)))
    try:
        return apply(Where, condition, a, b)
    except ValueError:
        raise _broadcast_error("where", a, b) from None


def _where_samples(make):
    yield Sample((make(2, 3) > 0, make(2, 3), make(2, 3)), name="same shape")
    yield Sample((make(2, 1) > 0, make(1, 3), make(2, 3)), name="broadcast")
    yield Sample((make(3) > 0, make(2, 3), 0.5), name="python other")
    yield Sample((make(3) > 0, -1.0, make(3)), name="python input")
    yield Sample((make(0, 3) > 0, make(0, 3), make(3)), name="empty")


def _where_method(input, condition, other):
    """``Tensor.where(condition, other)``: ``where(condition, self, other)``.

    Shape:
        - input, other: tensors (or ``other`` a number); condition: bool; shapes that broadcast together.
        - output: the broadcast shape, the promoted dtype of ``input`` and ``other``.

    Raises:
        DTypeError: ``condition`` is not bool.
        ShapeError: the shapes do not broadcast.
        TypeError: ``input`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.Tensor.where``."""
    return where(condition, input, other)


def _where_errors(make):
    yield ErrorInput(Sample((make(2, dtype=dtypes.float32), make(2), make(2))), TypeError, r"where\(\).*bool.*float32")


ops.op(where, primitive=Where, namespaces=("ember",), samples=_where_samples, errors=_where_errors)
ops.op(_where_method, primitive=Where, name="where_method", namespaces=("Tensor",), method="where", torch="torch.Tensor.where",
       samples=lambda make: [Sample((make(2, 3), make(2, 3) > 0, make(3)))])


# -- maximum and minimum ----------------------------------------------------------------------------

def _tie_split(pick):
    def backward(ctx, g):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        winner = pick(a, b)
        share = winner + (a == b) * 0.5
        return (g * share if need_a else None), (g * (1 - share) if need_b else None)
    return backward


def _tensor_pairs(make):
    return binary_samples(make, scalars=False)


def _number_operand_errors(op):
    """PyTorch's maximum/minimum/fmax/fmin take two tensors: a Python number is a TypeError."""
    def errors(make):
        yield ErrorInput(Sample((make(3), 2)), TypeError, rf"{op}\(\): argument 'other' must be Tensor, not int")
        yield ErrorInput(Sample((2.0, make(3))), TypeError, rf"{op}\(\): argument 'input' must be Tensor, not float")
    return errors


maximum = binary_op("maximum", lambda xp, a, b: xp.maximum(a, b), _tie_split(lambda a, b: a > b), table=ops, samples=_tensor_pairs,
                    inplace=None, tensors_only=True, errors=_number_operand_errors("maximum"), doc="The larger of the two, NaN if either is (``torch.maximum``).")
minimum = binary_op("minimum", lambda xp, a, b: xp.minimum(a, b), _tie_split(lambda a, b: a < b), table=ops, samples=_tensor_pairs,
                    inplace=None, tensors_only=True, errors=_number_operand_errors("minimum"), doc="The smaller of the two, NaN if either is (``torch.minimum``).")
fmax = binary_op("fmax", lambda xp, a, b: xp.fmax(a, b), _tie_split(lambda a, b: (a > b) | b.isnan()), table=ops, samples=_tensor_pairs,
                 inplace=None, tensors_only=True, errors=_number_operand_errors("fmax"), doc="The larger of the two, ignoring a NaN operand (``torch.fmax``).")
fmin = binary_op("fmin", lambda xp, a, b: xp.fmin(a, b), _tie_split(lambda a, b: (a < b) | b.isnan()), table=ops, samples=_tensor_pairs,
                 inplace=None, tensors_only=True, errors=_number_operand_errors("fmin"), doc="The smaller of the two, ignoring a NaN operand (``torch.fmin``).")


# -- clamp ------------------------------------------------------------------------------------------

def _clamp_forward(xp, x, low, high):
    if low is not None:
        x = xp.maximum(x, low)
    if high is not None:
        x = xp.minimum(x, high)
    return x


def _clamp_scalar_forward(xp, x, low, high):
    # bounds in x's own scalar type: numpy takes ml_dtypes' bfloat16 with a Python float to float32
    as_x = x.dtype.type
    return _clamp_forward(xp, x, None if low is None else as_x(low), None if high is None else as_x(high))


class Clamp(Primitive):
    grad_fn = "ClampBackward1"  # PyTorch's number-bounds overload
    save_inputs = True
    forward = staticmethod(_clamp_scalar_forward)

    @staticmethod
    def backward(ctx, g, low, high):
        x = ctx.inputs[0]
        if low is not None and high is not None:
            return g * ((x >= low) & (x <= high))
        return g * (x >= low) if low is not None else g * (x <= high)


class ClampTensor(Clamp):
    """clamp with tensor bounds (one may be a number or None); one node, so ``clamp_`` stays safe."""

    name, grad_fn = "clamp.Tensor", "ClampBackward0"

    save_inputs = True
    forward = staticmethod(_clamp_forward)

    @staticmethod
    def backward(ctx, g):
        x, low, high = ctx.inputs
        need_x, need_low, need_high = ctx.needs_input_grad
        inside = (x >= low) if low is not None else None
        if high is not None:
            inside = (x <= high) if inside is None else inside & (x <= high)
        gx = where(inside, g, 0.0) if need_x else None
        g_low = g_high = None
        if need_low:
            below = x < low
            g_low = where(below & (low < high) if high is not None else below, g, 0.0)
        if need_high:
            above = x > high
            g_high = where(above | (high < low) if low is not None else above, g, 0.0)
        return gx, g_low, g_high


def clamp(input, min=None, max=None):
    """input limited to [min, max] (``torch.clamp``); bounds are numbers or tensors, one may be None. Where min >
    max every element becomes max, as in PyTorch.

    Shape:
        - input, min, max: shapes that broadcast together; any dtype.
        - output: the broadcast shape; the promoted dtype; integer and bool inputs give the default float dtype.

    Raises:
        ArgumentError: both ``min`` and ``max`` are None.
        DTypeError: a bool input with bounds PyTorch refuses for it, or a bound is neither a number nor a Tensor.
        RuntimeError: a number does not fit the integer dtype of ``input``.
        ShapeError: the shapes do not broadcast.
        TypeError: ``input`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.clamp``."""
    check_tensor("clamp", "input", input)
    if min is None and max is None:
        raise ArgumentError("clamp(): at least one of 'min' or 'max' must not be None")
    if not isinstance(min, Tensor) and not isinstance(max, Tensor):
        for name, bound in (("min", min), ("max", max)):
            if bound is not None and not isinstance(bound, (int, float)):
                raise DTypeError(f"clamp(): argument '{name}' must be a number or a Tensor, not {type(bound).__name__}")
        dtype = dtypes.result_type(input, *(b for b in (min, max) if b is not None))
        if dtype is dtypes.bool:  # PyTorch has no bool kernel for number bounds ("clamp_min_scalar_cpu")
            raise DTypeError("clamp(): not implemented for a bool input with bool bounds")
        if dtype is not input.dtype:
            input = input.to(dtype)
        low, high = (None if b is None else scalar_to("clamp", b, dtype) for b in (min, max))
        return apply(Clamp, input, low=low, high=high)
    tensors = [t for t in (input, min, max) if t is not None]
    dtype = dtypes.result_type(*tensors)
    if dtype is dtypes.bool and min is not None and max is not None:
        # one bool tensor bound is a maximum/minimum in PyTorch; both need "clamp_cpu", which has no bool kernel
        raise DTypeError("clamp(): not implemented for bool input and bounds with both min and max")
    low, high = (t.to(dtype) if isinstance(t, Tensor) and t.dtype is not dtype else t for t in (min, max))
    if input.dtype is not dtype:
        input = input.to(dtype)
    try:
        return apply(ClampTensor, input, low, high)
    except ValueError:
        raise _broadcast_error("clamp", input, low if isinstance(low, Tensor) else high) from None


def clamp_min(input, min):
    """input limited from below (``torch.clamp_min``).

    Shape:
        - input: ``(*)``, any dtype; min: a number or a tensor whose shape broadcasts with ``input``.
        - output: the broadcast shape, the promoted dtype.

    Raises:
        ShapeError: the shapes do not broadcast.
        TypeError: ``input`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.clamp_min``."""
    return clamp(input, min=min)


def clamp_max(input, max):
    """input limited from above (``torch.clamp_max``).

    Shape:
        - input: ``(*)``, any dtype; max: a number or a tensor whose shape broadcasts with ``input``.
        - output: the broadcast shape, the promoted dtype.

    Raises:
        ShapeError: the shapes do not broadcast.
        TypeError: ``input`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.clamp_max``."""
    return clamp(input, max=max)


def _clamp_samples(make):
    yield from (Sample(s.args, {"min": -0.5, "max": 0.7}, name=s.name) for s in unary_samples(make))
    yield Sample((make(2, 3),), {"min": -0.5}, name="min only")
    yield Sample((make(2, 3),), {"max": 0.5}, name="max only")
    yield Sample((make(2, 3), make(3, low=-1, high=0)), {"max": make(2, 1, low=0, high=1)}, name="tensor bounds")
    yield Sample((make(2, 3),), {"min": 1.0, "max": -1.0}, name="min > max")


def _clamp_errors(make):
    yield ErrorInput(Sample((make(2),)), ValueError, r"clamp\(\).*'min' or 'max'")


ops.op(clamp, primitive=Clamp, inplace=True, aliases=("clip",), samples=_clamp_samples, errors=_clamp_errors)
ops.op(clamp_min, primitive=Clamp, inplace=True, samples=lambda make: [Sample((make(2, 3), -0.3)), Sample((make(2, 3), make(3)))])
ops.op(clamp_max, primitive=Clamp, inplace=True, samples=lambda make: [Sample((make(2, 3), 0.3)), Sample((make(2, 3), make(3)))])


# -- nan_to_num -------------------------------------------------------------------------------------

class NanToNum(Primitive):
    save_inputs = True

    @staticmethod
    def forward(xp, x, nan, posinf, neginf):
        return xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, g, nan, posinf, neginf):
        return g * ctx.inputs[0].isfinite()


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (default: 0 and the dtype's largest and
    smallest finite values) (``torch.nan_to_num``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nan_to_num``."""
    check_tensor("nan_to_num", "input", input)
    if not input.dtype.is_floating_point:
        return input.clone()
    return apply(NanToNum, input, nan=nan, posinf=posinf, neginf=neginf)


def _nan_samples(make):
    yield from unary_samples(make)
    x = make(6)
    x.requires_grad_(False)
    x.array[:3] = (float("nan"), float("inf"), float("-inf"))
    yield Sample((x.requires_grad_(True),), name="nan and infinities")
    yield Sample((x,), {"nan": 1.5, "posinf": 9.0, "neginf": -9.0}, name="replacements")


ops.op(nan_to_num, primitive=NanToNum, inplace=True, samples=_nan_samples)
