"""Elementwise arithmetic with PyTorch's type promotion: add/sub (with ``alpha``), mul, div (with
``rounding_mode``), floor_divide, remainder, fmod, pow, neg, reciprocal, square, lerp, addcmul, addcdiv.
"""

from __future__ import annotations

import math

import numpy as np

from ember import dtypes
from ember.ops import DTypeError, ErrorInput, OpTable, Primitive, Sample, apply, check_tensor, float_input, scalar_to
from ember.tensor import Tensor

from .elementwise_factories import bad_option, binary, binary_op, primitive, unary_op, zero_grads
from .samples import binary_samples, unary_samples

ops = OpTable()


# -- add and sub (with alpha) -----------------------------------------------------------------------

Add = primitive("add", lambda xp, a, b: a + b, lambda ctx, g: (g, g))
Sub = primitive("sub", lambda xp, a, b: a - b, lambda ctx, g: (g, -g))


def _alpha_samples(make):
    yield from binary_samples(make)
    yield Sample((make(2, 3), make(3)), {"alpha": 2.5}, name="alpha")


def _check_alpha(op, input, alpha):
    if isinstance(input, Tensor) and not input.dtype.is_floating_point:
        if isinstance(alpha, float):
            raise DTypeError(f"{op}(): for integral input tensors, argument alpha must not be a floating point "
                             f"number (got {alpha!r})")
        scalar_to(op, alpha, input.dtype)


def add(input, other, *, alpha=1):
    """input + alpha * other, broadcast (``torch.add``).

    Shape:
        - input, other: shapes that broadcast together; any dtype.
        - output: the broadcast shape; the promoted dtype of the inputs.

    Raises:
        DTypeError: ``alpha`` is a float while the inputs are integral.
        RuntimeError: a scalar argument does not fit the integer dtype it is computed in.
        ShapeError: the shapes do not broadcast.
        TypeError: neither operand is a Tensor, or one is neither a Tensor nor a number.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.add``."""
    if alpha != 1:
        _check_alpha("add", input, alpha)
        other = other * alpha
    return binary(Add, input, other)


def sub(input, other, *, alpha=1):
    """input - alpha * other, broadcast (``torch.sub``); bool tensors cannot be subtracted.

    Shape:
        - input, other: shapes that broadcast together; any dtype but bool.
        - output: the broadcast shape; the promoted dtype of the inputs.

    Raises:
        DTypeError: both operands are bool tensors, or ``alpha`` is a float while the inputs are integral.
        RuntimeError: a scalar argument does not fit the integer dtype it is computed in.
        ShapeError: the shapes do not broadcast.
        TypeError: neither operand is a Tensor, or one is neither a Tensor nor a number.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.sub``."""
    if alpha != 1:
        _check_alpha("sub", input, alpha)
        other = other * alpha
    if isinstance(input, Tensor) and input.dtype is dtypes.bool and isinstance(other, Tensor) and \
            other.dtype is dtypes.bool:
        raise DTypeError("sub(): subtraction, the `-` operator, with two bool tensors is not supported; use "
                         "the `^` or logical_xor() operator instead")
    return binary(Sub, input, other)


def rsub(input, other, *, alpha=1):
    """other - alpha * input (``torch.rsub``).

    Shape:
        - input, other: shapes that broadcast together; any dtype but bool.
        - output: the broadcast shape; the promoted dtype of the inputs.

    Raises:
        DeviceError: tensor arguments are on different devices.
        ShapeError: the shapes do not broadcast.
        TypeError: neither operand is a Tensor, or one is neither a Tensor nor a number.

    PyTorch: ``torch.rsub``."""
    return sub(other, input, alpha=alpha)


# ``a + b`` on two tensors of one dtype is ``apply(Add, a, b)``: the operator runs it directly (no promotion,
# no alpha); ``a - b`` likewise except for bool tensors, which ``sub`` refuses.
ops.op(add, primitive=Add, operator="add", operator_kinds="biuf", inplace=True, samples=_alpha_samples)
ops.op(sub, primitive=Sub, operator="sub", operator_kinds="iuf", inplace=True, aliases=("subtract",),
       samples=_alpha_samples)
