"""Activations: the relu family, smooth ones (elu, gelu, silu, mish, softplus), the sigmoid family and
the softmax family, all stable for large inputs (no overflow at +-1e4), as PyTorch's are.

Most live only in ``ember.nn.functional``, as in PyTorch; ``inplace=True`` writes the result back.
"""

from __future__ import annotations

import math

from ember.autograd.grad_mode import is_grad_enabled
from ember.ops import (ArgumentError, DTypeError, ErrorInput, OpTable, Primitive, Sample, StabilityInput, apply,
                       check_tensor, float_input, inplace as write_back, no_bool, normalize_dims, scalar_to)
from ember.ops import wrap

from .elementwise_factories import bad_option, primitive
from . import erf_kernel
from .elementwise_math import erf
from .samples import extreme_inputs, unary_samples
from .selection import Clamp, clamp, where

ops = OpTable()
F = ("functional",)


def _finish(name, input, out, inplace):
    return write_back(input, out, name + "_") if inplace else out


def _samples(away_from_zero=False, **kwargs_variants):
    def samples(make):
        yield from unary_samples(make, away_from_zero=away_from_zero)
        for label, kwargs in kwargs_variants.items():
            yield Sample((make(2, 3, low=-3, high=3, away_from_zero=away_from_zero),), kwargs, name=label)
    return samples


# -- relu family ------------------------------------------------------------------------------------

class Relu(Primitive):
    save_output = True

    @staticmethod
    def forward(xp, x):
        return xp.maximum(x, 0)

    @staticmethod
    def backward(ctx, g):
        out = ctx.output.array  # the mask is a constant: relu's second derivative is zero
        if is_grad_enabled():  # create_graph: the gradient must itself be differentiable in g
            return g * wrap((out > 0).astype(out.dtype), g.device)
        device = g.device
        backward = ReluBackward.kernels.get(device.type, ReluBackward.forward)
        return wrap(backward(device.xp, g.array, out), device)


class ReluBackward(Primitive):
    """relu's input gradient on arrays, ``grad * (output > 0)`` (ATen's ``threshold_backward`` at 0): run by
    :class:`Relu`'s backward outside create_graph, and a primitive of its own so that a device plugin can
    register a one-pass kernel for it."""

    differentiable = False

    @staticmethod
    def forward(xp, g, out):
        return g * (out > 0).astype(out.dtype)


@ops.op(primitive=Relu, namespaces=("ember", "Tensor", "functional"), inplace=True, samples=_samples(True))
def relu(input, inplace=False):
    """max(input, 0) elementwise (``torch.relu``; ``inplace=True`` in the functional form writes back).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype but bool.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is a bool tensor.

    PyTorch: ``torch.relu``."""
    check_tensor("relu", "input", input)
    if input.dtype.category == 0:
        raise DTypeError("relu(): Boolean inputs not supported for relu")
    return _finish("relu", input, apply(Relu, input), inplace)


class Hardtanh(Clamp):
    """``Clamp`` under ATen's name for hardtanh (and relu6)."""


@ops.op(primitive=Hardtanh, namespaces=F, samples=_samples(True, bounds={"min_val": -0.5, "max_val": 2.0}))
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """input clamped to [min_val, max_val] (``F.hardtanh``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype but bool.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is a bool tensor.
        ArgumentError: ``min_val`` > ``max_val``, or negative limits for an unsigned input.

    PyTorch: ``torch.nn.functional.hardtanh``."""
    no_bool("hardtanh", input)
    if min_val > max_val:
        raise ArgumentError(f"hardtanh(): min_val ({min_val}) cannot be greater than max_val ({max_val})")
    if not input.dtype.is_floating_point:  # integer tensors keep their dtype: the bounds are truncated
        min_val, max_val = int(min_val), int(max_val)
        if input.dtype.name == "uint8" and min(min_val, max_val) < 0:
            raise ArgumentError("hardtanh(): cannot do hardtanh on an unsigned type with negative limits")
    low, high = (scalar_to("hardtanh", v, input.dtype) for v in (min_val, max_val))
    return _finish("hardtanh", input, apply(Hardtanh, input, low=low, high=high), inplace)


@ops.op(primitive=Hardtanh, namespaces=F,
        samples=lambda make: [Sample((make(2, 3, low=-3, high=8),)), *unary_samples(make, away_from_zero=True)])
