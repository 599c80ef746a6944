"""Normalization layers' functional forms: batch, layer, group, instance and RMS normalization.

All are composites of ember ops (mean, subtract, divide by a square root), so first and higher
derivatives come for free. Running statistics are updated in place on the backend arrays, outside
the graph, as PyTorch does.
"""

from __future__ import annotations

import math

import numpy as np

from ember.autograd.grad_mode import is_grad_enabled, no_grad
from ember.ops import (ArgumentError, DTypeError, DimensionError, ErrorInput, OpTable, Primitive, Sample, ShapeError,
                       apply, check_tensor, float_input)
from ember.tensor import Tensor
from ember.ops import bump_version, wrap

ops = OpTable()


def _standardize(x, dims, eps):
    """(x - mean) / sqrt(biased var + eps) over ``dims``, and the biased variance."""
    mean = x.mean(dims, keepdim=True)
    diff = x - mean
    var = (diff * diff).mean(dims, keepdim=True)
    return diff / (var + eps).sqrt(), mean, var


def _affine(y, weight, bias, shape):
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _update_running(op, running, value, momentum):
    """running = (1 - momentum) * running + momentum * value, in place (no graph, version bumped)."""
    if running is None:
        return
    check_tensor(op, "running stats", running)
    data = running.array
    data *= 1 - momentum
    data += momentum * value.array.reshape(data.shape).astype(data.dtype, copy=False)
    bump_version(running)


def _check_channels(op, name, t, channels):
    if t is not None:
        check_tensor(op, name, t)
        if t.numel() != channels:
            raise ShapeError(f"{op}(): expected {name} to have {channels} elements (one per channel), got shape "
                             f"{tuple(t.shape)}")


def _as_dtype_of(t, input):
    """Statistics and affine parameters in the input's dtype: a float16 input gives a float16 result."""
    return t if t is None or t.dtype is input.dtype else t.to(input.dtype)


def _check_float(op, input):
    float_input(op, input)


def _bn_samples(make):
    rm = lambda c: make(c, requires_grad=False)  # noqa: E731
    rv = lambda c: make(c, low=0.5, high=2.0, requires_grad=False)  # noqa: E731
    yield Sample((make(4, 3), rm(3), rv(3), make(3), make(3)), {"training": True}, name="2-D, training, affine")
    yield Sample((make(2, 3, 4), None, None), {"training": True, "eps": 1e-3}, name="3-D, no running stats")
    yield Sample((make(2, 2, 3, 3), rm(2), rv(2), make(2), None), {"training": True, "momentum": 0.3},
                 name="4-D, weight only")
    yield Sample((make(2, 3, 2), rm(3), rv(3), make(3), make(3)), name="eval")