ops.op(rsub, primitive=Sub, namespaces=("ember",), samples=_alpha_samples)


# -- mul and div ------------------------------------------------------------------------------------

def _mul_backward(ctx, g):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    return (g * b if need_a else None), (g * a if need_b else None)


def _mul_errors(make):
    yield ErrorInput(Sample((make(2, 3), make(4))), RuntimeError, r"mul\(\).*\(2, 3\).*\(4,\)")


mul = binary_op("mul", lambda xp, a, b: a * b, _mul_backward, operator="mul", operator_kinds="biuf", table=ops, aliases=("multiply",),
                errors=_mul_errors, doc="a * b, broadcast (``torch.mul``).")
Mul = ops[-1].primitive  # named here, as Add and Div are, so that kernel plugins and name manifests find it


def _div_backward(ctx, g):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    ga = g / b if need_a else None
    gb = -g * a / (b * b) if need_b else None
    return ga, gb


class IntegerDivisionByZero(ZeroDivisionError, RuntimeError):
    """Integer division (``//``, ``%``, ``fmod``, rounded ``div``) by zero: PyTorch raises a RuntimeError
    ("ZeroDivisionError") where numpy returns 0."""


def _no_integer_zero(name, forward):
    """``forward`` of an integer-dividing op, raising on a zero divisor where the operands are integers."""
    def checked(xp, a, b):
        if (a.dtype if hasattr(a, "dtype") else b.dtype).kind == "b":
            raise DTypeError(f"{name}(): not implemented for bool tensors")
        if (a.dtype if hasattr(a, "dtype") else b.dtype).kind in "iub" and getattr(a, "size", 1) and \
                getattr(b, "size", 1):  # an empty result divides nothing
            if (b == 0).any() if hasattr(b, "dtype") else b == 0:
                raise IntegerDivisionByZero(f"{name}(): integer division by zero")
        return forward(xp, a, b)
    return checked


INTEGER_DIVISION_RAISES = ("\n\nRaises:\n    DTypeError: an operand is a bool tensor.\n    IntegerDivisionByZero: "
                           "integer operands and a zero divisor (a ZeroDivisionError and a RuntimeError).")


def _trunc_divide(xp, a, b):
    if (a.dtype if hasattr(a, "dtype") else b.dtype).kind == "f":
        return xp.trunc(a / b)
    q = xp.floor_divide(a, b)
    return q + ((q * b != a) & ((a < 0) != (b < 0)))


Div = primitive("div", lambda xp, a, b: a / b, _div_backward, save_inputs=True)
DivTrunc = primitive("div_trunc", _no_integer_zero("div", _trunc_divide), zero_grads)
DivFloor = primitive("div_floor", _no_integer_zero("div", lambda xp, a, b: xp.floor_divide(a, b)), zero_grads)
_ROUNDING = {"trunc": DivTrunc, "floor": DivFloor}


def div(input, other, *, rounding_mode=None):
    """input / other (``torch.div``): true division (integers give the default float) or, with ``rounding_mode``
    'trunc' / 'floor', the rounded quotient in the promoted dtype (zero gradient).

    Shape:
        - input, other: shapes that broadcast together; any dtype.
        - output: the broadcast shape; the promoted dtype; integer and bool inputs give the default float dtype.

    Raises:
        ArgumentError: ``rounding_mode`` is not None, 'trunc' or 'floor'.
        IntegerDivisionByZero: rounding integer operands with a zero divisor (a ZeroDivisionError and a
            RuntimeError).
        ShapeError: the shapes do not broadcast.
        TypeError: neither operand is a Tensor, or one is neither a Tensor nor a number.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.div``."""
    if rounding_mode is None:
        return binary(Div, input, other, True)
    prim = _ROUNDING.get(rounding_mode)
    if prim is None:
        raise bad_option("div", "rounding_mode", rounding_mode, "one of None, 'trunc' or 'floor'")
    return binary(prim, input, other)