def relu6(input, inplace=False):
    """min(max(input, 0), 6) (``F.relu6``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype but bool.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is a bool tensor.

    PyTorch: ``torch.nn.functional.relu6``."""
    return hardtanh(input, 0.0, 6.0, inplace)


LeakyRelu = primitive(
    "leaky_relu", lambda xp, x, slope: xp.where(x > 0, x, x * slope),
    lambda ctx, g, slope: where(ctx.inputs[0] > 0, g, g * slope), save_inputs=True)


@ops.op(primitive=LeakyRelu, namespaces=F, samples=_samples(True, slope={"negative_slope": 0.2}))
def leaky_relu(input, negative_slope=0.01, inplace=False):
    """input where positive, negative_slope * input elsewhere (``F.leaky_relu``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.functional.leaky_relu``."""
    float_input("leaky_relu", input)
    return _finish("leaky_relu", input, apply(LeakyRelu, input, slope=negative_slope), inplace)


def _threshold_samples(make):
    yield Sample((make(2, 3), 0.5, -1.0))
    yield Sample((make(5), -0.25, 2.0))


@ops.op(namespaces=("ember", "functional"), inplace=True, samples=_threshold_samples)
def threshold(input, threshold, value, inplace=False):
    """input where input > threshold, else value (``F.threshold``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype but bool.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is a bool tensor.
        RuntimeError: ``threshold`` or ``value`` does not fit an integer input's dtype.

    PyTorch: ``torch.threshold``."""
    no_bool("threshold", input)
    if input.dtype.category == 1:  # PyTorch's kernel compares and fills in the input's integer dtype
        threshold, value = scalar_to("threshold", threshold, input.dtype), scalar_to("threshold", value, input.dtype)
    return _finish("threshold", input, where(input <= threshold, value, input), inplace)  # NaN stays NaN


# -- exponential linear units -----------------------------------------------------------------------

def _elu_forward(xp, x, alpha, scale, input_scale):
    negative = alpha * xp.expm1(xp.minimum(x, 0) * input_scale)
    out = xp.where(x > 0, x, negative)
    return out * scale if scale != 1 else out


def _elu_backward(ctx, g, alpha, scale, input_scale):
    x = ctx.inputs[0]
    slope = (x.clamp(max=0) * input_scale).exp() * (alpha * input_scale)
    return where(x > 0, g, g * slope) * scale if scale != 1 else where(x > 0, g, g * slope)


Elu = primitive("elu", _elu_forward, _elu_backward, save_inputs=True)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@ops.op(primitive=Elu, namespaces=F, samples=_samples(True, alpha={"alpha": 0.5}), stability=extreme_inputs)
def elu(input, alpha=1.0, inplace=False):
    """input where positive, alpha * (exp(input) - 1) elsewhere (``F.elu``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.functional.elu``."""
    float_input("elu", input)
    return _finish("elu", input, apply(Elu, input, alpha=alpha, scale=1, input_scale=1), inplace)


@ops.op(primitive=Elu, namespaces=("ember", "functional"), inplace=True, samples=_samples(True))
def selu(input, inplace=False):
    """scale * elu(input, alpha) with the self-normalising constants (``torch.selu``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.selu``."""
    float_input("selu", input)
    return _finish("selu", input, apply(Elu, input, alpha=SELU_ALPHA, scale=SELU_SCALE, input_scale=1), inplace)


@ops.op(primitive=Elu, namespaces=("ember", "functional"), inplace=True, samples=_samples(True, alpha={"alpha": 2.0}))
def celu(input, alpha=1.0, inplace=False):
    """max(0, input) + min(0, alpha * (exp(input / alpha) - 1)) (``torch.celu``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is not floating point.
        ArgumentError: ``alpha`` is zero (it divides the input).

    PyTorch: ``torch.celu``."""
    float_input("celu", input)
    if alpha == 0:
        raise ArgumentError("celu(): argument 'alpha' must not be zero (it divides the input), got 0")
    return _finish("celu", input, apply(Elu, input, alpha=alpha, scale=1, input_scale=1 / alpha), inplace)


# -- smooth gates -----------------------------------------------------------------------------------

_SQRT1_2 = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def _gelu_errors(make):
    yield ErrorInput(Sample((make(2),), {"approximate": "fast"}), ValueError, r"approximate.*'fast'")


