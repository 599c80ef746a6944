"""Comparisons, logical and bitwise ops, and the float classification tests (isnan, isinf, isfinite).

None has a gradient: the results are bool (or, for bitwise ops, integer) tensors.
"""

from __future__ import annotations

from ember import dtypes
from ember.ops import DTypeError, ErrorInput, OpTable, Sample, apply, check_tensor, promote
from ember.tensor import Tensor

from .docstrings import BINARY_RAISES, compose
from .elementwise_factories import _broadcast_error, binary_op, primitive, unary_op
from .samples import binary_samples, nondiff_samples

ops = OpTable()

_DTYPES = (dtypes.float32, dtypes.float64, dtypes.int64)
_INTEGRAL = (dtypes.int64, dtypes.int32, dtypes.bool)


def _comparison(name, forward, operator, aliases=()):
    # == and != with an operand that is no number return NotImplemented (``t == None`` is False), as in PyTorch
    no_operand = "\n\nRaises:\n    TypeError: neither operand is a Tensor." if operator in ("eq", "ne") else ""
    return binary_op(name, forward, None, save_inputs=False, operator=operator, inplace=True, table=ops,
                     differentiable=False, aliases=aliases, dtypes=_DTYPES,
                     doc=f"Elementwise ``{operator}`` comparison, broadcast; a bool tensor (``torch.{name}``).\n\n"
                         "Shape:\n    - input, other: tensors (or one a Python number) whose shapes broadcast "
                         "together, any dtypes.\n    - output: the broadcast shape, bool." + no_operand)


eq = _comparison("eq", lambda xp, a, b: a == b, "eq")
ne = _comparison("ne", lambda xp, a, b: a != b, "ne", aliases=("not_equal",))
lt = _comparison("lt", lambda xp, a, b: a < b, "lt", aliases=("less",))
le = _comparison("le", lambda xp, a, b: a <= b, "le", aliases=("less_equal",))
gt = _comparison("gt", lambda xp, a, b: a > b, "gt", aliases=("greater",))
ge = _comparison("ge", lambda xp, a, b: a >= b, "ge", aliases=("greater_equal",))


# -- logical: any dtype, nonzero is True --------------------------------------------------------------

def _logical(name, forward):
    prim = primitive(name, forward, None, differentiable=False)

    def fn(input, other):
        check_tensor(name, "input", input)
        check_tensor(name, "other", other)
        try:
            return apply(prim, input, other)
        except ValueError:
            raise _broadcast_error(name, input, other) from None
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = compose(
        f"Elementwise logical {name[8:]} of the operands' truth values; a bool tensor (``torch.{name}``).",
        ("input, other: tensors whose shapes broadcast together, any dtypes.", "output: the broadcast shape, bool."),
        ("TypeError: ``input`` or ``other`` is not a Tensor.", *BINARY_RAISES[1:]), f"torch.{name}")
    ops.op(fn, primitive=prim, inplace=True, differentiable=False, dtypes=_DTYPES, samples=_logical_samples)
    return fn


def _logical_samples(make):
    yield Sample((make(2, 3, requires_grad=False), make(2, 3, requires_grad=False)), name="same shape")
    yield Sample((make(2, 3, requires_grad=False), make(3, requires_grad=False)), name="broadcast")
    yield Sample((make(2, 3, requires_grad=False), make(2, 3, dtype=dtypes.bool)), name="mixed dtypes")
    yield Sample((make(0, 3, requires_grad=False), make(3, requires_grad=False)), name="empty")


logical_and = _logical("logical_and", lambda xp, a, b: xp.logical_and(a, b))
logical_or = _logical("logical_or", lambda xp, a, b: xp.logical_or(a, b))
logical_xor = _logical("logical_xor", lambda xp, a, b: xp.logical_xor(a, b))
logical_not = unary_op("logical_not", lambda xp, x: xp.logical_not(x), None, save="", int_to_float=False,
                       differentiable=False, table=ops, dtypes=_DTYPES, samples=nondiff_samples,
                       doc="True where input is zero; a bool tensor (``torch.logical_not``).\n\nShape:\n"
                           "    - input: ``(*)``, any number of dimensions, any dtype.\n    - output: ``(*)``, bool.")


# -- bitwise: integer and bool tensors ------------------------------------------------------------------