def _div_samples(make):
    yield from binary_samples(make)
    for mode in ("trunc", "floor"):
        yield Sample((make(2, 3, away_from_zero=True), make(3, away_from_zero=True)), {"rounding_mode": mode},
                     name=mode)
    yield Sample((make(2, 3), make(3)), {"rounding_mode": None}, name="rounding_mode=None")


def _true_divide(input, other):
    """input / other as true division (``torch.true_divide``).

    Shape:
        - input, other: shapes that broadcast together; any dtype.
        - output: the broadcast shape; the promoted dtype; integer and bool inputs give the default float dtype.

    Raises:
        ShapeError: the shapes do not broadcast.
        TypeError: neither operand is a Tensor, or one is neither a Tensor nor a number.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.true_divide``."""
    return binary(Div, input, other, True)


def _div_errors(make):
    yield ErrorInput(Sample((make(3), make(3)), {"rounding_mode": "round"}), RuntimeError,
                     r"div\(\).*rounding_mode.*'round'")


ops.op(div, primitive=Div, operator="truediv", operator_kinds="f", inplace=True, aliases=("divide",), samples=_div_samples, errors=_div_errors)
ops.op(_true_divide, name="true_divide", primitive=Div, inplace=True, samples=binary_samples)

floor_divide = binary_op(
    "floor_divide", _no_integer_zero("floor_divide", lambda xp, a, b: xp.floor_divide(a, b)), None,
    save_inputs=False, operator="floordiv", differentiable=False, table=ops,
    samples=lambda make: binary_samples(make, away_from_zero=True),
    doc="The quotient rounded down, in the promoted dtype (``torch.floor_divide``, ``//``; no gradient)."
        + INTEGER_DIVISION_RAISES)


def _remainder_backward(ctx, g):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    return (g if need_a else None), (-g * div(a, b, rounding_mode="floor") if need_b else None)


def _fmod_backward(ctx, g):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    return (g if need_a else None), (-g * div(a, b, rounding_mode="trunc") if need_b else None)


binary_op("remainder", _no_integer_zero("remainder", lambda xp, a, b: xp.remainder(a, b)), _remainder_backward,
          operator="mod", table=ops, samples=lambda make: binary_samples(make, away_from_zero=True),
          doc="a - b * floor(a / b): the remainder with the divisor's sign (``torch.remainder``, ``%``)."
          + INTEGER_DIVISION_RAISES)
binary_op("fmod", _no_integer_zero("fmod", lambda xp, a, b: xp.fmod(a, b)), _fmod_backward, table=ops,
          samples=lambda make: binary_samples(make, away_from_zero=True),
          doc="a - b * trunc(a / b): the remainder with the dividend's sign (``torch.fmod``)."
          + INTEGER_DIVISION_RAISES)


# -- pow --------------------------------------------------------------------------------------------

def _pow_backward(ctx, g):
    from .selection import where
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    ga = gb = None
    if need_a:
        if isinstance(b, Tensor):
            ga = where(b == 0, 0.0, g * b * a ** (b - 1))
        else:
            ga = g * 0 if b == 0 else g * b * a ** (b - 1)
    if need_b:
        out = a ** b
        if isinstance(a, Tensor):
            gb = where((a == 0) & (b >= 0), 0.0, g * out * a.log())
        else:
            gb = g * out * (math.log(a) if a > 0 else float("nan")) if a != 0 else g * 0
    return ga, gb


def _pow_samples(make):
    yield from binary_samples(make, positive=True)
    yield Sample((make(2, 3), 2), name="square")
    yield Sample((make(3), 3), name="integer exponent, negative base")
    yield Sample((make(2, 3), 5.0), name="integral float exponent")
    yield Sample((make(2, 3, away_from_zero=True), -3), name="negative integer exponent")
    yield Sample((2.0, make(2, 3)), name="python base")


def _pow_errors(make):
    for dtype in (dtypes.int64, dtypes.uint8):  # uint8: before promotion could wrap -2 into 254
        yield ErrorInput(Sample((make(3, dtype=dtype), -2)), RuntimeError, r"integers to negative integer powers")


class NegativeIntegerPower(ArithmeticError, RuntimeError):
    """An integer tensor raised to a negative Python int (PyTorch raises RuntimeError)."""