_GELU_CUBIC = 0.044715
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _gelu_forward(xp, x, approximate):
    """x * Phi(x), in place on one temporary: five array passes instead of the composite's eight ops."""
    if approximate == "tanh":
        y = xp.multiply(x, x, out=xp.empty_like(x))  # out=: a 0-d input keeps an array (x * x is a scalar)
        y *= _GELU_CUBIC
        y += 1
        y *= x
        y *= _SQRT_2_OVER_PI
        xp.tanh(y, out=y)
    else:
        y = erf_kernel.erf(xp, x * _SQRT1_2)
    y += 1
    y *= x
    y *= 0.5
    return y


def _gelu_slope(xp, x, approximate):
    """d gelu / dx on arrays: Phi(x) + x phi(x), or the tanh form's derivative; in place on three
    temporaries (each fresh large array costs page faults, more than the arithmetic on it)."""
    if approximate == "tanh":
        # 0.5 (1 + t) + 0.5 c x (1 + 3 a x^2) (1 - t^2), t = tanh(c x (1 + a x^2))
        chain = xp.multiply(x, x, out=xp.empty_like(x))  # out=: 0-d inputs keep arrays, for the in-place steps
        t = xp.multiply(chain, _GELU_CUBIC, out=xp.empty_like(x))
        t += 1
        t *= x
        t *= _SQRT_2_OVER_PI
        xp.tanh(t, out=t)
        chain *= 3 * _GELU_CUBIC
        chain += 1
        chain *= x
        chain *= 0.5 * _SQRT_2_OVER_PI
        sech2 = xp.multiply(t, t, out=xp.empty_like(x))
        xp.subtract(1, sech2, out=sech2)
        sech2 *= chain
        t += 1
        t *= 0.5
        t += sech2
        return t
    density = xp.multiply(x, x, out=xp.empty_like(x))
    density *= -0.5
    xp.exp(density, out=density)
    density *= x
    density *= _INV_SQRT_2PI
    slope = erf_kernel.erf(xp, x * _SQRT1_2)
    slope += 1
    slope *= 0.5
    slope += density
    return slope


def _gelu_slope_ops(x, approximate):
    """The same derivative written with ops, so that create_graph differentiates it again."""
    if approximate == "tanh":
        x2 = x * x
        t = (_SQRT_2_OVER_PI * x * (1 + _GELU_CUBIC * x2)).tanh()
        return 0.5 * (1 + t) + (1 - t * t) * (_SQRT_2_OVER_PI * 0.5) * x * (1 + 3 * _GELU_CUBIC * x2)
    return 0.5 * (1 + erf(x * _SQRT1_2)) + x * (x * x * -0.5).exp() * _INV_SQRT_2PI


class Gelu(Primitive):
    """gelu as one primitive: a fused forward and a closed-form backward (``GeluBackward0`` in PyTorch)."""

    save_inputs = True

    @staticmethod
    def forward(xp, x, approximate):
        return _gelu_forward(xp, x, approximate)

    @staticmethod
    def backward(ctx, g, approximate):
        x = ctx.inputs[0]
        if is_grad_enabled():  # create_graph: the slope must itself be differentiable
            return g * _gelu_slope_ops(x, approximate)
        device = g.device
        backward = GeluBackward.kernels.get(device.type, GeluBackward.forward)
        return wrap(backward(device.xp, g.array, x.array, approximate), device)


class GeluBackward(Primitive):
    """gelu's input gradient on arrays, ``grad * gelu'(input)`` (ATen's ``gelu_backward``): run by
    :class:`Gelu`'s backward outside create_graph, and a primitive of its own so that a device plugin can
    register a fused kernel for it as for any forward."""

    differentiable = False

    @staticmethod
    def forward(xp, g, x, approximate):
        slope = _gelu_slope(xp, x, approximate)
        slope *= g
        return slope


def _gelu_composite(input, approximate="none"):
    """gelu's definition in ops: what the fused primitive is checked against."""
    float_input("gelu", input)
    if approximate == "none":
        return input * 0.5 * (1 + erf(input * _SQRT1_2))
    if approximate == "tanh":
        return input * 0.5 * (1 + (_SQRT_2_OVER_PI * (input + _GELU_CUBIC * input ** 3)).tanh())
    raise bad_option("gelu", "approximate", approximate, "'none' or 'tanh'")


@ops.op(primitive=Gelu, namespaces=F, samples=_samples(approximate={"approximate": "tanh"}, none={"approximate": "none"}),
        errors=_gelu_errors, stability=extreme_inputs, reference=_gelu_composite)
