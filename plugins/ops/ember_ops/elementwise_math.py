"""Elementwise math functions: exponentials and logarithms, roots, trigonometric and hyperbolic
functions, erf/erfc, sign and absolute value, rounding. Integer inputs give the default float, except
for the ops PyTorch keeps integral (abs, sign, floor, ceil, round, trunc)."""

from __future__ import annotations

import math

import numpy as np

from ember import dtypes
from ember.ops import DTypeError, OpTable, Sample, StabilityInput, apply, check_tensor, no_bool

from . import erf_kernel
from .elementwise_factories import binary_op, primitive, unary_op
from .samples import binary_samples, extreme_inputs, unary_samples

ops = OpTable()

LN2, LN10 = math.log(2), math.log(10)
TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _math(name, forward, backward, save="input", low=-2.0, high=2.0, away_from_zero=False, **options):
    return unary_op(name, forward, backward, save=save, table=ops,
                    samples=lambda make: unary_samples(make, low=low, high=high, away_from_zero=away_from_zero),
                    **options)


def _x(ctx):
    return ctx.inputs[0]


# -- exponentials and logarithms --------------------------------------------------------------------

exp = _math("exp", lambda xp, x: xp.exp(x), lambda ctx, g: g * ctx.output, save="output",
            doc="e ** input (``torch.exp``).")
exp2 = _math("exp2", lambda xp, x: xp.exp2(x), lambda ctx, g: g * ctx.output * LN2, save="output",
             doc="2 ** input (``torch.exp2``).")
expm1 = _math("expm1", lambda xp, x: xp.expm1(x), lambda ctx, g: g * (ctx.output + 1), save="output",
              doc="exp(input) - 1, accurate near zero (``torch.expm1``).")
log = _math("log", lambda xp, x: xp.log(x), lambda ctx, g: g / _x(ctx), low=0.1, high=3.0,
            doc="Natural logarithm (``torch.log``).")
log2 = _math("log2", lambda xp, x: xp.log2(x), lambda ctx, g: g / (_x(ctx) * LN2), low=0.1, high=3.0,
             doc="Base-2 logarithm (``torch.log2``).")
log10 = _math("log10", lambda xp, x: xp.log10(x), lambda ctx, g: g / (_x(ctx) * LN10), low=0.1, high=3.0,
              doc="Base-10 logarithm (``torch.log10``).")
log1p = _math("log1p", lambda xp, x: xp.log1p(x), lambda ctx, g: g / (_x(ctx) + 1), low=-0.9, high=3.0,
              doc="log(1 + input), accurate near zero (``torch.log1p``).")

# -- roots ------------------------------------------------------------------------------------------

sqrt = _math("sqrt", lambda xp, x: xp.sqrt(x), lambda ctx, g: g / (2 * ctx.output), save="output",
             low=0.1, high=3.0, doc="Square root (``torch.sqrt``).")
rsqrt = _math("rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda ctx, g: g * ctx.output ** 3 * -0.5, save="output",
              low=0.1, high=3.0, doc="1 / sqrt(input) (``torch.rsqrt``).")

# -- trigonometric and hyperbolic -------------------------------------------------------------------

sin = _math("sin", lambda xp, x: xp.sin(x), lambda ctx, g: g * _x(ctx).cos(), doc="Sine (``torch.sin``).")
cos = _math("cos", lambda xp, x: xp.cos(x), lambda ctx, g: -g * _x(ctx).sin(), doc="Cosine (``torch.cos``).")
tan = _math("tan", lambda xp, x: xp.tan(x), lambda ctx, g: g * (1 + ctx.output * ctx.output), save="output",
            low=-1.2, high=1.2, doc="Tangent (``torch.tan``).")
asin = _math("asin", lambda xp, x: xp.arcsin(x), lambda ctx, g: g * (1 - _x(ctx) ** 2).rsqrt(), low=-0.9,
             high=0.9, aliases=("arcsin",), doc="Inverse sine (``torch.asin``).")