def _integral(value):
    """``value`` as an int when it is a Python/numpy number with an integral value, else None."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    return None


def _integer_power(xp, a, n):
    """Floating ``a ** n`` for an integer ``n`` by repeated squaring.

    numpy's ``power`` with a negative base is ~300x slower than a multiply (float32 and float64 alike),
    so no integer exponent goes there. ``a * a`` and ``a * a * a`` are what PyTorch's CPU kernel computes
    for 2 and 3; other exponents are multiplied in float64 and rounded once (float64 inputs stay float64),
    close to the correctly rounded ``pow`` PyTorch calls for them."""
    if n in (2, 3) and a.dtype.itemsize >= 4:
        return a * a if n == 2 else a * a * a
    wide = a if a.dtype == xp.float64 else a.astype(xp.float64)
    result, base, k = None, wide, abs(n)
    while k:
        if k & 1:
            result = base if result is None else result * base
        k >>= 1
        if k:
            base = base * base
    if result is None:  # n == 0: one everywhere, NaN included, as in PyTorch
        result = xp.ones_like(wide)
    elif result is wide:
        result = wide.copy()
    if n < 0:
        result = 1 / result
    return result if result.dtype == a.dtype else result.astype(a.dtype)


def _pow_forward(xp, a, b):
    if hasattr(a, "dtype") and not hasattr(b, "dtype") and a.dtype.kind in "fV":
        n = _integral(b)
        if n is not None and abs(n) <= 1 << 20:
            return _integer_power(xp, a, n)
    if (a.dtype if hasattr(a, "dtype") else b.dtype).kind == "b":
        raise DTypeError("pow(): not implemented for bool tensors")
    if (a.dtype if hasattr(a, "dtype") else b.dtype).kind in "iu" and not hasattr(b, "dtype") and b < 0:
        raise NegativeIntegerPower("pow(): integers to negative integer powers are not allowed")
    if hasattr(b, "dtype") and b.dtype.kind in "iu" and (a.dtype if hasattr(a, "dtype") else b.dtype).kind in "iu" \
            and (b < 0).any():  # as PyTorch: 1 and -1 keep a magnitude of one, every other base truncates to 0
        odd = (b % 2).astype(bool)
        one = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0))
        return xp.where(b < 0, one, a ** xp.maximum(b, 0)).astype(xp.result_type(a, b))
    return a ** b


def _check_pow(input, exponent):
    """A negative Python int exponent of an integer tensor is an error, as in PyTorch; it is checked
    before promotion, which would wrap -2 into uint8 as 254."""
    if isinstance(input, Tensor) and isinstance(exponent, (int, np.integer)) and not isinstance(exponent, bool) \
            and exponent < 0 and input.dtype.category == 1:
        raise NegativeIntegerPower("pow(): integers to negative integer powers are not allowed")


pow = binary_op("pow", _pow_forward, _pow_backward, operator="pow", table=ops, samples=_pow_samples, errors=_pow_errors, check=_check_pow,
                doc="input ** exponent, broadcast (``torch.pow``).\n\nRaises:\n"
                    "    DTypeError: both operands are bool tensors.\n"
                    "    NegativeIntegerPower: an integer tensor to a negative integer power (an ArithmeticError "
                    "and a RuntimeError).")


# -- one operand ------------------------------------------------------------------------------------


class Neg(Primitive):
    @staticmethod
    def forward(xp, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


def neg(input):
    """-input (``torch.neg``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype but bool.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        DTypeError: ``input`` is a bool tensor (use ``logical_not`` or ``~``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.neg``."""
    check_tensor("neg", "input", input)
    if input.dtype is dtypes.bool:
        raise DTypeError("neg(): negation, the `-` operator, on a bool tensor is not supported; use "
                         "logical_not() or `~` instead")
    return apply(Neg, input)


ops.op(neg, primitive=Neg, operator="neg", inplace=True, aliases=("negative",), samples=unary_samples)

reciprocal = unary_op("reciprocal", lambda xp, x: 1 / x, lambda ctx, g: -g * ctx.output * ctx.output,
                      save="output", table=ops, samples=lambda make: unary_samples(make, away_from_zero=True),
                      doc="1 / input; integers give the default float (``torch.reciprocal``).")
square = unary_op("square", lambda xp, x: (x.astype(xp.int64) if x.dtype == bool else x) ** 2,  # bool gives int64
                  lambda ctx, g: 2 * g * ctx.inputs[0], int_to_float=False, table=ops,
                  grad_fn="PowBackward0",  # PyTorch records square as pow(input, 2)
                  doc="input * input, keeping integer dtypes; bool gives int64 (``torch.square``).\n\nShape:\n"
                      "    - input: ``(*)``, any number of dimensions, any dtype.\n"
                      "    - output: ``(*)``, the shape and dtype of ``input`` (int64 for bool).")


# -- ternary compositions ---------------------------------------------------------------------------

def _weight_check(op, weight):
    if not isinstance(weight, (Tensor, int, float)):
        raise TypeError(f"{op}(): argument 'weight' must be Tensor or a number, not {type(weight).__name__}")


@ops.op(inplace=True, samples=lambda make: [
    Sample((make(2, 3), make(2, 3), 0.3), name="scalar weight"),
    Sample((make(2, 3), make(3), make(2, 1, low=0, high=1)), name="tensor weight, broadcast"),
    Sample((make(), make(), 0.75), name="zero-dim")])
def lerp(input, end, weight):
    """input + weight * (end - input) (``torch.lerp``).

    Shape:
        - input, end, weight: shapes that broadcast together; floating point.
        - output: the broadcast shape; the promoted dtype of the inputs.

    Raises:
        DTypeError: ``input`` is not floating point.
        ShapeError: the shapes do not broadcast.
        TypeError: ``input`` or ``end`` is not a Tensor, or ``weight`` is neither a Tensor nor a number.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.lerp``."""
    float_input("lerp", input)
    check_tensor("lerp", "end", end)
    _weight_check("lerp", weight)
    return input + weight * (end - input)


@ops.op(inplace=True, samples=lambda make: [
    Sample((make(2, 3), make(2, 3), make(3))), Sample((make(2, 3), make(3), make(2, 1)), {"value": 0.5}),
    Sample((make(), make(), make()), {"value": -2})])
def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2, broadcast (``torch.addcmul``).

    Shape:
        - input, tensor1, tensor2: shapes that broadcast together; any dtype.
        - output: the broadcast shape; the promoted dtype of the inputs.

    Raises:
        RuntimeError: a scalar argument does not fit the integer dtype it is computed in.
        ShapeError: the shapes do not broadcast.
        TypeError: ``input``, ``tensor1`` or ``tensor2`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.addcmul``."""
    check_tensor("addcmul", "input", input)
    prod = tensor1 * tensor2
    if prod.dtype.category == 1 and input.dtype.category == 1:  # integer: PyTorch truncates value to the dtype
        value = scalar_to("addcmul", value, prod.dtype)
    return input + (prod * value if value != 1 else prod)


@ops.op(inplace=True, samples=lambda make: [
    Sample((make(2, 3), make(2, 3), make(3, away_from_zero=True))),
    Sample((make(2, 3), make(3), make(2, 1, away_from_zero=True)), {"value": 0.5})])
def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2, broadcast (``torch.addcdiv``); integer division is an error.

    Shape:
        - input, tensor1, tensor2: shapes that broadcast together; floating point.
        - output: the broadcast shape; the promoted dtype of the inputs.

    Raises:
        DTypeError: ``tensor1`` and ``tensor2`` are both integral (integer division).
        ShapeError: the shapes do not broadcast.
        TypeError: ``input``, ``tensor1`` or ``tensor2`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.addcdiv``."""
    check_tensor("addcdiv", "input", input)
    if not (tensor1.dtype.is_floating_point or tensor2.dtype.is_floating_point):
        raise DTypeError(f"addcdiv(): integer division with addcdiv is no longer supported; got tensor1 "
                         f"{tensor1.dtype} and tensor2 {tensor2.dtype}")
    quot = tensor1 / tensor2
    return input + (quot * value if value != 1 else quot)
