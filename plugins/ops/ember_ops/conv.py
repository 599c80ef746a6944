"""Convolutions with 1 to 3 spatial dims (grouped, strided, dilated, padded, transposed) and im2col
``unfold``/``fold``.

Three primitives carry every convolution: :class:`Convolution` (x, w -> y), :class:`ConvInputGrad` (its
adjoint in x, which is also the transposed convolution) and :class:`ConvWeightGrad` (its adjoint in
w). All three are bilinear, so each one's backward is written with the other two and derivatives of
any order work. Each runs one channel-major im2col (:func:`columns`: one strided slice copy per kernel
offset, into a (C, *kernel, B, *out) matrix every group multiplies without another copy) and one GEMM
per group; the adjoint :func:`fold_columns` loops over kernel offsets only, never over batch, channels
or pixels.

conv1d/2d/3d, when recorded for backward, run as :class:`ConvColumns` and :class:`ColumnsConvolution`
(pointwise and depthwise convs, which build no columns, excepted): the latter saves the columns, so the
weight gradient reuses them instead of building them again.
"""
from __future__ import annotations

import itertools
import math

from ember.autograd.grad_mode import is_grad_enabled
from ember.ops import (ArgumentError, DTypeError, DimensionError, ErrorInput, OpTable, Primitive, Sample, ShapeError,
                       apply, check_tensor)

from .conv_composite import conv_composite
from .linalg import product

ops = OpTable()


# -- array kernels ------------------------------------------------------------------------------------

def windows(xp, x, kernel, stride, dilation, padding, pad_value=0):
    """A strided view (B, C, *out, *kernel) of ``x`` (B, C, *spatial) zero-padded by ``padding`` pairs."""
    n = len(kernel)
    if any(lo or hi for lo, hi in padding):
        x = xp.pad(x, ((0, 0), (0, 0)) + tuple(padding), constant_values=pad_value)
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    win = xp.lib.stride_tricks.sliding_window_view(x, extent, axis=tuple(range(2, 2 + n)))
    return win[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)
               + tuple(slice(None, None, d) for d in dilation)]


def _offsets(kernel):
    """Every kernel offset, in row-major order."""
    return itertools.product(*(range(k) for k in kernel))


def _taps(offset, dilation, stride, out):
    """The strided slices, per spatial dim, that kernel ``offset`` reads for each of the ``out`` outputs."""
    return tuple(slice(o * d, o * d + st * (m - 1) + 1, st) for o, d, st, m in zip(offset, dilation, stride, out))


def columns(xp, x, kernel, stride, dilation, padding, out=None):
    """im2col, channel-major: (C, *kernel, B, *out) from ``x`` (B, C, *spatial) zero-padded by ``padding`` pairs.

    One strided slice copy per kernel offset (each a (C, B, *out) block read from the channel-first input),
    so ``reshape(groups, C/groups * prod(kernel), B * prod(out))`` is the GEMM operand of every group
    without another copy. ``out`` (default: as many blocks as fit) crops the blocks to a given output size.
    """
    n = len(kernel)
    b, c = x.shape[:2]
    size = x.shape[2:]
    if out is None:
        out = block_counts(size, kernel, stride, padding, dilation)
    source = x.transpose((1, 0) + tuple(range(2, 2 + n)))  # (C, B, *spatial), a view
    if any(lo or hi for lo, hi in padding):
        padded = xp.zeros((c, b) + tuple(s + lo + hi for s, (lo, hi) in zip(size, padding)), dtype=x.dtype)
        padded[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(size, padding))] = source
        source = padded
    cols = xp.empty((c,) + tuple(kernel) + (b,) + tuple(out), dtype=x.dtype)
    for offset in _offsets(kernel):
        cols[(slice(None),) + offset] = source[(slice(None), slice(None)) + _taps(offset, dilation, stride, out)]
    return cols


def fold_columns(xp, cols, size, stride, dilation, padding):
    """The adjoint of :func:`columns`: channel-major columns (C, *kernel, B, *out) summed back into
    (B, C, *size), one strided add per kernel offset; the padding is cropped away at the end."""
    n = len(size)
    c, kernel, b, out = cols.shape[0], cols.shape[1:1 + n], cols.shape[1 + n], cols.shape[2 + n:]
    buf = xp.zeros((c, b) + tuple(s + lo + hi for s, (lo, hi) in zip(size, padding)), dtype=cols.dtype)
    for offset in _offsets(kernel):
        buf[(slice(None), slice(None)) + _taps(offset, dilation, stride, out)] += cols[(slice(None),) + offset]
    buf = buf[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(size, padding))]
    return xp.ascontiguousarray(buf.transpose((1, 0) + tuple(range(2, 2 + n))))


def _grouped_product(xp, a, b):
    """``a @ b`` for (groups, m, k) and (groups, k, n) operands: one plain GEMM when there is one group."""
    if a.shape[0] == 1:
        return product(xp, a[0], b[0])[None]
    return product(xp, a, b)