def _integral_only(op, *values):
    for value in values:
        if isinstance(value, Tensor) and value.dtype.is_floating_point:
            raise DTypeError(f"{op}(): only integer and bool tensors are supported, got a tensor of dtype "
                             f"{value.dtype}")
        if isinstance(value, float):
            raise DTypeError(f"{op}(): only integer and bool operands are supported, got the float {value!r}")


def _bitwise(name, forward, operator):
    prim = primitive(name, forward, None, differentiable=False)

    def fn(input, other):
        _integral_only(name, input, other)
        a, b = promote(name, input, other)
        try:
            return apply(prim, a, b)
        except ValueError:
            raise _broadcast_error(name, a, b) from None
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = compose(
        f"Elementwise bitwise ``{operator}`` of integer or bool tensors (``torch.{name}``).",
        ("input, other: integer or bool tensors (or one a Python int or bool) whose shapes broadcast together.",
         "output: the broadcast shape, in the promoted dtype."),
        ("DTypeError: an operand is floating point (a tensor or a Python float).", *BINARY_RAISES), f"torch.{name}")
    ops.op(fn, primitive=prim, operator=operator, inplace=True, differentiable=False, dtypes=_INTEGRAL, samples=_bitwise_samples,
           errors=lambda make: _bitwise_errors(make, name))
    return fn


def _bitwise_errors(make, name):
    floats = make(2, dtype=dtypes.float32), make(2, dtype=dtypes.float32)
    yield ErrorInput(Sample(floats), TypeError, rf"{name}\(\).*float32")
    yield ErrorInput(Sample((make(2, dtype=dtypes.int64), 0.5)), TypeError, rf"{name}\(\).*the float 0.5")


def _bitwise_samples(make):
    yield from (s for s in binary_samples(make, low=-8, high=8) if s.name != "python number")
    yield Sample((make(4, low=-8, high=8), 3), name="python int")


bitwise_and = _bitwise("bitwise_and", lambda xp, a, b: a & b, "and")
bitwise_or = _bitwise("bitwise_or", lambda xp, a, b: a | b, "or")
bitwise_xor = _bitwise("bitwise_xor", lambda xp, a, b: a ^ b, "xor")

BitwiseNot = primitive("bitwise_not", lambda xp, x: xp.invert(x), None, differentiable=False)


def bitwise_not(input):
    """Elementwise bitwise not; logical not for bool tensors (``torch.bitwise_not``, ``~``).

    Shape:
        - input: ``(*)``, an integer or bool dtype.
        - output: the shape and dtype of ``input``.

    Raises:
        DTypeError: ``input`` is floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.bitwise_not``."""
    check_tensor("bitwise_not", "input", input)
    _integral_only("bitwise_not", input)
    return apply(BitwiseNot, input)


def _bitwise_not_errors(make):
    yield ErrorInput(Sample((make(2, dtype=dtypes.float32),)), TypeError, r"bitwise_not\(\).*float32")


ops.op(bitwise_not, primitive=BitwiseNot, operator="invert", inplace=True, differentiable=False, dtypes=_INTEGRAL,
       samples=lambda make: nondiff_samples(make, low=-8, high=8), errors=_bitwise_not_errors)


# -- float classification -------------------------------------------------------------------------------

def _classify(name, forward, doc):
    doc += "\n\nShape:\n    - input: ``(*)``, any number of dimensions, any dtype.\n    - output: ``(*)``, bool."
    return unary_op(name, forward, None, save="", int_to_float=False, differentiable=False, inplace=None,
                    table=ops, dtypes=_DTYPES, samples=_special_values, doc=doc)


def _special_values(make):
    yield from nondiff_samples(make)
    x = make(6, requires_grad=False)
    if x.is_floating_point():
        x.array[:3] = (float("nan"), float("inf"), float("-inf"))
    yield Sample((x,), name="nan and infinities")


isnan = _classify("isnan", lambda xp, x: xp.isnan(x), "True where input is NaN (``torch.isnan``).")
isinf = _classify("isinf", lambda xp, x: xp.isinf(x), "True where input is +-inf (``torch.isinf``).")
isfinite = _classify("isfinite", lambda xp, x: xp.isfinite(x),
                     "True where input is neither NaN nor infinite (``torch.isfinite``).")