acos = _math("acos", lambda xp, x: xp.arccos(x), lambda ctx, g: -g * (1 - _x(ctx) ** 2).rsqrt(), low=-0.9,
             high=0.9, aliases=("arccos",), doc="Inverse cosine (``torch.acos``).")
atan = _math("atan", lambda xp, x: xp.arctan(x), lambda ctx, g: g / (1 + _x(ctx) ** 2), aliases=("arctan",),
             doc="Inverse tangent (``torch.atan``).")
sinh = _math("sinh", lambda xp, x: xp.sinh(x), lambda ctx, g: g * _x(ctx).cosh(),
             doc="Hyperbolic sine (``torch.sinh``).")
cosh = _math("cosh", lambda xp, x: xp.cosh(x), lambda ctx, g: g * _x(ctx).sinh(),
             doc="Hyperbolic cosine (``torch.cosh``).")
tanh = _math("tanh", lambda xp, x: xp.tanh(x), lambda ctx, g: g * (1 - ctx.output * ctx.output), save="output",
             namespaces=("ember", "Tensor", "functional"), stability=extreme_inputs,
             doc="Hyperbolic tangent (``torch.tanh``).")
asinh = _math("asinh", lambda xp, x: xp.arcsinh(x), lambda ctx, g: g * (_x(ctx) ** 2 + 1).rsqrt(),
              aliases=("arcsinh",), doc="Inverse hyperbolic sine (``torch.asinh``).")
acosh = _math("acosh", lambda xp, x: xp.arccosh(x), lambda ctx, g: g * (_x(ctx) ** 2 - 1).rsqrt(), low=1.2,
              high=3.0, aliases=("arccosh",), doc="Inverse hyperbolic cosine (``torch.acosh``).")
atanh = _math("atanh", lambda xp, x: xp.arctanh(x), lambda ctx, g: g / (1 - _x(ctx) ** 2), low=-0.9, high=0.9,
              aliases=("arctanh",), doc="Inverse hyperbolic tangent (``torch.atanh``).")


def _atan2_backward(ctx, g):
    y, x = ctx.inputs
    need_y, need_x = ctx.needs_input_grad
    from .selection import where
    radius2 = x * x + y * y
    zero = radius2 == 0  # at the origin the gradient is zero, as in PyTorch
    scale = where(zero, 0.0, g / where(zero, 1.0, radius2))
    return (scale * x if need_y else None), (-scale * y if need_x else None)


atan2 = binary_op("atan2", lambda xp, y, x: xp.arctan2(y, x), _atan2_backward, float_result=True, table=ops,
                  aliases=("arctan2",), samples=lambda make: binary_samples(make, away_from_zero=True, scalars=False),
                  doc="The angle of the point (other, input), in (-pi, pi] (``torch.atan2``).")

# -- error function ---------------------------------------------------------------------------------

def _erf_range(make, rtol):
    """erf's kernel against PyTorch's to near float64 precision, from tiny arguments to the saturated tails."""
    values = np.concatenate([np.linspace(-8, 8, 2001), np.logspace(-20, 1, 50), [0.0, 30.0, -30.0]])
    yield StabilityInput(Sample((make.tensor(values),)), rtol=rtol, atol=1e-300, dtypes=(dtypes.float64,))


erf = _math("erf", erf_kernel.erf, lambda ctx, g: g * TWO_OVER_SQRT_PI * (-_x(ctx) ** 2).exp(),
            stability=lambda make: _erf_range(make, rtol=1e-13), doc="The error function (``torch.erf``).")
erfc = _math("erfc", erf_kernel.erfc, lambda ctx, g: g * -TWO_OVER_SQRT_PI * (-_x(ctx) ** 2).exp(),
             stability=lambda make: _erf_range(make, rtol=1e-12),
             doc="1 - erf(input), accurate where erf is close to 1 (``torch.erfc``).")

# -- sign and magnitude -----------------------------------------------------------------------------

