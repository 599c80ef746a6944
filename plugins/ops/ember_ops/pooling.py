"""Pooling: max (with indices), average and adaptive pooling over 1 or 2 spatial dims.

Max pooling finds each window's argmax on a strided window view in one call; its gradient scatters
into the argmax positions (:class:`ScatterSpatial`), whose gradient gathers from them
(:class:`GatherSpatial`), so derivatives of any order work. Average pooling is a convolution with a
constant kernel divided by the window counts, and adaptive average pooling a product with averaging
matrices: both composites, differentiable to any order.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ember.tensor import tensor as _tensor, wrap
from ember.ops import (ArgumentError, DimensionError, ErrorInput, OpTable, Primitive, Sample, ShapeError,
                       apply, check_tensor, float_input)

from .conv import Convolution, windows

ops = OpTable()


# -- gather / scatter at flat spatial indices ---------------------------------------------------------

class ScatterSpatial(Primitive):
    """``g`` (B, C, *out) added into zeros (B, C, *size) at flat spatial ``indices``: max pooling's gradient."""

    save_inputs = True

    @staticmethod
    def forward(xp, g, indices, size):
        b, c = g.shape[:2]
        per = math.prod(size)
        rows = xp.arange(b * c).reshape(b, c, *([1] * (g.ndim - 2))) * per
        flat = xp.bincount((indices + rows).ravel(), weights=g.ravel(), minlength=b * c * per)
        return flat.astype(g.dtype, copy=False).reshape((b, c) + tuple(size))

    @staticmethod
    def backward(ctx, gg, size):
        return apply(GatherSpatial, gg, ctx.inputs[1]), None


class GatherSpatial(Primitive):
    """``x`` (B, C, *size) read at flat spatial ``indices`` (B, C, *out)."""

    save_inputs = True

    @staticmethod
    def forward(xp, x, indices):
        b, c = x.shape[:2]
        out = xp.take_along_axis(x.reshape(b, c, -1), indices.reshape(b, c, -1), axis=-1)
        return out.reshape(indices.shape)

    @staticmethod
    def backward(ctx, g):
        x, indices = ctx.inputs
        return apply(ScatterSpatial, g, indices, size=tuple(x.shape[2:])), None


def _argmax_windows(xp, flat, positions, size):
    """Values and flat input indices of each window's maximum (NaN wins, as in PyTorch).

    ``flat`` is (B, C, *out, K); ``positions[i]`` (*out, K) the input coordinate of each element along dim i.
    """
    key = xp.where(xp.isnan(flat), xp.inf, flat)
    valid = True  # padding never wins, even a window of -inf (PyTorch only scans the input's elements)
    for pos, s in zip(positions, size):
        valid = valid & (pos >= 0) & (pos < s)
    best = (key == key.max(-1, keepdims=True)) & valid if flat.shape[-1] else key
    arg = xp.argmax(best, axis=-1)[..., None]
    values = xp.take_along_axis(flat, arg, axis=-1)[..., 0]
    index = 0
    for pos, s in zip(positions, size):
        p = xp.take_along_axis(xp.broadcast_to(pos, flat.shape), arg, axis=-1)[..., 0]
        index = index * s + p
    return values, index.astype(xp.int64)


class MaxPool2dWithIndices(Primitive):
    """Window maxima over the trailing spatial dims, and their flat input indices (second output); one
    class per spatial rank, under ATen's names (the kernel serves all three)."""

    name, grad_fn = "max_pool2d_with_indices", "MaxPool2DWithIndicesBackward0"

    num_outputs = 2
    save_output = True

    @staticmethod
    def forward(xp, x, kernel, stride, padding, dilation):
        n = len(kernel)
        size = x.shape[2:]
        win = windows(xp, x, kernel, stride, dilation, padding, pad_value=-xp.inf)
        out = win.shape[2:2 + n]
        flat = win.reshape(win.shape[:2 + n] + (math.prod(kernel),))
        offsets = np.indices(kernel).reshape(n, -1)
        positions = []
        for i in range(n):
            start = np.arange(out[i]) * stride[i] - padding[i][0]
            pos = start.reshape([-1 if j == i else 1 for j in range(n)] + [1]) + offsets[i] * dilation[i]
            positions.append(xp.asarray(pos))
        return _argmax_windows(xp, flat, positions, size)

    @staticmethod
    def backward(ctx, g, g_indices, kernel, stride, padding, dilation):
        indices = ctx.outputs[1]
        return apply(ScatterSpatial, g, indices, size=tuple(ctx.input_shapes[0][2:]))