def _output_rows(xp, g, groups):
    """``g`` (B, O, *out) as (groups, O/groups, B * prod(out)): the layout the columns multiply with."""
    b, o = g.shape[:2]
    return xp.ascontiguousarray(g.swapaxes(0, 1)).reshape(groups, o // groups, b * math.prod(g.shape[2:]))


def _columns_product(xp, cols, w, groups):
    """The convolution of channel-major ``cols`` with ``w``: one GEMM per group, as (B, O, *out)."""
    n = w.ndim - 2
    o = w.shape[0]
    b, out = cols.shape[1 + n], cols.shape[2 + n:]
    k = math.prod(w.shape[1:])  # C/groups * prod(kernel)
    y = _grouped_product(xp, w.reshape(groups, o // groups, k), cols.reshape(groups, k, b * math.prod(out)))
    return xp.ascontiguousarray(y.reshape((o, b) + out).swapaxes(0, 1))


def _columns_input_grad(xp, g, w, groups):
    """The gradient of :func:`_columns_product` in its columns: (C, *kernel, B, *out)."""
    c = w.shape[1] * groups
    wm = w.reshape(groups, w.shape[0] // groups, math.prod(w.shape[1:]))
    cols = _grouped_product(xp, wm.transpose(0, 2, 1), _output_rows(xp, g, groups))
    return cols.reshape((c,) + w.shape[2:] + g.shape[:1] + g.shape[2:])


def _columns_weight_grad(xp, cols, g, groups):
    """The gradient of :func:`_columns_product` in its weight: (O, C/groups, *kernel)."""
    c, kernel = cols.shape[0], cols.shape[1:1 + g.ndim - 2]
    cm = cols.reshape(groups, (c // groups) * math.prod(kernel), math.prod(cols.shape[1 + len(kernel):]))
    gw = _grouped_product(xp, _output_rows(xp, g, groups), cm.transpose(0, 2, 1))
    return gw.reshape((g.shape[1], c // groups) + tuple(kernel))


def col2im(xp, cols, size, kernel, stride, dilation, padding):
    """Sum ``cols`` (*lead, *out, *kernel) back into an array (*lead, *size): the adjoint of :func:`windows`.

    One strided add per kernel offset; the padding is cropped away at the end.
    """
    n = len(kernel)
    lead = cols.shape[:cols.ndim - 2 * n]
    out = cols.shape[cols.ndim - 2 * n:cols.ndim - n]
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(size, padding))
    buf = xp.zeros(lead + padded, dtype=cols.dtype)
    for offset in _offsets(kernel):
        buf[(Ellipsis,) + _taps(offset, dilation, stride, out)] += cols[(Ellipsis,) + offset]
    return buf[(Ellipsis,) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(size, padding))]


def _pointwise_conv(xp, x, w):
    """A 1x1, stride-1, unpadded, ungrouped conv is one matrix product per image, (O, C) @ (C, pixels),
    already in (B, O, *spatial) order: no im2col copy and no transpose of the output."""
    b, c = x.shape[:2]
    y = product(xp, w.reshape(w.shape[0], c), x.reshape(b, c, -1))
    return y.reshape((b, w.shape[0]) + x.shape[2:])


def _depthwise_conv(xp, x, w, stride, padding, dilation):
    """groups == in == out channels: one multiply-add of a shifted slice per kernel offset, instead of an
    im2col and a matmul with a single column per group. Image by image, so the operands stay in cache."""
    n = w.ndim - 2
    if n == 2 and stride == (1, 1):
        return _depthwise_conv2d_flat(xp, x, w, padding, dilation)
    win = windows(xp, x, w.shape[2:], stride, dilation, padding)  # (B, C, *out, *kernel), a view
    y = xp.empty(win.shape[:2 + n], dtype=xp.result_type(x, w))
    term = xp.empty_like(y[:1])
    taps = [(offset, w[(slice(None), 0) + offset].reshape((1, -1) + (1,) * n))
            for offset in itertools.product(*(range(k) for k in w.shape[2:]))]
    for b in range(y.shape[0]):
        out, image = y[b:b + 1], win[b:b + 1]
        xp.multiply(image[(Ellipsis,) + taps[0][0]], taps[0][1], out=out)
        for offset, tap in taps[1:]:
            out += xp.multiply(image[(Ellipsis,) + offset], tap, out=term)
    return y


def _depthwise_conv2d_flat(xp, x, w, padding, dilation):
    """Stride-1 depthwise conv2d on each padded image flattened to one row per channel: every kernel offset is
    then a single shift of that row, so numpy's inner loops run over whole images rather than short image
    rows. The outputs computed in the padding columns are cropped at the end."""
    (top, bottom), (left, right) = padding
    kh, kw = w.shape[2:]
    dh, dw = dilation
    b, c, h, wd = x.shape
    height, width = h + top + bottom, wd + left + right
    out_h, out_w = height - dh * (kh - 1), width - dw * (kw - 1)
    # one spare row at the bottom: the last offsets read up to kw - 1 elements past the last row
    padded = xp.zeros((b, c, height + 1, width), dtype=x.dtype)
    padded[:, :, top:top + h, left:left + wd] = x
    flat = padded.reshape(b, c, -1)
    length = out_h * width
    y = xp.empty((b, c, length), dtype=xp.result_type(x, w))
    term = xp.empty((1, c, length), dtype=y.dtype)
    taps = [(i * dh * width + j * dw, w[:, 0, i, j].reshape(1, -1, 1)) for i in range(kh) for j in range(kw)]
    for image in range(b):
        out, row = y[image:image + 1], flat[image:image + 1]
        xp.multiply(row[..., taps[0][0]:taps[0][0] + length], taps[0][1], out=out)
        for shift, tap in taps[1:]:
            out += xp.multiply(row[..., shift:shift + length], tap, out=term)
    return xp.ascontiguousarray(y.reshape(b, c, out_h, width)[..., :out_w])


def _conv_forward(xp, x, w, stride, padding, dilation, groups):
    unpadded = not any(lo or hi for lo, hi in padding)
    if groups == 1 and unpadded and all(k == 1 for k in w.shape[2:]) and all(st == 1 for st in stride):
        return _pointwise_conv(xp, x, w)
    if groups == x.shape[1] == w.shape[0] and groups > 1:
        return _depthwise_conv(xp, x, w, stride, padding, dilation)
    return _columns_product(xp, columns(xp, x, w.shape[2:], stride, dilation, padding), w, groups)


def _conv_input_grad(xp, g, w, size, stride, padding, dilation, groups):
    return fold_columns(xp, _columns_input_grad(xp, g, w, groups), size, stride, dilation, padding)


def _conv_weight_grad(xp, x, g, kernel, stride, padding, dilation, groups):
    cols = columns(xp, x, kernel, stride, dilation, padding, out=g.shape[2:])
    return _columns_weight_grad(xp, cols, g, groups)


# -- primitives -------------------------------------------------------------------------------------

class Convolution(Primitive):
    """y = conv(x, w): cross-correlation over the trailing spatial dims, as PyTorch's convNd."""

    save_inputs = True

    @staticmethod
    def forward(xp, x, w, stride, padding, dilation, groups):
        return _conv_forward(xp, x, w, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, g, stride, padding, dilation, groups):
        x, w = ctx.inputs
        need_x, need_w = ctx.needs_input_grad
        attrs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        gx = apply(ConvInputGrad, g, w, size=tuple(x.shape[2:]), **attrs) if need_x else None
        gw = apply(ConvWeightGrad, x, g, kernel=tuple(w.shape[2:]), **attrs) if need_w else None
        return gx, gw


class ConvInputGrad(Primitive):
    """x = conv^T(g, w) of spatial ``size``: the gradient of a conv in its input, and conv_transpose."""

    save_inputs = True

    @staticmethod
    def forward(xp, g, w, size, stride, padding, dilation, groups):
        return _conv_input_grad(xp, g, w, size, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, gx, size, stride, padding, dilation, groups):
        g, w = ctx.inputs
        need_g, need_w = ctx.needs_input_grad
        attrs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        dg = apply(Convolution, gx, w, **attrs) if need_g else None
        dw = apply(ConvWeightGrad, gx, g, kernel=tuple(w.shape[2:]), **attrs) if need_w else None
        return dg, dw


class ConvWeightGrad(Primitive):
    """w = sum over batch and pixels of g x windows(x): the gradient of a conv in its weight."""

    save_inputs = True

    @staticmethod
    def forward(xp, x, g, kernel, stride, padding, dilation, groups):
        return _conv_weight_grad(xp, x, g, kernel, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, gw, kernel, stride, padding, dilation, groups):
        x, g = ctx.inputs
        need_x, need_g = ctx.needs_input_grad
        attrs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        dx = apply(ConvInputGrad, g, gw, size=tuple(x.shape[2:]), **attrs) if need_x else None
        dg = apply(Convolution, x, gw, **attrs) if need_g else None
        return dx, dg


class ConvColumns(Primitive):
    """x (B, C, *spatial) -> its channel-major im2col (C, *kernel, B, *out): what a convolution multiplies.

    conv2d in training runs as this and one matmul, so the matmul keeps the columns for the weight
    gradient instead of building them a second time."""

    @staticmethod
    def forward(xp, x, kernel, stride, padding, dilation):
        return columns(xp, x, kernel, stride, dilation, padding)

    @staticmethod
    def backward(ctx, g, kernel, stride, padding, dilation):
        return apply(ConvColumnsFold, g, size=tuple(ctx.input_shapes[0][2:]), stride=stride, padding=padding,
                     dilation=dilation)


class ConvColumnsFold(Primitive):
    """Channel-major columns (C, *kernel, B, *out) summed back into (B, C, *size): ConvColumns' adjoint."""

    @staticmethod
    def forward(xp, cols, size, stride, padding, dilation):
        return fold_columns(xp, cols, size, stride, dilation, padding)

    @staticmethod
    def backward(ctx, g, size, stride, padding, dilation):
        kernel = tuple(ctx.input_shapes[0][1:1 + len(size)])
        return apply(ConvColumns, g, kernel=kernel, stride=stride, padding=padding, dilation=dilation)


class ColumnsConvolution(Primitive):
    """y (B, O, *out) = the convolution of channel-major columns (C, *kernel, B, *out) with w: one GEMM per
    group. Its backward is two GEMMs written with ops (so every derivative order follows); the weight
    gradient multiplies the columns saved here, built once in the forward."""

    grad_fn = "ConvolutionBackward0"  # the convolution's output node, named as PyTorch's
    save_inputs = True

    @staticmethod
    def forward(xp, cols, w, groups):
        return _columns_product(xp, cols, w, groups)

    @staticmethod
    def backward(ctx, g, groups):
        cols, w = ctx.inputs
        need_cols, need_w = ctx.needs_input_grad
        o, k = w.shape[0], math.prod(w.shape[1:])  # k: C/groups * prod(kernel)
        pixels = math.prod(cols.shape[w.dim() - 1:])  # B * prod(out)
        lead = () if groups == 1 else (groups,)  # one group: plain 2-D GEMMs
        rows = g.transpose(0, 1).reshape(lead + (o // groups, pixels))
        wm = w.reshape(lead + (o // groups, k))
        grad_cols = (wm.mT @ rows).reshape(cols.shape) if need_cols else None
        grad_w = (rows @ cols.reshape(lead + (k, pixels)).mT).reshape(w.shape) if need_w else None
        return grad_cols, grad_w


def _conv_from_columns(x, weight, stride, padding, dilation, groups):
    """conv(x, weight) as ConvColumns then ColumnsConvolution: the weight gradient reuses the columns."""
    cols = apply(ConvColumns, x, kernel=tuple(weight.shape[2:]), stride=stride, padding=padding, dilation=dilation)
    return apply(ColumnsConvolution, cols, weight, groups=groups)


def _no_integer(op, input):
    """PyTorch's im2col/col2im have floating and bool kernels, none for integers."""
    check_tensor(op, "input", input)
    if input._dtype.category == 1:
        raise DTypeError(f"{op}(): not implemented for input of dtype {input._dtype.name}")


class Im2col(Primitive):
    """(B, C, *spatial) -> (B, C * prod(kernel), L): every sliding block as a column (``F.unfold``)."""

    @staticmethod
    def forward(xp, x, kernel, stride, padding, dilation):
        n = len(kernel)
        win = windows(xp, x, kernel, stride, dilation, padding)
        b, c = win.shape[:2]
        order = (0, 1) + tuple(range(2 + n, 2 + 2 * n)) + tuple(range(2, 2 + n))
        return xp.ascontiguousarray(win.transpose(order)).reshape(b, c * math.prod(kernel), -1)

    @staticmethod
    def backward(ctx, g, kernel, stride, padding, dilation):
        size = tuple(ctx.input_shapes[0][2:])
        return apply(Col2im, g, size=size, kernel=kernel, stride=stride, padding=padding, dilation=dilation)


class Col2im(Primitive):
    """(B, C * prod(kernel), L) -> (B, C, *size), overlapping blocks summed (``F.fold``)."""

    @staticmethod
    def forward(xp, cols, size, kernel, stride, padding, dilation):
        n = len(kernel)
        out = block_counts(size, kernel, stride, padding, dilation)
        b = cols.shape[0]
        c = cols.shape[1] // math.prod(kernel)
        cols = cols.reshape((b, c) + tuple(kernel) + out)
        cols = cols.transpose((0, 1) + tuple(range(2 + n, 2 + 2 * n)) + tuple(range(2, 2 + n)))
        return xp.ascontiguousarray(col2im(xp, cols, size, kernel, stride, dilation, padding))

    @staticmethod
    def backward(ctx, g, size, kernel, stride, padding, dilation):
        return apply(Im2col, g, kernel=kernel, stride=stride, padding=padding, dilation=dilation)


# -- argument checking ------------------------------------------------------------------------------

def _tuple(op, name, value, n):
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = tuple(value) * n
        if len(value) != n:
            raise ArgumentError(f"{op}(): expected {name} to be a single integer or a tuple of {n} integers, got "
                                f"{value!r}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _dims(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def block_counts(size, kernel, stride, padding, dilation):
    """Number of sliding blocks per spatial dim (may be <= 0 when the kernel does not fit)."""
    return tuple((s + lo + hi - d * (k - 1) - 1) // st + 1
                 for s, k, st, (lo, hi), d in zip(size, kernel, stride, padding, dilation))


def _check_fits(op, size, kernel, padding, dilation):
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(size, padding))
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(e > p for e, p in zip(extent, padded)):
        raise ShapeError(f"{op}(): calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                         f"Kernel size: ({' x '.join(map(str, extent))}). Kernel size can't be greater than actual "
                         f"input size (input spatial size {tuple(size)}, padding {tuple(lo for lo, _ in padding)}, "
                         f"dilation {tuple(dilation)})")


def _check_ranks(op, n, input, weight, weight_name="weight"):
    check_tensor(op, "input", input)
    check_tensor(op, weight_name, weight)
    if weight._data.ndim != n + 2:
        raise DimensionError(f"{op}(): expected {weight_name} to be {n + 2}-D (out_channels, in_channels/groups, "
                             f"{', '.join('k' + str(i) for i in range(n))}), but got {weight_name} of size "
                             f"{_dims(weight.shape)}")
    if input._data.ndim not in (n + 1, n + 2):
        raise DimensionError(f"{op}(): expected {n + 1}D (unbatched) or {n + 2}D (batched) input, but got input of "
                             f"size: {_dims(input.shape)}")
    if not input._dtype.is_floating_point or input._dtype is not weight._dtype:
        raise DTypeError(f"{op}(): input and {weight_name} must have the same floating dtype, got {input._dtype} "
                         f"and {weight._dtype}")


def _check_groups(op, groups, channels, what):
    if not isinstance(groups, int) or groups < 1:
        raise ArgumentError(f"{op}(): groups must be a positive integer, got {groups!r}")
    if channels % groups:
        raise ArgumentError(f"{op}(): {what} ({channels}) must be divisible by groups ({groups})")


def _check_bias(op, bias, channels, dtype):
    if bias is None:
        return
    check_tensor(op, "bias", bias)
    if tuple(bias.shape) != (channels,):
        raise ShapeError(f"{op}(): expected bias of shape [{channels}] (one per output channel), got bias of size "
                         f"{_dims(bias.shape)}")
    if bias._dtype is not dtype:
        raise DTypeError(f"{op}(): bias dtype {bias._dtype} does not match input dtype {dtype}")


def _add_bias(y, bias, n):
    return y if bias is None else y + bias.reshape((-1,) + (1,) * n)


# -- convolution ----------------------------------------------------------------------------------

def convolution(op, n, input, weight, bias, stride, padding, dilation, groups):
    """Shared body of conv1d/2d/3d: check arguments, pad, run :class:`Convolution`, add the bias."""
    _check_ranks(op, n, input, weight)
    unbatched = input._data.ndim == n + 1
    x = input.unsqueeze(0) if unbatched else input
    stride = _tuple(op, "stride", stride, n)
    dilation = _tuple(op, "dilation", dilation, n)
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise ArgumentError(f"{op}(): stride and dilation must be positive, got stride={stride}, dilation={dilation}")
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * n
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ArgumentError(f"{op}(): padding='same' is not supported for strided convolutions "
                                    f"(stride={stride})")
            pads = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))
        else:
            raise ArgumentError(f"{op}(): invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
    else:
        pads = tuple((p, p) for p in _tuple(op, "padding", padding, n))
        if any(p < 0 for p, _ in pads):
            raise ArgumentError(f"{op}(): negative padding is not supported, got padding={padding!r}")
    _check_groups(op, groups, weight.shape[0], "out_channels (weight.shape[0])")
    channels = x.shape[1]
    if weight.shape[1] * groups != channels:
        raise ShapeError(f"{op}(): given groups={groups}, weight of size {_dims(weight.shape)}, expected "
                         f"input{_dims(x.shape)} to have {weight.shape[1] * groups} channels "
                         f"(in_channels = weight.shape[1] * groups), but got {channels} channels instead")
    _check_bias(op, bias, weight.shape[0], input._dtype)
    if 0 in x.shape[2:] and x.shape[0] and x.shape[1]:
        raise ShapeError(f"{op}(): Only zero batch or zero channel inputs are supported, but got input shape: "
                         f"{list(x.shape)}")
    _check_fits(op, tuple(x.shape[2:]), kernel, pads, dilation)
    if _runs_by_columns(x, weight, stride, pads, groups):
        y = _conv_from_columns(x, weight, stride, pads, dilation, groups)
    else:
        y = apply(Convolution, x, weight, stride=stride, padding=pads, dilation=dilation, groups=groups)
    y = _add_bias(y, bias, n)
    return y.squeeze(0) if unbatched else y


def _runs_by_columns(x, weight, stride, padding, groups):
    """Whether a conv runs as ConvColumns and ColumnsConvolution: when it is recorded for backward (without
    a graph, Convolution computes the same in one primitive), unless it is pointwise or depthwise, which
    have cheaper kernels in Convolution that build no columns at all."""
    if not (is_grad_enabled() and (x.requires_grad or weight.requires_grad)):
        return False
    pointwise = groups == 1 and all(k == 1 for k in weight.shape[2:]) and all(st == 1 for st in stride) and \
        not any(lo or hi for lo, hi in padding)
    depthwise = groups == x.shape[1] == weight.shape[0] and groups > 1
    return not (pointwise or depthwise)


def transposed_convolution(op, n, input, weight, bias, stride, padding, output_padding, groups, dilation):
    """Shared body of conv_transposeNd: the adjoint of a conv, run as :class:`ConvInputGrad`."""
    _check_ranks(op, n, input, weight)
    unbatched = input._data.ndim == n + 1
    x = input.unsqueeze(0) if unbatched else input
    stride = _tuple(op, "stride", stride, n)
    dilation = _tuple(op, "dilation", dilation, n)
    if isinstance(padding, str):
        raise ArgumentError(f"{op}(): padding must be an int or a tuple of ints, got {padding!r}")
    padding = _tuple(op, "padding", padding, n)
    output_padding = _tuple(op, "output_padding", output_padding, n)
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= s and op_ >= d:
            raise ArgumentError(f"{op}(): output padding must be smaller than either stride or dilation, got "
                                f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    _check_groups(op, groups, weight.shape[0], "in_channels (weight.shape[0])")
    if x.shape[1] != weight.shape[0]:
        raise ShapeError(f"{op}(): given transposed=1, weight of size {_dims(weight.shape)}, expected "
                         f"input{_dims(x.shape)} to have {weight.shape[0]} channels (weight.shape[0]), but got "
                         f"{x.shape[1]} channels instead")
    kernel = tuple(weight.shape[2:])
    size = tuple((s - 1) * st - 2 * p + d * (k - 1) + op_ + 1
                 for s, st, p, d, k, op_ in zip(x.shape[2:], stride, padding, dilation, kernel, output_padding))
    if any(s <= 0 for s in size):
        raise ShapeError(f"{op}(): output size {size} is not positive (input {_dims(x.shape)}, kernel {kernel}, "
                         f"stride {stride}, padding {padding})")
    _check_bias(op, bias, weight.shape[1] * groups, input._dtype)
    pads = tuple((p, p) for p in padding)
    y = apply(ConvInputGrad, x, weight, size=size, stride=stride, padding=pads, dilation=dilation, groups=groups)
    y = _add_bias(y, bias, n)
    return y.squeeze(0) if unbatched else y


def _conv1d_samples(make):
    yield Sample((make(2, 2, 6), make(3, 2, 3), make(3)), name="bias")
    yield Sample((make(1, 4, 7), make(4, 2, 2)), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2},
                 name="stride, padding, dilation, groups")
    yield Sample((make(2, 5), make(3, 2, 3)), {"padding": "same"}, name="unbatched, same")


def _conv2d_samples(make):
    yield Sample((make(1, 2, 5, 5), make(3, 2, 3, 3), make(3)), name="bias")
    yield Sample((make(1, 2, 5, 4), make(2, 2, 2, 3)), {"stride": (2, 1), "padding": (1, 0)},
                 name="stride, padding")
    yield Sample((make(1, 4, 5, 5), make(2, 2, 2, 2)), {"groups": 2, "dilation": 2}, name="groups, dilation")
    yield Sample((make(1, 1, 4, 4), make(2, 1, 2, 3)), {"padding": "same"}, name="same, even kernel")
    yield Sample((make(1, 4, 4, noncontiguous=True), make(1, 1, 3, 2)), {"padding": "valid"},
                 name="unbatched, valid, non-contiguous")


def _conv3d_samples(make):
    yield Sample((make(1, 2, 3, 4, 3), make(2, 2, 2, 2, 2), make(2)), {"padding": 1, "stride": 2},
                 name="bias, stride, padding")


def _conv1d_errors(make):
    yield ErrorInput(Sample((make(1, 4, 6), make(3, 2, 3))), RuntimeError,
                     r"conv1d\(\).*weight of size \[3, 2, 3\].*input\[1, 4, 6\].*2 channels.*4 channels")


@ops.op(reference=conv_composite(1), namespaces=("ember", "functional"), samples=_conv1d_samples, errors=_conv1d_errors)
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over (N, C, L) or (C, L) input (``torch.nn.functional.conv1d``).
    ``padding`` is an int, a tuple, ``'valid'`` or ``'same'``.

    Shape:
        - input: ``(N, C_in, L_in)`` or unbatched ``(C_in, L_in)``, floating point.
        - weight: ``(C_out, C_in / groups, k0)``, the dtype of ``input``.
        - bias: ``(C_out,)`` or None.
        - output: ``(N, C_out, L_out)`` (no N when unbatched), each ``S_out = floor((S_in + 2 * padding - dilation
          * (k - 1) - 1) / stride + 1)``; ``padding='same'`` keeps ``S_in``.

    Raises:
        DimensionError: ``input`` is not 2-D or 3-D, or ``weight`` is not 3-D.
        ShapeError: ``input``'s channels are not ``weight.shape[1] * groups``, ``bias`` is not ``(C_out,)``, or the
            dilated kernel is larger than the padded input.
        ArgumentError: ``stride`` or ``dilation`` is not positive, ``padding`` is negative or an unknown string (or
            'same' with a stride), a size is not an int or an n-tuple, or ``groups`` is not positive or does not
            divide ``C_out``.
        DTypeError: ``input`` and ``weight`` (and ``bias``) are not one floating dtype.
        TypeError: ``input``, ``weight`` or ``bias`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.conv1d``."""
    return convolution("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def _conv2d_errors(make):
    x, w = make(1, 2, 5, 5), make(3, 2, 3, 3)
    yield ErrorInput(Sample((x, make(3, 2, 3))), RuntimeError, r"conv2d\(\).*weight.*4-D.*\[3, 2, 3\]")
    yield ErrorInput(Sample((make(5, 5), w)), RuntimeError,
                     r"conv2d\(\).*3D \(unbatched\) or 4D \(batched\) input.*\[5, 5\]")
    yield ErrorInput(Sample((make(1, 4, 5, 5), w), {"groups": 2}), ValueError,
                     r"conv2d\(\).*out_channels.*\(3\).*divisible by groups \(2\)")
    yield ErrorInput(Sample((x, w), {"padding": "full"}), ValueError,
                     r"conv2d\(\).*invalid padding string 'full'.*'valid', 'same'")
    yield ErrorInput(Sample((x, w), {"padding": "same", "stride": 2}), ValueError,
                     r"conv2d\(\).*'same'.*strided.*\(2, 2\)")
    yield ErrorInput(Sample((make(1, 2, 2, 2), make(3, 2, 5, 5)), {"padding": 1}), RuntimeError,
                     r"conv2d\(\).*padded input size per channel: \(4 x 4\).*Kernel size: \(5 x 5\)")
    yield ErrorInput(Sample((x, w, make(4))), RuntimeError, r"conv2d\(\).*bias of shape \[3\].*\[4\]")


@ops.op(reference=conv_composite(2), namespaces=("ember", "functional"), samples=_conv2d_samples, errors=_conv2d_errors)
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over (N, C, H, W) or (C, H, W) input (``torch.nn.functional.conv2d``).
    ``padding`` is an int, a tuple, ``'valid'`` or ``'same'``.

    Shape:
        - input: ``(N, C_in, H_in, W_in)`` or unbatched ``(C_in, H_in, W_in)``, floating point.
        - weight: ``(C_out, C_in / groups, k0, k1)``, the dtype of ``input``.
        - bias: ``(C_out,)`` or None.
        - output: ``(N, C_out, H_out, W_out)`` (no N when unbatched), each ``S_out = floor((S_in + 2 * padding -
          dilation * (k - 1) - 1) / stride + 1)``; ``padding='same'`` keeps ``S_in``.

    Raises:
        DimensionError: ``input`` is not 3-D or 4-D, or ``weight`` is not 4-D.
        ShapeError: ``input``'s channels are not ``weight.shape[1] * groups``, ``bias`` is not ``(C_out,)``, or the
            dilated kernel is larger than the padded input.
        ArgumentError: ``stride`` or ``dilation`` is not positive, ``padding`` is negative or an unknown string (or
            'same' with a stride), a size is not an int or an n-tuple, or ``groups`` is not positive or does not
            divide ``C_out``.
        DTypeError: ``input`` and ``weight`` (and ``bias``) are not one floating dtype.
        TypeError: ``input``, ``weight`` or ``bias`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.conv2d``."""
    return convolution("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


@ops.op(reference=conv_composite(3), namespaces=("ember", "functional"), samples=_conv3d_samples)
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over (N, C, D, H, W) or (C, D, H, W) input (``torch.nn.functional.conv3d``).

    Shape:
        - input: ``(N, C_in, D_in, H_in, W_in)`` or unbatched ``(C_in, D_in, H_in, W_in)``, floating point.
        - weight: ``(C_out, C_in / groups, k0, k1, k2)``, the dtype of ``input``.
        - bias: ``(C_out,)`` or None.
        - output: ``(N, C_out, D_out, H_out, W_out)`` (no N when unbatched), each ``S_out = floor((S_in + 2 *
          padding - dilation * (k - 1) - 1) / stride + 1)``; ``padding='same'`` keeps ``S_in``.

    Raises:
        DimensionError: ``input`` is not 4-D or 5-D, or ``weight`` is not 5-D.
        ShapeError: ``input``'s channels are not ``weight.shape[1] * groups``, ``bias`` is not ``(C_out,)``, or the
            dilated kernel is larger than the padded input.
        ArgumentError: ``stride`` or ``dilation`` is not positive, ``padding`` is negative or an unknown string (or
            'same' with a stride), a size is not an int or an n-tuple, or ``groups`` is not positive or does not
            divide ``C_out``.
        DTypeError: ``input`` and ``weight`` (and ``bias``) are not one floating dtype.
        TypeError: ``input``, ``weight`` or ``bias`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.conv3d``."""
    return convolution("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose1d_samples(make):
    yield Sample((make(1, 2, 4), make(2, 3, 3), make(3)), {"stride": 2, "padding": 1, "output_padding": 1},
                 name="bias, stride, padding, output_padding")
    yield Sample((make(1, 4, 3), make(4, 1, 2)), {"groups": 2, "dilation": 2}, name="groups, dilation")


def _conv_transpose2d_samples(make):
    yield Sample((make(1, 2, 3, 3), make(2, 3, 3, 3), make(3)), {"stride": 2, "padding": 1, "output_padding": 1},
                 name="bias, stride, padding, output_padding")
    yield Sample((make(1, 4, 2, 3), make(4, 1, 2, 2)), {"groups": 2, "stride": (1, 2), "dilation": (2, 1)},
                 name="groups, dilation")
    yield Sample((make(2, 3, 3), make(2, 1, 2, 2)), name="unbatched")


def _conv_transpose3d_samples(make):
    yield Sample((make(1, 2, 2, 2, 2), make(2, 1, 2, 2, 2), make(1)), {"stride": 2}, name="bias, stride")


def _conv_transpose1d_errors(make):
    yield ErrorInput(Sample((make(1, 4, 5), make(2, 3, 3))), RuntimeError,
                     r"conv_transpose1d\(\).*weight of size \[2, 3, 3\].*input\[1, 4, 5\]")


@ops.op(primitive=ConvInputGrad, namespaces=("ember", "functional"), samples=_conv_transpose1d_samples, errors=_conv_transpose1d_errors)
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution, the gradient of conv1d in its input; weight is (in_channels,
    out_channels/groups, k) (``torch.nn.functional.conv_transpose1d``).

    Shape:
        - input: ``(N, C_in, L_in)`` or unbatched ``(C_in, L_in)``, floating point.
        - weight: ``(C_in, C_out / groups, k0)``, the dtype of ``input``.
        - bias: ``(C_out,)`` or None.
        - output: ``(N, C_out, L_out)`` (no N when unbatched), each ``S_out = (S_in - 1) * stride - 2 * padding +
          dilation * (k - 1) + output_padding + 1``.

    Raises:
        DimensionError: ``input`` is not 2-D or 3-D, or ``weight`` is not 3-D.
        ShapeError: ``input``'s channels are not ``weight.shape[0]``, ``bias`` does not fit, or an output size is
            not positive.
        ArgumentError: ``padding`` is not an int or a tuple of ints, ``output_padding`` is not smaller than
            ``stride`` or ``dilation``, or ``groups`` is not positive or does not divide ``C_in``.
        DTypeError: ``input`` and ``weight`` (and ``bias``) are not one floating dtype.
        TypeError: ``input``, ``weight`` or ``bias`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.conv_transpose1d``."""
    return transposed_convolution("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding,
                                  groups, dilation)


def _conv_transpose2d_errors(make):
    yield ErrorInput(Sample((make(1, 2, 3, 3), make(2, 3, 3, 3)), {"stride": 2, "output_padding": 2}), ValueError,
                     r"conv_transpose2d\(\).*output padding.*output_padding=\(2, 2\), stride=\(2, 2\)")


@ops.op(primitive=ConvInputGrad, namespaces=("ember", "functional"), samples=_conv_transpose2d_samples, errors=_conv_transpose2d_errors)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution ("deconvolution"); weight is (in_channels, out_channels/groups, kh, kw)
    (``torch.nn.functional.conv_transpose2d``).

    Shape:
        - input: ``(N, C_in, H_in, W_in)`` or unbatched ``(C_in, H_in, W_in)``, floating point.
        - weight: ``(C_in, C_out / groups, k0, k1)``, the dtype of ``input``.
        - bias: ``(C_out,)`` or None.
        - output: ``(N, C_out, H_out, W_out)`` (no N when unbatched), each ``S_out = (S_in - 1) * stride - 2 *
          padding + dilation * (k - 1) + output_padding + 1``.

    Raises:
        DimensionError: ``input`` is not 3-D or 4-D, or ``weight`` is not 4-D.
        ShapeError: ``input``'s channels are not ``weight.shape[0]``, ``bias`` does not fit, or an output size is
            not positive.
        ArgumentError: ``padding`` is not an int or a tuple of ints, ``output_padding`` is not smaller than
            ``stride`` or ``dilation``, or ``groups`` is not positive or does not divide ``C_in``.
        DTypeError: ``input`` and ``weight`` (and ``bias``) are not one floating dtype.
        TypeError: ``input``, ``weight`` or ``bias`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.conv_transpose2d``."""
    return transposed_convolution("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding,
                                  groups, dilation)


@ops.op(primitive=ConvInputGrad, namespaces=("ember", "functional"), samples=_conv_transpose3d_samples)
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution (``torch.nn.functional.conv_transpose3d``).

    Shape:
        - input: ``(N, C_in, D_in, H_in, W_in)`` or unbatched ``(C_in, D_in, H_in, W_in)``, floating point.
        - weight: ``(C_in, C_out / groups, k0, k1, k2)``, the dtype of ``input``.
        - bias: ``(C_out,)`` or None.
        - output: ``(N, C_out, D_out, H_out, W_out)`` (no N when unbatched), each ``S_out = (S_in - 1) * stride - 2
          * padding + dilation * (k - 1) + output_padding + 1``.

    Raises:
        DimensionError: ``input`` is not 4-D or 5-D, or ``weight`` is not 5-D.
        ShapeError: ``input``'s channels are not ``weight.shape[0]``, ``bias`` does not fit, or an output size is
            not positive.
        ArgumentError: ``padding`` is not an int or a tuple of ints, ``output_padding`` is not smaller than
            ``stride`` or ``dilation``, or ``groups`` is not positive or does not divide ``C_in``.
        DTypeError: ``input`` and ``weight`` (and ``bias``) are not one floating dtype.
        TypeError: ``input``, ``weight`` or ``bias`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.conv_transpose3d``."""
    return transposed_convolution("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding,
                                  groups, dilation)


# -- unfold / fold --------------------------------------------------------------------------------

def _block_args(op, kernel_size, dilation, padding, stride):
    kernel = _tuple(op, "kernel_size", kernel_size, 2)
    dilation = _tuple(op, "dilation", dilation, 2)
    padding = tuple((p, p) for p in _tuple(op, "padding", padding, 2))
    stride = _tuple(op, "stride", stride, 2)
    if any(v < 1 for v in kernel + dilation + stride) or any(p < 0 for p, _ in padding):
        raise ArgumentError(f"{op}(): kernel_size, dilation and stride must be positive and padding non-negative, got "
                            f"kernel_size={kernel}, dilation={dilation}, padding={tuple(p for p, _ in padding)}, "
                            f"stride={stride}")
    return kernel, dilation, padding, stride


def _unfold_samples(make):
    yield Sample((make(1, 2, 4, 5), (2, 3)), name="kernel 2x3")
    yield Sample((make(2, 1, 5, 5), 2), {"dilation": 2, "padding": 1, "stride": 2}, name="dilation, padding, stride")
    yield Sample((make(2, 4, 4), 3), {"padding": 1}, name="unbatched")


@ops.op(namespaces=("functional",), samples=_unfold_samples)
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks (im2col): (N, C, H, W) -> (N, C * kh * kw, L) (``torch.nn.functional.unfold``;
    not ``Tensor.unfold``, which is a different op).

    Shape:
        - input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``, floating point.
        - output: ``(N, C * prod(kernel_size), L)`` (no N when unbatched), L the number of blocks.

    Raises:
        DimensionError: ``input`` is not 3-D or 4-D.
        ShapeError: the dilated kernel is larger than the padded input.
        ArgumentError: a size argument is not an int or a pair, or is not positive (``padding`` negative).
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.unfold``."""
    _no_integer("unfold", input)
    kernel, dilation, padding, stride = _block_args("unfold", kernel_size, dilation, padding, stride)
    if input._data.ndim not in (3, 4):
        raise DimensionError(f"unfold(): expected 3D (unbatched) or 4D (batched) input, but got input of size "
                             f"{_dims(input.shape)}")
    unbatched = input._data.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    _check_fits("unfold", tuple(x.shape[2:]), kernel, padding, dilation)
    y = apply(Im2col, x, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    return y.squeeze(0) if unbatched else y


def _fold_samples(make):
    yield Sample((make(1, 6, 9), (4, 5), (2, 3)), name="kernel 2x3")
    yield Sample((make(2, 4, 9), (5, 5), 2), {"dilation": 2, "padding": 1, "stride": 2},
                 name="dilation, padding, stride")


@ops.op(primitive=Col2im, namespaces=("functional",), samples=_fold_samples)
def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding local blocks back into an image (col2im): (N, C * kh * kw, L) -> (N, C, H, W)
    (``torch.nn.functional.fold``).

    Shape:
        - input: ``(N, C * prod(kernel_size), L)`` or unbatched ``(C * prod(kernel_size), L)``, L the number of
          blocks that fit ``output_size``; floating point.
        - output: ``(N, C, *output_size)`` (no N when unbatched), the dtype of ``input``.

    Raises:
        DimensionError: ``input`` is not 2-D or 3-D.
        ShapeError: dim -2 is not divisible by ``prod(kernel_size)``, or L is not the number of blocks.
        ArgumentError: a size argument is not an int or a pair, or is not positive (``padding`` negative).
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.fold``."""
    _no_integer("fold", input)
    kernel, dilation, padding, stride = _block_args("fold", kernel_size, dilation, padding, stride)
    size = _tuple("fold", "output_size", output_size, 2)
    if input._data.ndim not in (2, 3):
        raise DimensionError(f"fold(): expected 2D (unbatched) or 3D (batched) input, but got input of size "
                             f"{_dims(input.shape)}")
    unbatched = input._data.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    kp = math.prod(kernel)
    blocks = block_counts(size, kernel, stride, padding, dilation)
    if x.shape[1] % kp:
        raise ShapeError(f"fold(): expected size of input's dimension 1 to be divisible by the product of "
                         f"kernel_size ({kp}), but got input.size(1)={x.shape[1]}")
    if any(b < 1 for b in blocks) or math.prod(blocks) != x.shape[2]:
        raise ShapeError(f"fold(): given output_size={size}, kernel_size={kernel}, dilation={dilation}, "
                         f"padding={tuple(p for p, _ in padding)}, stride={stride}, expected size of input's "
                         f"dimension 2 to match the calculated number of sliding blocks "
                         f"{' * '.join(map(str, blocks))} = {math.prod(blocks)}, but got input.size(2)={x.shape[2]}")
    y = apply(Col2im, x, size=size, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    return y.squeeze(0) if unbatched else y