def _abs(xp, x):
    if x.dtype.kind == "b":
        raise DTypeError("abs(): not implemented for bool tensors")
    return xp.abs(x)


abs = _math("abs", _abs, lambda ctx, g: g * _x(ctx).sign(), int_to_float=False,
            operator="abs", away_from_zero=True, aliases=("absolute",),
            doc="|input| (``torch.abs``).\n\nRaises:\n    DTypeError: ``input`` is a bool tensor.")
def _sign(xp, x):
    if x.dtype.kind == "b":
        return x.copy()
    s = xp.sign(x)
    return xp.where(s != s, 0, s).astype(x.dtype) if x.dtype.kind == "f" else s  # PyTorch: sign(nan) is 0


sign = _math("sign", _sign, lambda ctx, g: g * 0, save="", int_to_float=False,
             doc="-1, 0 or 1 by the sign of each element (``torch.sign``).")

# -- rounding ---------------------------------------------------------------------------------------


def _integral_kept(fn, name):
    """A rounding forward that returns integer inputs unchanged (a copy), as PyTorch does."""
    def forward(xp, x):
        if x.dtype.kind == "b":
            raise DTypeError(f"{name}(): not implemented for dtype bool")
        return fn(xp, x) if x.dtype.kind == "f" else x.copy()
    return forward


def _rounding(name, fn, doc, **options):
    doc += "\n\nRaises:\n    DTypeError: ``input`` is a bool tensor (integer tensors come back unchanged)."
    return _math(name, _integral_kept(fn, name), lambda ctx, g: g * 0, save="", int_to_float=False,
                 away_from_zero=True, doc=doc, **options)


floor = _rounding("floor", lambda xp, x: xp.floor(x), "The largest integer <= input (``torch.floor``).")
ceil = _rounding("ceil", lambda xp, x: xp.ceil(x), "The smallest integer >= input (``torch.ceil``).")
trunc = _rounding("trunc", lambda xp, x: xp.trunc(x), "input rounded toward zero (``torch.trunc``).",
                  aliases=("fix",))
def _frac(xp, x):
    if x.dtype.kind != "f":
        raise DTypeError(f"frac(): not implemented for dtype {x.dtype}; expected a floating point tensor")
    return x - xp.trunc(x)


frac = _math("frac", _frac, lambda ctx, g: g, save="", int_to_float=False,
             away_from_zero=True,
             doc="input - trunc(input) (``torch.frac``).\n\nRaises:\n    DTypeError: ``input`` is not floating point.")

def _round_forward(xp, x, decimals):
    if x.dtype.kind != "f":
        return x.copy()
    if decimals == 0:
        return xp.round(x)
    scale = 10.0 ** decimals
    return xp.round(x * scale) / scale if decimals > 0 else xp.round(x / 10.0 ** -decimals) * 10.0 ** -decimals


Round = primitive("round", _round_forward, lambda ctx, g, decimals: g * 0)


def round(input, *, decimals=0):
    """input rounded to ``decimals`` places, halves to even (``torch.round``); zero gradient.

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype but bool.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        DTypeError: ``input`` is a bool tensor, or ``decimals`` is nonzero for an integer input.
        TypeError: ``decimals`` is not an int, or ``input`` is not a Tensor.

    PyTorch: ``torch.round``."""
    no_bool("round", input)
    if not isinstance(decimals, int) or isinstance(decimals, bool):
        raise TypeError(f"round(): argument 'decimals' must be int, not {type(decimals).__name__}")
    if decimals and not input.dtype.is_floating_point:
        raise DTypeError(f"round(): decimals={decimals} not implemented for dtype {input.dtype.name}")
    return apply(Round, input, decimals=decimals)


ops.op(round, primitive=Round, inplace=True, samples=lambda make: [
    *unary_samples(make, away_from_zero=True),
    Sample((make(2, 3, low=-20, high=20),), {"decimals": 1}, name="decimals=1"),
    Sample((make(2, 3, low=-200, high=200),), {"decimals": -1}, name="decimals=-1")])
