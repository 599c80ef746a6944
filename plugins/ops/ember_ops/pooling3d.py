"""3-d pooling (``max_pool3d``, ``avg_pool3d``, ``adaptive_avg_pool3d``, ``adaptive_max_pool3d``) over
(N, C, D, H, W) or (C, D, H, W) input: the n-dimensional pooling of pooling.py with n = 3."""

from __future__ import annotations

from ember.ops import OpTable, Sample

from .pooling import (AdaptiveMaxPool3d, MaxPool3dWithIndices, _adaptive_avg_pool, _adaptive_max_pool, _avg_pool,
                      _max_pool)

ops = OpTable()


def _max_samples(make):
    yield Sample((make(1, 1, 3, 4, 4), 2), name="kernel 2")
    yield Sample((make(1, 1, 4, 3, 4), (3, 2, 2)), {"stride": (2, 1, 2), "padding": (1, 0, 1), "ceil_mode": True},
                 name="stride, padding, ceil_mode")
    yield Sample((make(1, 3, 3, 3), 2), {"stride": 1, "return_indices": True}, name="unbatched, indices")


@ops.op(primitive=MaxPool3dWithIndices, namespaces=("ember", "functional"), torch="torch.nn.functional.max_pool3d",
        samples=_max_samples)
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over sliding windows of (N, C, D, H, W) input; indices are flat positions in D*H*W
    (``torch.nn.functional.max_pool3d``).

    Shape:
        - input: ``(N, C, D_in, H_in, W_in)`` or unbatched ``(C, D_in, H_in, W_in)``, floating point.
        - output: ``(N, C, D_out, H_out, W_out)`` (no N when unbatched), each ``S_out = floor((S_in + 2 * padding -
          dilation * (kernel_size - 1) - 1) / stride + 1)`` (ceil with ``ceil_mode``); the dtype of ``input``; with
          ``return_indices``, also int64 indices of that shape.

    Raises:
        DimensionError: ``input`` is not 4-D or 5-D.
        ShapeError: a non-batch dim is empty, or the windows do not fit (an output size below 1).
        ArgumentError: a size argument is not an int or an n-tuple, ``kernel_size``, ``stride`` or ``dilation`` is
            not positive, or ``padding`` exceeds half the kernel.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.max_pool3d``."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_samples(make):
    yield Sample((make(1, 1, 3, 4, 4), 2), name="kernel 2")
    yield Sample((make(1, 1, 4, 3, 4), (3, 2, 2)), {"stride": (2, 1, 2), "padding": (1, 0, 1), "count_include_pad": False},
                 name="stride, padding, exclude pad")
    yield Sample((make(1, 3, 3, 3), 2), {"stride": 1, "divisor_override": 3}, name="unbatched, divisor_override")


@ops.op(namespaces=("functional",), torch="torch.nn.functional.avg_pool3d", samples=_avg_samples)
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over sliding windows of (N, C, D, H, W) input (``torch.nn.functional.avg_pool3d``).

    Shape:
        - input: ``(N, C, D_in, H_in, W_in)`` or unbatched ``(C, D_in, H_in, W_in)``, floating point.
        - output: ``(N, C, D_out, H_out, W_out)`` (no N when unbatched), each ``S_out = floor((S_in + 2 * padding -
          kernel_size) / stride + 1)`` (ceil with ``ceil_mode``); the dtype of ``input``.

    Raises:
        DimensionError: ``input`` is not 4-D or 5-D.
        ShapeError: a non-batch dim is empty, or the windows do not fit (an output size below 1).
        ArgumentError: a size argument is not an int or an n-tuple, ``kernel_size``, ``stride`` or ``dilation`` is
            not positive, or ``padding`` exceeds half the kernel.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.avg_pool3d``."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


@ops.op(namespaces=("functional",), samples=lambda make: [Sample((make(1, 1, 2, 3, 4), (1, 2, 2))),
                                                      Sample((make(1, 3, 3, 4), 2), name="unbatched")])
def adaptive_avg_pool3d(input, output_size):
    """Mean over the windows that split D, H, W into ``output_size`` (``torch.nn.functional.adaptive_avg_pool3d``).

    Shape:
        - input: ``(N, C, D_in, H_in, W_in)`` or unbatched ``(C, D_in, H_in, W_in)``, floating point, non-empty
          spatial dims.
        - output: ``(N, C, *output_size)`` (no N when unbatched; None in ``output_size`` keeps that dim), the dtype
          of ``input``.

    Raises:
        DimensionError: ``input`` is not 4-D or 5-D.
        ShapeError: a spatial dim of ``input`` is empty.
        ArgumentError: ``output_size`` is not positive or does not have one entry per spatial dim.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.adaptive_avg_pool3d``."""
    return _adaptive_avg_pool("adaptive_avg_pool3d", 3, input, output_size)


@ops.op(primitive=AdaptiveMaxPool3d, namespaces=("functional",),
        samples=lambda make: [Sample((make(1, 1, 2, 3, 4), (1, 2, 2))),
                              Sample((make(1, 3, 3, 4), 2, True), name="unbatched, indices")])
def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over the windows that split D, H, W into ``output_size`` (``torch.nn.functional.adaptive_max_pool3d``).

    Shape:
        - input: ``(N, C, D_in, H_in, W_in)`` or unbatched ``(C, D_in, H_in, W_in)``, floating point, non-empty
          spatial dims.
        - output: ``(N, C, *output_size)`` (no N when unbatched; None in ``output_size`` keeps that dim), the dtype
          of ``input``; with ``return_indices``, also int64 indices of that shape.

    Raises:
        DimensionError: ``input`` is not 4-D or 5-D.
        ShapeError: a spatial dim of ``input`` is empty.
        ArgumentError: ``output_size`` is not positive or does not have one entry per spatial dim.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.adaptive_max_pool3d``."""
    return _adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size, return_indices)
