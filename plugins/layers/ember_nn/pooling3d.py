"""3-d pooling layers: MaxPool3d, AvgPool3d, AdaptiveAvgPool3d, AdaptiveMaxPool3d (``torch.nn``), over the
functional 3-d pools, for (N, C, D, H, W) or (C, D, H, W) input."""

from __future__ import annotations

from ember.nn import LayerSample, Module
from ember.nn import functional as F

from .pooling import _AvgPoolNd, _MaxPoolNd

__all__ = ["MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d"]


class MaxPool3d(_MaxPoolNd):
    """Max over sliding windows (``torch.nn.MaxPool3d``)."""

    _n = 3

    def forward(self, input):
        return F.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    @staticmethod
    def samples(make):
        return [LayerSample((2,), inputs=(make(1, 2, 2, 4, 4),)),
                LayerSample((2, 1), {"return_indices": True}, inputs=(make(2, 3, 3, 3),), name="indices, unbatched")]


class AvgPool3d(_AvgPoolNd):
    """Mean over sliding windows (``torch.nn.AvgPool3d``)."""

    _n = 3

    def forward(self, input):
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    @staticmethod
    def samples(make):
        return [LayerSample((2,), inputs=(make(1, 2, 2, 4, 4),)),
                LayerSample((2, 1, 1), {"count_include_pad": False}, inputs=(make(2, 3, 3, 3),), name="padded, unbatched")]


class AdaptiveAvgPool3d(Module):
    """Mean over an ``output_size`` grid of windows (``torch.nn.AdaptiveAvgPool3d``)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool3d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    @staticmethod
    def samples(make):
        return [LayerSample(((1, 2, 2),), inputs=(make(1, 2, 2, 3, 4),)), LayerSample((1,), inputs=(make(2, 2, 2, 2),))]


class AdaptiveMaxPool3d(Module):
    """Max over an ``output_size`` grid of windows (``torch.nn.AdaptiveMaxPool3d``)."""

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    @staticmethod
    def samples(make):
        return [LayerSample(((1, 2, 2),), inputs=(make(1, 2, 2, 3, 4),))]
