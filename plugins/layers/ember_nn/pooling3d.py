"""3-d pooling layers: MaxPool3d, AvgPool3d, AdaptiveAvgPool3d, AdaptiveMaxPool3d (``torch.nn``), over the
functional 3-d pools, for (N, C, D, H, W) or (C, D, H, W) input."""

from __future__ import annotations

from ember.nn import LayerSample, Module
from ember.nn import functional as F

from ._checks import expect_tensor

from .pooling import _AvgPoolNd, _MaxPoolNd

__all__ = ["MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d"]


class MaxPool3d(_MaxPoolNd):
    """Max over sliding windows of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` (``torch.nn.MaxPool3d``);
    ``return_indices=True`` also returns the flat indices of the maxima.

    Shape:
        - input: ``(N, C, D_in, H_in, W_in)`` or ``(C, D_in, H_in, W_in)``, floating point.
        - output: ``(N, C, D_out, H_out, W_out)`` or ``(C, D_out, H_out, W_out)``, each ``S_out = floor((S_in + 2 *
          padding - dilation * (kernel_size - 1) - 1) / stride + 1)`` (ceil with ``ceil_mode``); the dtype of
          ``input`` (indices int64).

    Raises:
        DimensionError: ``input`` is not 4-D or 5-D.
        ShapeError: the windows do not fit the padded input (an output size below 1).
        ArgumentError: a size argument is not positive or not an int or an n-tuple, or ``padding`` exceeds half the
            kernel.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.MaxPool3d``."""

    _n = 3

    def forward(self, input):
        return F.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    @staticmethod
    def samples(make):
        return [LayerSample((2,), inputs=(make(1, 2, 2, 4, 4),)),
                LayerSample((2, 1), {"return_indices": True}, inputs=(make(2, 3, 3, 3),), name="indices, unbatched")]


class AvgPool3d(_AvgPoolNd):
    """Mean over sliding windows of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` (``torch.nn.AvgPool3d``).

    Shape:
        - input: ``(N, C, D_in, H_in, W_in)`` or ``(C, D_in, H_in, W_in)``, floating point.
        - output: ``(N, C, D_out, H_out, W_out)`` or ``(C, D_out, H_out, W_out)``, each ``S_out = floor((S_in + 2 *
          padding - kernel_size) / stride + 1)`` (ceil with ``ceil_mode``); the dtype of ``input``.

    Raises:
        DimensionError: ``input`` is not 4-D or 5-D.
        ShapeError: the windows do not fit the padded input (an output size below 1).
        ArgumentError: a size argument is not positive or not an int or an n-tuple, or ``padding`` exceeds half the
            kernel.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.AvgPool3d``."""

    _n = 3

    def forward(self, input):
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    @staticmethod
    def samples(make):
        return [LayerSample((2,), inputs=(make(1, 2, 2, 4, 4),)),
                LayerSample((2, 1, 1), {"count_include_pad": False}, inputs=(make(2, 3, 3, 3),), name="padded, unbatched")]


class AdaptiveAvgPool3d(Module):
    """Mean over an ``output_size`` grid of windows that tile ``(N, C, D, H, W)`` or ``(C, D, H, W)``
    (``torch.nn.AdaptiveAvgPool3d``); None in ``output_size`` keeps that dim's size.

    Shape:
        - input: ``(N, C, D_in, H_in, W_in)`` or ``(C, D_in, H_in, W_in)``, floating point, with non-empty spatial
          dims.
        - output: ``(N, C, D_out, H_out, W_out)`` or ``(C, D_out, H_out, W_out)`` with ``output_size``; the dtype
          of ``input``.

    Raises:
        DimensionError: ``input`` is not 4-D or 5-D.
        ShapeError: a spatial dim of ``input`` is empty.
        ArgumentError: ``output_size`` is not positive or has the wrong length.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.AdaptiveAvgPool3d``."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        expect_tensor(self, input)
        return F.adaptive_avg_pool3d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    @staticmethod
    def samples(make):
        return [LayerSample(((1, 2, 2),), inputs=(make(1, 2, 2, 3, 4),)), LayerSample((1,), inputs=(make(2, 2, 2, 2),))]


class AdaptiveMaxPool3d(Module):
    """Max over an ``output_size`` grid of windows that tile ``(N, C, D, H, W)`` or ``(C, D, H, W)``
    (``torch.nn.AdaptiveMaxPool3d``); None in ``output_size`` keeps that dim's size; ``return_indices=True`` also
    returns the flat indices of the maxima.

    Shape:
        - input: ``(N, C, D_in, H_in, W_in)`` or ``(C, D_in, H_in, W_in)``, floating point, with non-empty spatial
          dims.
        - output: ``(N, C, D_out, H_out, W_out)`` or ``(C, D_out, H_out, W_out)`` with ``output_size``; the dtype
          of ``input`` (indices int64).

    Raises:
        DimensionError: ``input`` is not 4-D or 5-D.
        ShapeError: a spatial dim of ``input`` is empty.
        ArgumentError: ``output_size`` is not positive or has the wrong length.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.AdaptiveMaxPool3d``."""

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        expect_tensor(self, input)
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    @staticmethod
    def samples(make):
        return [LayerSample(((1, 2, 2),), inputs=(make(1, 2, 2, 3, 4),))]