# -- max pooling over windows that tile the input ---------------------------------------------------
# kernel == stride, no padding, no dilation (every 2x2/stride-2 pool): each window is one cell of a
# (*out, *kernel) reshape of the input, so the maximum is a running maximum over prod(kernel) strided
# slices and the gradient a write into those same slices; no window view, argmax or scatter.

def _tiles(x, kernel, out):
    """``x`` (B, C, *size) cropped to the whole windows, as a view (B, C, o1, k1, o2, k2, ...)."""
    x = x[(slice(None), slice(None)) + tuple(slice(0, o * k) for o, k in zip(out, kernel))]
    return x.reshape(x.shape[:2] + tuple(v for o, k in zip(out, kernel) for v in (o, k)))


def _tile_offsets(tiles, kernel):
    """The strided (B, C, *out) view of ``tiles`` at each kernel offset, in row-major order."""
    return [tiles[(slice(None), slice(None)) + tuple(v for i in offset for v in (slice(None), i))]
            for offset in itertools.product(*(range(k) for k in kernel))]


class MaxPoolTiled(Primitive):
    """Window maxima of windows that tile the input, and each maximum's offset in its window (uint8, row-major
    over the kernel; the first maximum, or the last NaN, as PyTorch's kernel picks)."""

    name = "max_pool_tiled"
    num_outputs = 2
    save_output = True

    @staticmethod
    def forward(xp, x, kernel):
        out = tuple(s // k for s, k in zip(x.shape[2:], kernel))
        taps = _tile_offsets(_tiles(x, kernel, out), kernel)
        best = taps[0].copy()
        for tap in taps[1:]:
            xp.maximum(best, tap, out=best)  # a NaN anywhere in the window propagates, as in PyTorch
        # the first offset holding the maximum: a running "found" mask, summed (boolean indexing is ~5x slower)
        found = taps[0] == best
        which = xp.zeros(best.shape, dtype=xp.uint8)
        for i, tap in enumerate(taps[1:], 1):
            hit = xp.greater(tap == best, found)  # equal to the maximum, and no earlier offset was
            found |= hit
            which += hit.view(xp.uint8) * xp.uint8(i)
        if xp.isnan(best).any():
            for i, tap in enumerate(taps):  # PyTorch's scan takes every NaN it meets: the last one wins
                which[xp.isnan(tap)] = i
        return best, which

    @staticmethod
    def backward(ctx, g, g_which, kernel):
        return apply(TileScatter, g, ctx.outputs[1], size=tuple(ctx.input_shapes[0][2:]), kernel=kernel)


class TileScatter(Primitive):
    """``g`` (B, C, *out) written at window offsets ``which`` into zeros (B, C, *size): MaxPoolTiled's gradient."""

    save_inputs = True

    @staticmethod
    def forward(xp, g, which, size, kernel):
        dx = xp.zeros(g.shape[:2] + tuple(size), dtype=g.dtype)
        for i, tap in enumerate(_tile_offsets(_tiles(dx, kernel, g.shape[2:]), kernel)):
            xp.multiply(g, which == i, out=tap)
        return dx

    @staticmethod
    def backward(ctx, gg, size, kernel):
        return apply(TileGather, gg, ctx.inputs[1], kernel=kernel), None


class TileGather(Primitive):
    """``x`` (B, C, *size) read at window offsets ``which`` (B, C, *out): TileScatter's adjoint."""

    save_inputs = True

    @staticmethod
    def forward(xp, x, which, kernel):
        taps = _tile_offsets(_tiles(x, kernel, which.shape[2:]), kernel)
        out = xp.zeros(which.shape, dtype=x.dtype)
        for i, tap in enumerate(taps):
            xp.copyto(out, tap, where=which == i)
        return out

    @staticmethod
    def backward(ctx, g, kernel):
        x, which = ctx.inputs
        return apply(TileScatter, g, which, size=tuple(x.shape[2:]), kernel=kernel), None


class MaxPool1dTiled(MaxPoolTiled):
    name, grad_fn = "max_pool1d_tiled", "MaxPool1DWithIndicesBackward0"


class MaxPool2dTiled(MaxPoolTiled):
    name, grad_fn = "max_pool2d_tiled", "MaxPool2DWithIndicesBackward0"


class MaxPool3dTiled(MaxPoolTiled):
    name, grad_fn = "max_pool3d_tiled", "MaxPool3DWithIndicesBackward0"


_MAX_POOL_TILED = {1: MaxPool1dTiled, 2: MaxPool2dTiled, 3: MaxPool3dTiled}


def _tile_indices(xp, which, kernel, size):
    """Flat input indices (int64, as ``return_indices`` gives them) of the window offsets ``which``."""
    out = which.shape[2:]
    index = 0
    for d, (o, k, s) in enumerate(zip(out, kernel, size)):
        along = (which.astype(xp.int64) // math.prod(kernel[d + 1:])) % k  # the offset along dim d
        start = xp.arange(o, dtype=xp.int64).reshape((o,) + (1,) * (len(out) - d - 1)) * k
        index = index * s + (along + start)
    return index


class AdaptiveMaxPool2d(Primitive):
    """Maxima over PyTorch's adaptive windows [floor(i*S/O), ceil((i+1)*S/O)), gathered in one index;
    one class per spatial rank, under ATen's names."""

    name, grad_fn = "adaptive_max_pool2d", "AdaptiveMaxPool2DBackward0"

    num_outputs = 2
    save_output = True

    @staticmethod
    def forward(xp, x, output_size):
        n = len(output_size)
        size = x.shape[2:]
        grids, positions = [], []
        for i, (s, o) in enumerate(zip(size, output_size)):
            start = (np.arange(o) * s) // o
            end = -((-(np.arange(o) + 1) * s) // o)
            k = int((end - start).max())
            idx = np.minimum(start[:, None] + np.arange(k), end[:, None] - 1)  # (o, k), repeats the last
            shape = [1] * (2 * n)
            shape[2 * i], shape[2 * i + 1] = o, k
            grids.append(xp.asarray(idx.reshape(shape)))
            positions.append(idx)
        gathered = x[(slice(None), slice(None)) + tuple(grids)]  # (B, C, o1, k1, o2, k2, ...)
        order = (0, 1) + tuple(range(2, 2 + 2 * n, 2)) + tuple(range(3, 3 + 2 * n, 2))
        flat = gathered.transpose(order)
        ks = flat.shape[2 + n:]
        flat = flat.reshape(flat.shape[:2 + n] + (-1,))
        pos_out = []
        for i, idx in enumerate(positions):
            shape = [1] * (2 * n)
            shape[i], shape[n + i] = idx.shape
            full = np.broadcast_to(idx.reshape(shape), tuple(output_size) + ks)
            pos_out.append(xp.asarray(full.reshape(tuple(output_size) + (-1,))))
        return _argmax_windows(xp, flat, pos_out, size)

    @staticmethod
    def backward(ctx, g, g_indices, output_size):
        return apply(ScatterSpatial, g, ctx.outputs[1], size=tuple(ctx.input_shapes[0][2:]))


# -- argument handling ----------------------------------------------------------------------------

def _tuple(op, name, value, n):
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = tuple(value) * n
        if len(value) != n:
            raise ArgumentError(f"{op}(): {name} must be a single int or a tuple of {n} ints, got {value!r}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _batched(op, input, n):
    check_tensor(op, "input", input)
    if input._data.ndim not in (n + 1, n + 2):
        raise DimensionError(f"{op}(): expected {n + 1}D (unbatched) or {n + 2}D (batched) input, but got input of "
                             f"shape {tuple(input.shape)}")
    float_input(op, input)
    if 0 in input._data.shape[-n:]:  # an empty spatial dim is an error in PyTorch (an empty batch is not)
        raise ShapeError(f"{op}(): Expected input's non-batch dimensions to have positive length, but input has "
                         f"a shape of {tuple(input.shape)}")
    if input._data.ndim == n + 1:
        return input.unsqueeze(0), True
    return input, False


def _geometry(op, size, kernel, stride, padding, dilation, ceil_mode):
    """Output size and (low, high) padding per dim with PyTorch's pooling rules (ceil_mode included)."""
    out, pads = [], []
    for s, k, st, p, d in zip(size, kernel, stride, padding, dilation):
        if k < 1 or st < 1 or d < 1:
            raise ArgumentError(f"{op}(): kernel_size, stride and dilation must be positive, got kernel_size={kernel}, "
                                f"stride={stride}, dilation={dilation}")
        if p < 0 or p > k // 2:
            raise ArgumentError(f"{op}(): pad should be at most half of effective kernel size, but got pad={p}, "
                                f"kernel_size={k}")
        num = s + 2 * p - d * (k - 1) - 1 + (st - 1 if ceil_mode else 0)
        o = num // st + 1
        if ceil_mode and (o - 1) * st >= s + p:
            o -= 1
        if o < 1:
            raise ShapeError(f"{op}(): given input spatial size {tuple(size)}, kernel_size {tuple(kernel)}, padding "
                             f"{tuple(padding)} and dilation {tuple(dilation)}, the output size would be "
                             f"{num // st + 1}: too small")
        out.append(o)
        pads.append((p, max(0, (o - 1) * st + d * (k - 1) + 1 - s - p)))
    return tuple(out), tuple(pads)


class MaxPool1dWithIndices(MaxPool2dWithIndices):
    name, grad_fn = "max_pool1d_with_indices", "MaxPool1DWithIndicesBackward0"


class MaxPool3dWithIndices(MaxPool2dWithIndices):
    name, grad_fn = "max_pool3d_with_indices", "MaxPool3DWithIndicesBackward0"


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    name, grad_fn = "adaptive_max_pool1d", "AdaptiveMaxPool1DBackward0"


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    name, grad_fn = "adaptive_max_pool3d", "AdaptiveMaxPool3DBackward0"


_MAX_POOL = {1: MaxPool1dWithIndices, 2: MaxPool2dWithIndices, 3: MaxPool3dWithIndices}
_ADAPTIVE_MAX_POOL = {1: AdaptiveMaxPool1d, 2: AdaptiveMaxPool2d, 3: AdaptiveMaxPool3d}


def _max_pool(op, n, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, unbatched = _batched(op, input, n)
    kernel = _tuple(op, "kernel_size", kernel_size, n)
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) else \
        _tuple(op, "stride", stride, n)
    padding = _tuple(op, "padding", padding, n)
    dilation = _tuple(op, "dilation", dilation, n)
    _, pads = _geometry(op, tuple(x.shape[2:]), kernel, stride, padding, dilation, ceil_mode)
    if kernel == stride and all(d == 1 for d in dilation) and not any(lo or hi for lo, hi in pads) and \
            math.prod(kernel) < 256:
        out, which = apply(_MAX_POOL_TILED[n], x, kernel=kernel)
        indices = wrap(_tile_indices(x._device.xp, which._data, kernel, tuple(x.shape[2:])), x._device) \
            if return_indices else None
    else:
        out, indices = apply(_MAX_POOL[n], x, kernel=kernel, stride=stride, padding=pads, dilation=dilation)
    if unbatched:
        out = out.squeeze(0)
        indices = None if indices is None else indices.squeeze(0)
    return (out, indices) if return_indices else out


def _max_pool1d_samples(make):
    yield Sample((make(2, 3, 7), 3), name="kernel 3")
    yield Sample((make(1, 2, 8), 3), {"stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True},
                 name="stride, padding, dilation, ceil_mode")
    yield Sample((make(2, 6), 2), {"return_indices": True}, name="unbatched, indices")


def _max_pool2d_samples(make):
    yield Sample((make(1, 2, 4, 4), 2), name="kernel 2")
    yield Sample((make(2, 1, 5, 6), (3, 2)), {"stride": (2, 1), "padding": (1, 0)}, name="stride, padding")
    yield Sample((make(1, 1, 7, 7), 3), {"stride": 2, "dilation": 2, "ceil_mode": True, "return_indices": True},
                 name="dilation, ceil_mode, indices")
    yield Sample((make(2, 5, 5, noncontiguous=True), 2), {"stride": 2, "ceil_mode": True},
                 name="unbatched, non-contiguous, ceil_mode")
    # windows that tile the input take a fast path of their own: batched and unbatched, with indices
    yield Sample((make(2, 4, 6), 2), name="unbatched, tiled")
    yield Sample((make(2, 2, 4, 6), (2, 3)), {"return_indices": True}, name="tiled, indices")


@ops.op(primitive=MaxPool1dWithIndices, namespaces=("ember", "functional"), torch="torch.nn.functional.max_pool1d",
        samples=_max_pool1d_samples)
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over sliding windows of (N, C, L) input; indices are flat positions in L
    (``torch.nn.functional.max_pool1d``).

    Shape:
        - input: ``(N, C, L_in)`` or unbatched ``(C, L_in)``, floating point.
        - output: ``(N, C, L_out)`` (no N when unbatched), each ``S_out = floor((S_in + 2 * padding - dilation *
          (kernel_size - 1) - 1) / stride + 1)`` (ceil with ``ceil_mode``); the dtype of ``input``; with
          ``return_indices``, also int64 indices of that shape.

    Raises:
        DimensionError: ``input`` is not 2-D or 3-D.
        ShapeError: a non-batch dim is empty, or the windows do not fit (an output size below 1).
        ArgumentError: a size argument is not an int or an n-tuple, ``kernel_size``, ``stride`` or ``dilation`` is
            not positive, or ``padding`` exceeds half the kernel.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.max_pool1d``."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _max_pool2d_errors(make):
    yield ErrorInput(Sample((make(1, 1, 6, 6), 2), {"padding": 2}), ValueError,
                     r"max_pool2d\(\).*pad should be at most half.*pad=2, kernel_size=2")


@ops.op(primitive=MaxPool2dWithIndices, namespaces=("ember", "functional"), torch="torch.nn.functional.max_pool2d", samples=_max_pool2d_samples,
        errors=_max_pool2d_errors)
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over sliding windows of (N, C, H, W) input; indices are flat positions h * W + w
    (``torch.nn.functional.max_pool2d``).

    Shape:
        - input: ``(N, C, H_in, W_in)`` or unbatched ``(C, H_in, W_in)``, floating point.
        - output: ``(N, C, H_out, W_out)`` (no N when unbatched), each ``S_out = floor((S_in + 2 * padding -
          dilation * (kernel_size - 1) - 1) / stride + 1)`` (ceil with ``ceil_mode``); the dtype of ``input``; with
          ``return_indices``, also int64 indices of that shape.

    Raises:
        DimensionError: ``input`` is not 3-D or 4-D.
        ShapeError: a non-batch dim is empty, or the windows do not fit (an output size below 1).
        ArgumentError: a size argument is not an int or an n-tuple, ``kernel_size``, ``stride`` or ``dilation`` is
            not positive, or ``padding`` exceeds half the kernel.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.max_pool2d``."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


# -- average pooling ------------------------------------------------------------------------------

def _window_counts(size, out, kernel, stride, padding, include_pad):
    """Per dim, how many elements each window averages (PyTorch's divisor rules)."""
    counts = []
    for s, o, k, st, p in zip(size, out, kernel, stride, padding):
        start = np.arange(o) * st - p
        end = np.minimum(start + k, s + p)
        pool = end - start
        inside = np.minimum(end, s) - np.maximum(start, 0)
        counts.append(pool if include_pad else inside)
    return counts


def _avg_pool(op, n, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override=None):
    x, unbatched = _batched(op, input, n)
    kernel = _tuple(op, "kernel_size", kernel_size, n)
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) else \
        _tuple(op, "stride", stride, n)
    padding = _tuple(op, "padding", padding, n)
    size = tuple(x.shape[2:])
    out, pads = _geometry(op, size, kernel, stride, padding, (1,) * n, ceil_mode)
    b, c = x.shape[:2]
    ones = _tensor(np.ones((1, 1) + kernel), dtype=x.dtype, device=x.device)
    sums = apply(Convolution, x.reshape((b * c, 1) + size), ones, stride=stride, padding=pads, dilation=(1,) * n,
                 groups=1).reshape((b, c) + out)
    if divisor_override:
        y = sums / divisor_override
    else:
        counts = _window_counts(size, out, kernel, stride, padding, count_include_pad)
        divisor = counts[0]
        for cnt in counts[1:]:
            divisor = np.multiply.outer(divisor, cnt)
        y = sums / _tensor(divisor.astype(np.float64), dtype=x.dtype, device=x.device)
    return y.squeeze(0) if unbatched else y


def _avg_pool1d_samples(make):
    yield Sample((make(2, 3, 7), 3), name="kernel 3")
    yield Sample((make(1, 2, 8), 3), {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
                 name="padding, ceil_mode, exclude pad")
    yield Sample((make(2, 7), 4, 2, 2, True), name="unbatched, ceil_mode, include pad")


def _avg_pool2d_samples(make):
    yield Sample((make(1, 2, 4, 4), 2), name="kernel 2")
    yield Sample((make(2, 1, 5, 6), (3, 2)), {"stride": (2, 1), "padding": (1, 1), "count_include_pad": False},
                 name="stride, padding, exclude pad")
    yield Sample((make(1, 1, 5, 5), 2), {"ceil_mode": True, "padding": 1}, name="ceil_mode, include pad")
    yield Sample((make(2, 4, 4, noncontiguous=True), 3), {"stride": 1, "divisor_override": 2},
                 name="unbatched, divisor_override")


@ops.op(namespaces=("ember", "functional"), torch="torch.nn.functional.avg_pool1d", samples=_avg_pool1d_samples)
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over sliding windows of (N, C, L) input (``torch.nn.functional.avg_pool1d``).

    Shape:
        - input: ``(N, C, L_in)`` or unbatched ``(C, L_in)``, floating point.
        - output: ``(N, C, L_out)`` (no N when unbatched), each ``S_out = floor((S_in + 2 * padding - kernel_size)
          / stride + 1)`` (ceil with ``ceil_mode``); the dtype of ``input``.

    Raises:
        DimensionError: ``input`` is not 2-D or 3-D.
        ShapeError: a non-batch dim is empty, or the windows do not fit (an output size below 1).
        ArgumentError: a size argument is not an int or an n-tuple, ``kernel_size``, ``stride`` or ``dilation`` is
            not positive, or ``padding`` exceeds half the kernel.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.avg_pool1d``."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def _avg_pool2d_errors(make):
    yield ErrorInput(Sample((make(4, 4), 2)), RuntimeError, r"avg_pool2d\(\).*3D \(unbatched\) or 4D.*\(4, 4\)")


@ops.op(namespaces=("functional",), samples=_avg_pool2d_samples, errors=_avg_pool2d_errors)
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over sliding windows of (N, C, H, W) input (``torch.nn.functional.avg_pool2d``).

    Shape:
        - input: ``(N, C, H_in, W_in)`` or unbatched ``(C, H_in, W_in)``, floating point.
        - output: ``(N, C, H_out, W_out)`` (no N when unbatched), each ``S_out = floor((S_in + 2 * padding -
          kernel_size) / stride + 1)`` (ceil with ``ceil_mode``); the dtype of ``input``.

    Raises:
        DimensionError: ``input`` is not 3-D or 4-D.
        ShapeError: a non-batch dim is empty, or the windows do not fit (an output size below 1).
        ArgumentError: a size argument is not an int or an n-tuple, ``kernel_size``, ``stride`` or ``dilation`` is
            not positive, or ``padding`` exceeds half the kernel.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.avg_pool2d``."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


# -- adaptive pooling -----------------------------------------------------------------------------

def _output_size(op, output_size, size):
    n = len(size)
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != n:
            raise ArgumentError(f"{op}(): output_size must have {n} elements, got {output_size!r}")
        out = tuple(s if o is None else int(o) for o, s in zip(output_size, size))
    else:
        out = (int(output_size),) * n
    if any(o < 1 for o in out):
        raise ArgumentError(f"{op}(): output_size must be positive, got {output_size!r}")
    return out


def averaging_matrix(s, o):
    """(o, s) matrix averaging PyTorch's adaptive window i = [floor(i*s/o), ceil((i+1)*s/o))."""
    start = (np.arange(o) * s) // o
    end = -((-(np.arange(o) + 1) * s) // o)
    cols = np.arange(s)
    inside = (cols >= start[:, None]) & (cols < end[:, None])
    return inside / (end - start)[:, None]


def apply_along(x, dim, matrix):
    """``matrix`` (out, in) applied to dim ``dim`` of ``x``: a separable linear map, as a matmul."""
    m = _tensor(matrix, dtype=x.dtype, device=x.device)
    nd = x.dim()
    if dim == nd - 1:
        return x @ m.mT
    if dim == nd - 2:
        return m @ x
    return (x.movedim(dim, -1) @ m.mT).movedim(-1, dim)


def _adaptive_avg_pool(op, n, input, output_size):
    x, unbatched = _batched(op, input, n)
    size = tuple(x.shape[2:])
    out = _output_size(op, output_size, size)
    if any(s == 0 for s in size):
        raise ShapeError(f"{op}(): expected input with non-zero spatial size, got shape {tuple(input.shape)}")
    for i, (s, o) in enumerate(zip(size, out)):
        if s != o:
            x = apply_along(x, 2 + i, averaging_matrix(s, o))
    return x.squeeze(0) if unbatched else x


@ops.op(namespaces=("ember", "functional"), torch="torch.nn.functional.adaptive_avg_pool1d",
        samples=lambda make: [Sample((make(2, 3, 7), 3)), Sample((make(2, 5), 5)), Sample((make(1, 2, 4), 6))])
def adaptive_avg_pool1d(input, output_size):
    """Mean over ``output_size`` windows covering L, sized as PyTorch's
    (``torch.nn.functional.adaptive_avg_pool1d``).

    Shape:
        - input: ``(N, C, L_in)`` or unbatched ``(C, L_in)``, floating point, non-empty spatial dims.
        - output: ``(N, C, *output_size)`` (no N when unbatched; None in ``output_size`` keeps that dim), the dtype
          of ``input``.

    Raises:
        DimensionError: ``input`` is not 2-D or 3-D.
        ShapeError: a spatial dim of ``input`` is empty.
        ArgumentError: ``output_size`` is not positive or does not have one entry per spatial dim.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.adaptive_avg_pool1d``."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


@ops.op(namespaces=("functional",),
        samples=lambda make: [Sample((make(1, 2, 5, 7), (2, 3))), Sample((make(2, 4, 4), 2)),
                              Sample((make(1, 1, 5, 6), (None, 4)))])
def adaptive_avg_pool2d(input, output_size):
    """Mean over an ``output_size`` grid of windows (``torch.nn.functional.adaptive_avg_pool2d``).

    Shape:
        - input: ``(N, C, H_in, W_in)`` or unbatched ``(C, H_in, W_in)``, floating point, non-empty spatial dims.
        - output: ``(N, C, *output_size)`` (no N when unbatched; None in ``output_size`` keeps that dim), the dtype
          of ``input``.

    Raises:
        DimensionError: ``input`` is not 3-D or 4-D.
        ShapeError: a spatial dim of ``input`` is empty.
        ArgumentError: ``output_size`` is not positive or does not have one entry per spatial dim.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.adaptive_avg_pool2d``."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def _adaptive_max_pool(op, n, input, output_size, return_indices):
    x, unbatched = _batched(op, input, n)
    size = tuple(x.shape[2:])
    if any(s == 0 for s in size):
        raise ShapeError(f"{op}(): expected input with non-zero spatial size, got shape {tuple(input.shape)}")
    out, indices = apply(_ADAPTIVE_MAX_POOL[n], x, output_size=_output_size(op, output_size, size))
    if unbatched:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return (out, indices) if return_indices else out


@ops.op(primitive=AdaptiveMaxPool1d, namespaces=("ember", "functional"), torch="torch.nn.functional.adaptive_max_pool1d",
        samples=lambda make: [Sample((make(2, 3, 7), 3)), Sample((make(2, 5), 2, True))])
def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Maximum over adaptive windows of L (``torch.nn.functional.adaptive_max_pool1d``).

    Shape:
        - input: ``(N, C, L_in)`` or unbatched ``(C, L_in)``, floating point, non-empty spatial dims.
        - output: ``(N, C, *output_size)`` (no N when unbatched; None in ``output_size`` keeps that dim), the dtype
          of ``input``; with ``return_indices``, also int64 indices of that shape.

    Raises:
        DimensionError: ``input`` is not 2-D or 3-D.
        ShapeError: a spatial dim of ``input`` is empty.
        ArgumentError: ``output_size`` is not positive or does not have one entry per spatial dim.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.adaptive_max_pool1d``."""
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


@ops.op(primitive=AdaptiveMaxPool2d, namespaces=("functional",),
        samples=lambda make: [Sample((make(1, 2, 5, 7), (2, 3))), Sample((make(2, 4, 4), 2, True)),
                              Sample((make(1, 1, 5, 3), (None, 2)), {"return_indices": True})])
def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maximum over an ``output_size`` grid of adaptive windows; indices are flat h * W + w
    (``torch.nn.functional.adaptive_max_pool2d``).

    Shape:
        - input: ``(N, C, H_in, W_in)`` or unbatched ``(C, H_in, W_in)``, floating point, non-empty spatial dims.
        - output: ``(N, C, *output_size)`` (no N when unbatched; None in ``output_size`` keeps that dim), the dtype
          of ``input``; with ``return_indices``, also int64 indices of that shape.

    Raises:
        DimensionError: ``input`` is not 3-D or 4-D.
        ShapeError: a spatial dim of ``input`` is empty.
        ArgumentError: ``output_size`` is not positive or does not have one entry per spatial dim.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.adaptive_max_pool2d``."""
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)