@ops.op(namespaces=("functional",), samples=_bn_samples)
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalize each channel (dim 1) over batch and spatial dims; in training, batch statistics are used and
    ``running_mean``/``running_var`` (unbiased) updated in place with ``momentum``
    (``torch.nn.functional.batch_norm``).

    Shape:
        - input: ``(N, C, *)``, floating point.
        - weight, bias, running_mean, running_var: ``(C,)`` or None.
        - output: the shape and dtype of ``input``.

    Raises:
        DimensionError: ``input`` has fewer than 2 dims.
        ShapeError: a parameter or running statistic does not have C elements.
        ArgumentError: training with one value per channel, or not training without running statistics.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` or a parameter is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.batch_norm``."""
    _check_float("batch_norm", input)
    if input.dim() < 2:
        raise DimensionError(f"batch_norm(): expected input with at least 2 dims (N, C, ...), got shape "
                             f"{tuple(input.shape)}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_channels("batch_norm", name, t, c)
    shape = (1, c) + (1,) * (input.dim() - 2)
    dims = (0,) + tuple(range(2, input.dim()))
    weight, bias = (_as_dtype_of(t, input) for t in (weight, bias))
    if not training and running_mean is not None and running_var is not None:
        return _batch_norm_inference(input, running_mean, running_var, weight, bias, eps, shape)
    if training:
        count = input.numel() // max(c, 1)
        if count == 0:  # an empty batch normalizes to an empty result and leaves the statistics alone
            return _affine(input * 1, weight, bias, shape)
        if count == 1:
            raise ArgumentError(f"batch_norm(): expected more than 1 value per channel when training, got input size "
                                f"{tuple(input.shape)}")
        y, mean, var = _standardize(input, dims, eps)
        with no_grad():
            _update_running("batch_norm", running_mean, mean.detach(), momentum)
            _update_running("batch_norm", running_var, var.detach() * (count / (count - 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ArgumentError("batch_norm(): running_mean and running_var must be given when training=False")
        mean, var = _as_dtype_of(running_mean, input), _as_dtype_of(running_var, input)
        y = (input - mean.reshape(shape)) / (var.reshape(shape) + eps).sqrt()
    return _affine(y, weight, bias, shape)


def _batch_norm_inference(input, mean, var, weight, bias, eps, shape):
    """Eval-mode batch norm as PyTorch's CPU kernel computes it: input * alpha + beta with one alpha =
    weight / sqrt(var + eps) and one beta = bias - mean * alpha per channel (two passes over the input),
    alpha and beta computed in the statistics' dtype and applied in the input's."""
    alpha = 1 / (var + eps).sqrt()
    if weight is not None:
        alpha = alpha * weight
    beta = -mean * alpha if bias is None else bias - mean * alpha
    # float16 input with float32 statistics (a half model's BatchNorm buffers): computed in float32, returned in
    # the input's dtype, as PyTorch's mixed-dtype kernel does
    return (input * alpha.reshape(shape) + beta.reshape(shape)).to(input.dtype)


def _normalized_dims(op, input, normalized_shape):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    n = len(shape)
    if n == 0 or n > input.dim() or tuple(input.shape[input.dim() - n:]) != tuple(shape):
        raise DimensionError(f"{op}(): given normalized_shape={list(shape)}, expected input with shape [*, "
                             f"{', '.join(map(str, shape))}], but got input of size {list(input.shape)}")
    return shape, tuple(range(input.dim() - n, input.dim()))


def _ln_samples(make):
    yield Sample((make(3, 4), (4,), make(4), make(4)), name="affine")
    yield Sample((make(2, 3, 4), [3, 4]), {"eps": 1e-3}, name="two dims, no affine")
    yield Sample((make(2, 5, noncontiguous=True), [5], make(5), None), name="weight only, non-contiguous")
    yield Sample((make(2, 3, 4), [4], None, make(4)), name="bias only")
    yield Sample((make(5), [5], make(5), make(5)), name="one row")


def _trailing(x, n):
    return tuple(range(x.ndim - n, x.ndim))


def _layer_norm_stats(xp, x, n, eps):
    """x - mean and 1 / sqrt(biased var + eps) over the trailing ``n`` dims, on arrays."""
    dims = _trailing(x, n)
    centered = x - x.mean(axis=dims, keepdims=True)
    var = xp.mean(centered * centered, axis=dims, keepdims=True)
    var += eps
    return centered, 1 / xp.sqrt(var)


def _layer_norm_grads(xp, g, x, weight, n, eps, need):
    """layer_norm's closed-form gradients on arrays: dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat *
    xhat)) with dxhat = g * weight; dweight = sum(g * xhat), dbias = sum(g) over the leading dims."""
    dims, lead = _trailing(x, n), tuple(range(x.ndim - n))
    xhat, rstd = _layer_norm_stats(xp, x, n, eps)
    xhat *= rstd
    need_x, need_w, need_b = need
    gw = (g * xhat).sum(axis=lead) if need_w else None
    gb = g.sum(axis=lead) if need_b else None
    gx = None
    if need_x:
        dxhat = g * weight if weight is not None else g.copy()
        projection = xp.mean(dxhat * xhat, axis=dims, keepdims=True)
        dxhat -= dxhat.mean(axis=dims, keepdims=True)
        xhat *= projection
        dxhat -= xhat
        dxhat *= rstd
        gx = dxhat
    return gx, gw, gb


def _layer_norm_grads_ops(g, x, weight, n, eps, need):
    """The same gradients written with ops, so that create_graph differentiates them again."""
    dims, lead = _trailing(x, n), tuple(range(x.dim() - n))
    mean = x.mean(dims, keepdim=True)
    centered = x - mean
    rstd = ((centered * centered).mean(dims, keepdim=True) + eps).rsqrt()
    xhat = centered * rstd
    need_x, need_w, need_b = need
    gw = (g * xhat).sum(lead) if need_w and lead else (g * xhat if need_w else None)
    gb = (g.sum(lead) if lead else g) if need_b else None
    gx = None
    if need_x:
        dxhat = g * weight if weight is not None else g
        gx = (dxhat - dxhat.mean(dims, keepdim=True) - xhat * (dxhat * xhat).mean(dims, keepdim=True)) * rstd
    return gx, gw, gb


class LayerNorm(Primitive):
    """layer_norm as one primitive: a fused forward (mean, variance, scale and shift in place on one
    temporary) and a closed-form backward, where the composite takes 9 ops forward and ~20 backward."""

    name = "native_layer_norm"  # ATen's; its node prints NativeLayerNormBackward0, as PyTorch's
    save_inputs = True

    @staticmethod
    def forward(xp, x, weight, bias, n, eps):
        y, rstd = _layer_norm_stats(xp, x, n, eps)
        y *= rstd
        if weight is not None:
            y *= weight
        if bias is not None:
            y += bias
        return y

    @staticmethod
    def backward(ctx, g, n, eps):
        x, weight, bias = ctx.inputs
        if is_grad_enabled():  # create_graph: the gradients must themselves be differentiable
            return _layer_norm_grads_ops(g, x, weight, n, eps, ctx.needs_input_grad)
        device = g.device
        backward = LayerNormBackward.kernels.get(device.type, LayerNormBackward.forward)
        grads = backward(device.xp, g.array, x.array, None if weight is None else weight.array, n, eps,
                         tuple(ctx.needs_input_grad))
        return tuple(None if a is None else wrap(a, device) for a in grads)


class LayerNormBackward(Primitive):
    """layer_norm's gradients on arrays (ATen's ``native_layer_norm_backward``): ``forward(xp, grad, input,
    weight, n, eps, need)`` returns (grad_input, grad_weight, grad_bias), each None where ``need`` (three
    bools) says it is not wanted. Run by :class:`LayerNorm`'s backward outside create_graph, and a primitive of
    its own so that a device plugin can register a fused kernel for it."""

    name = "native_layer_norm_backward"
    num_outputs = 3
    differentiable = False

    @staticmethod
    def forward(xp, g, x, weight, n, eps, need):
        return _layer_norm_grads(xp, g, x, weight, n, eps, need)


def _layer_norm_composite(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """layer_norm's definition in ops: what the fused primitive is checked against."""
    _check_float("layer_norm", input)
    shape, dims = _normalized_dims("layer_norm", input, normalized_shape)
    y, _, _ = _standardize(input, dims, eps)
    return _affine(y, weight, bias, shape)


def _fits(param, input, shape):
    return param is None or (isinstance(param, Tensor) and param.dtype is input.dtype and tuple(param.shape) == shape)


def _layer_norm_errors(make):
    yield ErrorInput(Sample((make(2, 4), (3,))), RuntimeError, r"layer_norm\(\).*normalized_shape=\[3\].*\[2, 4\]")


@ops.op(primitive=LayerNorm, namespaces=("ember", "functional"), samples=_ln_samples, errors=_layer_norm_errors,
        reference=_layer_norm_composite)
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the trailing ``normalized_shape`` dims, then scale and shift elementwise
    (``torch.nn.functional.layer_norm``).

    Shape:
        - input: ``(*, *normalized_shape)``, floating point.
        - weight, bias: ``normalized_shape`` or None.
        - output: the shape and dtype of ``input``.

    Raises:
        DimensionError: ``input``'s trailing dims are not ``normalized_shape``.
        ShapeError: ``weight`` or ``bias`` is not ``normalized_shape``.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.layer_norm``."""
    _check_float("layer_norm", input)
    shape, dims = _normalized_dims("layer_norm", input, normalized_shape)
    if _fits(weight, input, shape) and _fits(bias, input, shape):
        return apply(LayerNorm, input, weight, bias, n=len(shape), eps=eps)
    y, _, _ = _standardize(input, dims, eps)  # mixed dtypes or reshaped parameters: the composite promotes
    return _affine(y, weight, bias, shape)


def _gn_samples(make):
    yield Sample((make(2, 4, 3), 2, make(4), make(4)), name="affine")
    yield Sample((make(2, 6, 2, 2), 3), {"eps": 1e-3}, name="4-D, no affine")
    yield Sample((make(3, 2), 1), name="2-D, one group")


def _group_norm_errors(make):
    yield ErrorInput(Sample((make(2, 6, 3), 4)), ValueError,
                     r"group_norm\(\).*channels in input \(6\).*num_groups \(4\)")


@ops.op(namespaces=("ember", "functional"), samples=_gn_samples, errors=_group_norm_errors)
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalize over each group of ``C / num_groups`` channels and all spatial dims, per sample; then a
    per-channel affine (``torch.nn.functional.group_norm``).

    Shape:
        - input: ``(N, C, *)``, C divisible by ``num_groups``; floating point.
        - weight, bias: ``(C,)`` or None.
        - output: the shape and dtype of ``input``.

    Raises:
        DimensionError: ``input`` has fewer than 2 dims.
        ArgumentError: C is not divisible by ``num_groups``.
        ShapeError: ``weight`` or ``bias`` does not have C elements.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` or a parameter is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.group_norm``."""
    _check_float("group_norm", input)
    if input.dim() < 2:
        raise DimensionError(f"group_norm(): expected input with at least 2 dims (N, C, ...), got shape "
                             f"{tuple(input.shape)}")
    b, c = input.shape[:2]
    if num_groups < 1 or c % num_groups:
        raise ArgumentError(f"group_norm(): expected number of channels in input ({c}) to be divisible by "
                            f"num_groups ({num_groups}), input shape {tuple(input.shape)}")
    _check_channels("group_norm", "weight", weight, c)
    _check_channels("group_norm", "bias", bias, c)
    y, _, _ = _standardize(input.reshape(b, num_groups, -1), (2,), eps)
    return _affine(y.reshape(input.shape), weight, bias, (1, c) + (1,) * (input.dim() - 2))


def _in_samples(make):
    rm = lambda c: make(c, requires_grad=False)  # noqa: E731
    rv = lambda c: make(c, low=0.5, high=2.0, requires_grad=False)  # noqa: E731
    yield Sample((make(2, 3, 4),), name="plain")
    yield Sample((make(2, 2, 3, 3), rm(2), rv(2), make(2), make(2)), {"momentum": 0.2}, name="running, affine")
    yield Sample((make(2, 3, 4), rm(3), rv(3)), {"use_input_stats": False}, name="running stats")


@ops.op(namespaces=("functional",), samples=_in_samples)
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalize each (sample, channel) over its spatial dims; running stats, when given, are updated with the
    batch mean of the instance statistics (``torch.nn.functional.instance_norm``).

    Shape:
        - input: ``(N, C, *)`` with at least one spatial dim, floating point.
        - weight, bias, running_mean, running_var: ``(C,)`` or None.
        - output: the shape and dtype of ``input``.

    Raises:
        DimensionError: ``input`` has fewer than 3 dims.
        ShapeError: a parameter or running statistic does not have C elements.
        ArgumentError: using input statistics with one spatial element, or ``use_input_stats=False`` without
            running statistics.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` or a parameter is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.instance_norm``."""
    _check_float("instance_norm", input)
    if input.dim() < 3:
        raise DimensionError(f"instance_norm(): expected input with at least 3 dims (N, C, L...), got shape "
                             f"{tuple(input.shape)}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_channels("instance_norm", name, t, c)
    shape = (1, c) + (1,) * (input.dim() - 2)
    dims = tuple(range(2, input.dim()))
    if use_input_stats:
        count = math.prod(input.shape[2:])
        if count <= 1:
            raise ArgumentError(f"instance_norm(): expected more than 1 spatial element when training, got input size "
                                f"{tuple(input.shape)}")
        y, mean, var = _standardize(input, dims, eps)
        with no_grad():
            _update_running("instance_norm", running_mean, mean.detach().mean(0), momentum)
            _update_running("instance_norm", running_var, (var.detach() * (count / (count - 1))).mean(0), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ArgumentError("instance_norm(): running_mean and running_var are needed when use_input_stats=False")
        y = (input - running_mean.reshape(shape)) / (running_var.reshape(shape) + eps).sqrt()
    return _affine(y, weight, bias, shape)


def _rms_samples(make):
    yield Sample((make(3, 4), (4,), make(4)), name="weight")
    yield Sample((make(2, 3, 4), [3, 4]), {"eps": 1e-3}, name="two dims, eps")
    yield Sample((make(2, 5), [5]), name="default eps")


@ops.op(namespaces=("ember", "functional"), samples=_rms_samples)
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the trailing ``normalized_shape`` dims, times ``weight``; ``eps`` defaults to
    the dtype's machine epsilon (``torch.nn.functional.rms_norm``).

    Shape:
        - input: ``(*, *normalized_shape)``, floating point.
        - weight: ``normalized_shape`` or None.
        - output: the shape and dtype of ``input``.

    Raises:
        DimensionError: ``input``'s trailing dims are not ``normalized_shape``.
        ShapeError: ``weight`` is not ``normalized_shape``.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.rms_norm``."""
    _check_float("rms_norm", input)
    shape, dims = _normalized_dims("rms_norm", input, normalized_shape)
    if eps is None:
        eps = float(np.finfo(input.dtype.numpy).eps)
    y = input / ((input * input).mean(dims, keepdim=True) + eps).sqrt()
    return y if weight is None else y * weight
