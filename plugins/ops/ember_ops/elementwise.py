"""Elementwise ops: arithmetic with PyTorch's type promotion, math functions, comparisons.

Families are declared through two small factories, so each op is one line of forward, one of
backward, and its samples, together.
"""

from __future__ import annotations

import numpy as np

from ember import dtypes
from ember.ops import OpTable, Primitive, ShapeError, apply, check_tensor, promote
from ember.tensor import Tensor

from .samples import binary_samples, unary_samples

ops = OpTable()


def _broadcast_error(op, a, b) -> ShapeError:
    sa = tuple(a.shape) if isinstance(a, Tensor) else ()
    sb = tuple(b.shape) if isinstance(b, Tensor) else ()
    for i in range(1, max(len(sa), len(sb)) + 1):
        x = sa[-i] if i <= len(sa) else 1
        y = sb[-i] if i <= len(sb) else 1
        if x != y and x != 1 and y != 1:
            return ShapeError(f"{op}(): the size of tensor a ({x}) must match the size of tensor b ({y}) at "
                              f"non-singleton dimension {max(len(sa), len(sb)) - i} (shapes {sa} and {sb})")
    return ShapeError(f"{op}(): shapes {sa} and {sb} cannot be broadcast together")


def binary(prim, a, b, float_result=False):
    """Promote, then run a two-operand primitive, turning a backend broadcast error into ember's."""
    a, b = promote(prim.name, a, b, float_result)
    try:
        return apply(prim, a, b)
    except ValueError:
        raise _broadcast_error(prim.name, a, b) from None


_COMPARISONS = ("eq", "ne")


def _not_operand(value):
    return not isinstance(value, (Tensor, int, float, bool, np.number, np.bool_))


def _camel(name):
    return "".join(p.capitalize() for p in name.split("_"))


def binary_op(name, forward, backward, *, save_inputs=True, operator="", inplace=True, float_result=False,
              differentiable=True, doc="", samples=binary_samples, **options):
    """Declare a two-operand elementwise op; ``backward(ctx, grad)`` returns (grad_a, grad_b)."""
    prim = type(_camel(name), (Primitive,), {
        "name": name, "forward": staticmethod(forward), "backward": staticmethod(backward),
        "save_inputs": save_inputs, "differentiable": differentiable})

    def fn(input, other):
        if operator in _COMPARISONS and _not_operand(other):
            return NotImplemented  # t == None is False, as in Python and PyTorch
        return binary(prim, input, other, float_result)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    fn.primitive = prim
    ops.op(fn, operator=operator, inplace=inplace if differentiable or inplace else None,
                  samples=samples, differentiable=differentiable, **options)
    return fn


def unary_op(name, forward, backward, *, save="input", inplace=True, doc="", samples=unary_samples,
             int_to_float=True, **options):
    """Declare a one-operand elementwise op; ``save`` names what backward reads: input, output or nothing."""
    prim = type(_camel(name), (Primitive,), {
        "name": name, "forward": staticmethod(forward), "backward": staticmethod(backward),
        "save_inputs": save == "input", "save_output": save == "output"})
    default_float = dtypes.get_default_dtype

    def fn(input):
        check_tensor(name, "input", input)
        if int_to_float and not input._dtype.is_floating_point:
            input = input.to(default_float())
        return apply(prim, input)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    fn.primitive = prim
    ops.op(fn, inplace=inplace, samples=samples, **options)
    return fn


# -- arithmetic -------------------------------------------------------------------------------------

binary_op("add", lambda xp, a, b: a + b, lambda ctx, g: (g, g), save_inputs=False, operator="add",
                 doc="a + b, broadcast (``torch.add``; ``alpha`` is accepted by the method form via ``add(b * alpha)``).")
binary_op("sub", lambda xp, a, b: a - b, lambda ctx, g: (g, -g), save_inputs=False, operator="sub",
                 doc="a - b, broadcast (``torch.sub``).")