def gelu(input, approximate="none"):
    """input * Phi(input), Phi the standard normal CDF; ``approximate='tanh'`` uses the tanh formula (``F.gelu``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is not floating point.
        ArgumentError: ``approximate`` is not 'none' or 'tanh'.

    PyTorch: ``torch.nn.functional.gelu``."""
    float_input("gelu", input)
    if approximate not in ("none", "tanh"):
        raise bad_option("gelu", "approximate", approximate, "'none' or 'tanh'")
    return apply(Gelu, input, approximate=approximate)


def _sigmoid_forward(xp, x):
    return xp.exp(-xp.logaddexp(0, -x))  # 1 / (1 + exp(-x)), without overflow for large |x|


Sigmoid = primitive("sigmoid", _sigmoid_forward, lambda ctx, g: g * ctx.output * (1 - ctx.output), save_output=True)


@ops.op(primitive=Sigmoid, namespaces=("ember", "Tensor", "functional"), inplace=True, samples=_samples(), stability=extreme_inputs)
def sigmoid(input):
    """1 / (1 + exp(-input)), exact in both tails (``torch.sigmoid``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype.
        - output: ``(*)``, the shape of ``input``; floating inputs keep their dtype, integer and bool ones give the
          default float dtype.

    Raises:
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.sigmoid``."""
    check_tensor("sigmoid", "input", input)
    if not input.dtype.is_floating_point:
        from ember import dtypes
        input = input.to(dtypes.get_default_dtype())
    return apply(Sigmoid, input)


LogSigmoid = primitive("log_sigmoid", lambda xp, x: -xp.logaddexp(0, -x), lambda ctx, g: g * sigmoid(-ctx.inputs[0]),
                       save_inputs=True)


@ops.op(primitive=LogSigmoid, namespaces=F, samples=_samples(), stability=extreme_inputs)
def logsigmoid(input):
    """log(sigmoid(input)), finite for large negative inputs (``F.logsigmoid``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.functional.logsigmoid``."""
    float_input("logsigmoid", input)
    return apply(LogSigmoid, input)


def _softplus_forward(xp, x, beta, threshold):
    bx = x * beta
    soft = xp.logaddexp(0, bx) / beta if beta != 1 else xp.logaddexp(0, bx)
    return xp.where(bx > threshold, x, soft)


def _softplus_backward(ctx, g, beta, threshold):
    x = ctx.inputs[0]
    bx = x * beta if beta != 1 else x
    return where(bx > threshold, g, g * sigmoid(bx))


Softplus = primitive("softplus", _softplus_forward, _softplus_backward, save_inputs=True)


def _softplus_stability(make):
    yield from extreme_inputs(make)
    yield from extreme_inputs(make, beta=2.0, threshold=5.0)
    # above the threshold softplus is the identity, exactly
    yield StabilityInput(Sample((make.tensor([30.0, 1e4]),)), expected=[30.0, 1e4], rtol=0, atol=0)


@ops.op(primitive=Softplus, namespaces=F, samples=_samples(beta={"beta": 2.0}, threshold={"beta": 1.5, "threshold": 1.0}),
        stability=_softplus_stability)
def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * input)) / beta, linear above ``threshold`` (``F.softplus``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.functional.softplus``."""
    float_input("softplus", input)
    return apply(Softplus, input, beta=beta, threshold=threshold)


@ops.op(namespaces=F, samples=_samples(), stability=extreme_inputs)
def silu(input, inplace=False):
    """input * sigmoid(input) (``F.silu``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.functional.silu``."""
    float_input("silu", input)
    return _finish("silu", input, input * sigmoid(input), inplace)


@ops.op(namespaces=F, samples=_samples(), stability=extreme_inputs)
def mish(input, inplace=False):
    """input * tanh(softplus(input)) (``F.mish``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.functional.mish``."""
    float_input("mish", input)
    return _finish("mish", input, input * softplus(input).tanh(), inplace)


@ops.op(namespaces=F, samples=_samples())
def softsign(input):
    """input / (1 + |input|) (``F.softsign``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype but bool.
        - output: ``(*)``, the shape of ``input``; floating inputs keep their dtype, integer and bool ones give the
          default float dtype.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is a bool tensor.

    PyTorch: ``torch.nn.functional.softsign``."""
    no_bool("softsign", input)
    return input / (1 + input.abs())


@ops.op(namespaces=F, samples=lambda make: [*unary_samples(make, away_from_zero=True),
                                       Sample((make(2, 3, low=-5, high=5, away_from_zero=True),))])
def hardsigmoid(input, inplace=False):
    """relu6(input + 3) / 6 (``F.hardsigmoid``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.functional.hardsigmoid``."""
    float_input("hardsigmoid", input)
    return _finish("hardsigmoid", input, clamp(input + 3, 0.0, 6.0) / 6, inplace)


@ops.op(namespaces=F, samples=lambda make: [*unary_samples(make, away_from_zero=True),
                                       Sample((make(2, 3, low=-5, high=5, away_from_zero=True),))])
def hardswish(input, inplace=False):
    """input * relu6(input + 3) / 6 (``F.hardswish``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.functional.hardswish``."""
    float_input("hardswish", input)
    return _finish("hardswish", input, input * clamp(input + 3, 0.0, 6.0) / 6, inplace)


@ops.op(namespaces=F, samples=_samples())
def tanhshrink(input):
    """input - tanh(input) (``F.tanhshrink``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype but bool.
        - output: ``(*)``, the shape of ``input``; floating inputs keep their dtype, integer and bool ones give the
          default float dtype.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is a bool tensor.

    PyTorch: ``torch.nn.functional.tanhshrink``."""
    no_bool("tanhshrink", input)
    return input - input.tanh()


def _glu_errors(make):
    yield ErrorInput(Sample((make(2, 3),)), ValueError, r"glu\(\).*dimension 1 is size 3")


@ops.op(namespaces=F, samples=lambda make: [Sample((make(2, 4),)), Sample((make(4, 3), 0)), Sample((make(2, 3, 6), -1))],
        errors=_glu_errors)
def glu(input, dim=-1):
    """a * sigmoid(b), with a and b the two halves of input along ``dim`` (``F.glu``).

    Shape:
        - input: ``(*1, N, *2)``, N = ``input.shape[dim]`` even; floating point.
        - output: ``(*1, N / 2, *2)``, the dtype of ``input``.

    Raises:
        ArgumentError: ``input.shape[dim]`` is odd, or ``input`` is 0-d.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.glu``."""
    float_input("glu", input)
    if not input.ndim:
        raise ArgumentError("glu(): does not support scalars because halving size must be even")
    dim = normalize_dims("glu", dim, input.ndim)[0]
    size = input.shape[dim]
    if size % 2:
        raise ArgumentError(f"glu(): halving dimension must be even, but dimension {dim} is size {size}")
    lead = (slice(None),) * dim
    return input[lead + (slice(0, size // 2),)] * sigmoid(input[lead + (slice(size // 2, size),)])


# -- softmax family ---------------------------------------------------------------------------------

def _softmax_dim(op, input, dim):
    if dim is None:  # PyTorch's legacy implicit choice, kept for compatibility
        dim = 0 if input.array.ndim in (0, 1, 3) else 1
    dims = normalize_dims(op, dim, input.array.ndim)  # checked on 0-d inputs too: only -1 and 0 fit
    return dims[0] if dims else None


class LogSoftmax(Primitive):
    name = "_log_softmax"  # ATen's
    save_output = True

    @staticmethod
    def forward(xp, x, dim):
        if dim is None:
            return x - x
        shifted = x - xp.max(x, axis=dim, keepdims=True) if x.size else x
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=dim, keepdims=True))

    @staticmethod
    def backward(ctx, g, dim):
        if dim is None:
            return g * 0
        return apply(LogSoftmaxBackward, g, ctx.output, dim=dim)


class LogSoftmaxBackward(Primitive):
    """``g - exp(out) * g.sum(dim)``, log_softmax's gradient, in one step instead of four ops; its own
    backward keeps log_softmax twice differentiable."""

    name = "_log_softmax_backward_data"  # ATen's
    save_inputs = True

    @staticmethod
    def forward(xp, g, out, dim):
        return g - xp.exp(out) * xp.sum(g, axis=dim, keepdims=True)

    @staticmethod
    def backward(ctx, gg, dim):
        g, out = ctx.inputs
        need_g, need_out = ctx.needs_input_grad
        e = out.exp()
        grad_g = gg - (gg * e).sum(dim, keepdim=True) if need_g else None
        grad_out = -(gg * e) * g.sum(dim, keepdim=True) if need_out else None
        return grad_g, grad_out


class Softmax(Primitive):
    name = "_softmax"  # ATen's
    save_output = True

    @staticmethod
    def forward(xp, x, dim):
        if dim is None:
            return x - x + 1
        if not x.size:
            return x
        e = x - xp.max(x, axis=dim, keepdims=True)  # one new array, then exp and divide in place
        xp.exp(e, out=e)
        e /= xp.sum(e, axis=dim, keepdims=True)
        return e

    @staticmethod
    def backward(ctx, g, dim):
        if dim is None:
            return g * 0
        out = ctx.output
        if is_grad_enabled():  # create_graph: the gradient must itself be differentiable
            return out * (g - (g * out).sum(dim, keepdim=True))
        device = g.device
        backward = SoftmaxBackwardData.kernels.get(device.type, SoftmaxBackwardData.forward)
        return wrap(backward(device.xp, g.array, out.array, dim), device)


class SoftmaxBackwardData(Primitive):
    """softmax's input gradient on arrays, ``output * (grad - sum(grad * output, dim))`` (ATen's
    ``_softmax_backward_data``): run by :class:`Softmax`'s backward outside create_graph, and a primitive of
    its own so that a device plugin can register a fused kernel for it."""

    name = "_softmax_backward_data"
    differentiable = False

    @staticmethod
    def forward(xp, g, out, dim):
        grad = g * out
        total = xp.sum(grad, axis=dim, keepdims=True)
        grad -= out * total
        return grad


def _softmax_samples(make):
    yield Sample((make(3, 5), 1), name="rows")
    yield Sample((make(3, 5), 0), name="columns")
    yield Sample((make(2, 3, 4), -1), name="last dim")
    yield Sample((make(5), 0), name="vector")
    yield Sample((make(), 0), name="zero-dim")
    yield Sample((make(3, 4, noncontiguous=True), 1), name="non-contiguous")
    yield Sample((make(3, 5), 1), {"dtype": None}, name="dtype=None")


def _prepare(op, input, dim, dtype):
    check_tensor(op, "input", input)
    if dtype is not None:
        input = input.to(dtype)
    float_input(op, input)
    return input, _softmax_dim(op, input, dim)


def _log_softmax_composite(input, dim=None, _stacklevel=3, dtype=None):
    """log_softmax's definition, x - logsumexp(x): what the fused primitive is checked against."""
    input, dim = _prepare("log_softmax", input, dim, dtype)
    return input * 0 if dim is None else input - input.logsumexp(dim, keepdim=True)


def _softmax_composite(input, dim=None, _stacklevel=3, dtype=None):
    """softmax's definition, exp(x) / sum(exp(x)) after a shift by the max."""
    input, dim = _prepare("softmax", input, dim, dtype)
    if dim is None:
        return input * 0 + 1
    e = (input - input.amax(dim, keepdim=True).detach()).exp()
    return e / e.sum(dim, keepdim=True)


def _log_softmax_stability(make):
    yield from extreme_inputs(make, dim=-1)
    # one huge logit: exactly 0 for it and minus the gap for the other
    yield StabilityInput(Sample((make.tensor([1e4, 0.0]), 0)), expected=[0.0, -1e4], rtol=0, atol=0)


@ops.op(primitive=LogSoftmax, namespaces=("ember", "Tensor", "functional"), samples=_softmax_samples, reference=_log_softmax_composite,
        stability=_log_softmax_stability)
def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(input)) along ``dim``, without overflow for large logits (``torch.log_softmax``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is not floating point.
        OutOfRangeError: ``dim`` is out of range for ``input``.

    PyTorch: ``torch.log_softmax``."""
    input, dim = _prepare("log_softmax", input, dim, dtype)
    return apply(LogSoftmax, input, dim=dim)


def _softmax_errors(make):
    yield ErrorInput(Sample((make(3, dtype="int64"), 0)), TypeError, r"softmax\(\): not implemented for input of dtype int64")


@ops.op(primitive=Softmax, namespaces=("ember", "Tensor", "functional"), samples=_softmax_samples, reference=_softmax_composite,
        errors=_softmax_errors, stability=lambda make: extreme_inputs(make, dim=-1))
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(input) normalised to sum to one along ``dim`` (``torch.softmax``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is not floating point.
        OutOfRangeError: ``dim`` is out of range for ``input``.

    PyTorch: ``torch.softmax``."""
    input, dim = _prepare("softmax", input, dim, dtype)
    return apply(Softmax, input, dim=dim)


@ops.op(namespaces=F, samples=_softmax_samples)
def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-input) along ``dim`` (``F.softmin``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is not floating point.
        OutOfRangeError: ``dim`` is out of range for ``input``.

    PyTorch: ``torch.nn.functional.softmin``."""
    input, dim = _prepare("softmin", input, dim, dtype)
    return apply(Softmax, -input, dim=dim)