def _mul_backward(ctx, g):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    return (g * b if need_a else None), (g * a if need_b else None)


binary_op("mul", lambda xp, a, b: a * b, _mul_backward, operator="mul",
                 doc="a * b, broadcast (``torch.mul``).")


def _div_backward(ctx, g):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    ga = g / b if need_a else None
    gb = -g * a / (b * b) if need_b else None
    return ga, gb


binary_op("div", lambda xp, a, b: a / b, _div_backward, operator="truediv", float_result=True,
                 aliases=("true_divide",), doc="a / b as true division; integers give the default float.")


def _pow_backward(ctx, g):
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    ga = g * b * a ** (b - 1) if need_a else None
    gb = None
    if need_b:
        out = a ** b
        gb = g * out * (a.abs().log() if isinstance(a, Tensor) else float(np.log(abs(a))))
    return ga, gb


binary_op("pow", lambda xp, a, b: a ** b, _pow_backward, operator="pow",
                 samples=lambda make: binary_samples(make, positive=True),
                 doc="a ** b, broadcast (``torch.pow``).")

# -- comparisons (no gradient) ---------------------------------------------------------------------

def _comparison(name, forward, operator):
    return binary_op(name, forward, None, save_inputs=False, operator=operator, inplace=None,
                     differentiable=False, doc=f"Elementwise ``{operator}`` comparison; a bool tensor.")


_comparison("eq", lambda xp, a, b: a == b, "eq")
_comparison("ne", lambda xp, a, b: a != b, "ne")
_comparison("lt", lambda xp, a, b: a < b, "lt")
_comparison("le", lambda xp, a, b: a <= b, "le")
_comparison("gt", lambda xp, a, b: a > b, "gt")
_comparison("ge", lambda xp, a, b: a >= b, "ge")

# -- one operand ---------------------------------------------------------------------------------


class Neg(Primitive):
    @staticmethod
    def forward(xp, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


def neg(input):
    """-input (``torch.neg``)."""
    check_tensor("neg", "input", input)
    if input._dtype is dtypes.bool:
        raise TypeError("neg(): negation, the `-` operator, on a bool tensor is not supported; use "
                        "logical_not() or `~` instead")
    return apply(Neg, input)


neg.primitive = Neg
ops.op(neg, operator="neg", inplace=True, aliases=("negative",), samples=unary_samples)

exp = unary_op("exp", lambda xp, x: xp.exp(x), lambda ctx, g: g * ctx.output, save="output",
               doc="e ** input (``torch.exp``).")
log = unary_op("log", lambda xp, x: xp.log(x), lambda ctx, g: g / ctx.inputs[0],
               samples=lambda make: unary_samples(make, low=0.1, high=3.0), doc="Natural log (``torch.log``).")
sqrt = unary_op("sqrt", lambda xp, x: xp.sqrt(x), lambda ctx, g: g / (2 * ctx.output), save="output",
                samples=lambda make: unary_samples(make, low=0.1, high=3.0), doc="Square root (``torch.sqrt``).")
tanh = unary_op("tanh", lambda xp, x: xp.tanh(x), lambda ctx, g: g * (1 - ctx.output * ctx.output),
                save="output", where=("ember", "Tensor", "functional"), doc="Hyperbolic tangent (``torch.tanh``).")


def _abs_backward(ctx, g):
    return g * ctx.inputs[0].sign()


unary_op("abs", lambda xp, x: xp.abs(x), _abs_backward, int_to_float=False, operator="abs",
                samples=lambda make: unary_samples(make, away_from_zero=True), doc="|input| (``torch.abs``).")
sign = unary_op("sign", lambda xp, x: xp.sign(x), lambda ctx, g: g * 0, save="", int_to_float=False,
                gradgradcheck=False, doc="-1, 0 or 1 by the sign of each element (``torch.sign``).")
