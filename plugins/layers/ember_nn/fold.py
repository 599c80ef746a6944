"""Fold and Unfold layers (``torch.nn.Fold``/``Unfold``): col2im and im2col over ``F.fold``/``F.unfold``."""

from __future__ import annotations

from ember.nn import LayerSample, Module
from ember.nn import functional as F

__all__ = ["Fold", "Unfold"]


class Fold(Module):
    """Sums sliding blocks (N, C*kh*kw, L) back into (N, C, H, W) (``torch.nn.Fold``).

    Shape:
        - input: ``(N, C * prod(kernel_size), L)`` or unbatched ``(C * prod(kernel_size), L)``, L the number of
          blocks that fit ``output_size``; floating point.
        - output: ``(N, C, *output_size)`` or ``(C, *output_size)``, the dtype of ``input``.

    Raises:
        DimensionError: ``input`` is not 2-D or 3-D.
        ShapeError: dim -2 is not divisible by ``prod(kernel_size)``, or L is not the number of blocks.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Fold``."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")

    @staticmethod
    def samples(make):
        return [LayerSample(((4, 5), (2, 2)), inputs=(make(2, 12, 12),)),
                LayerSample(((4, 4), 2), {"stride": 2}, inputs=(make(1, 8, 4),), name="stride 2")]


class Unfold(Module):
    """Extracts sliding blocks (N, C, H, W) -> (N, C*kh*kw, L) (``torch.nn.Unfold``).

    Shape:
        - input: ``(N, C, H, W)`` or ``(C, H, W)``, floating point.
        - output: ``(N, C * prod(kernel_size), L)`` or ``(C * prod(kernel_size), L)``, L the number of blocks; the
          dtype of ``input``.

    Raises:
        DimensionError: ``input`` is not 3-D or 4-D.
        ShapeError: the blocks do not fit the padded input.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Unfold``."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"

    @staticmethod
    def samples(make):
        return [LayerSample(((2, 2),), inputs=(make(2, 3, 4, 5),)),
                LayerSample((3,), {"padding": 1, "stride": 2}, inputs=(make(1, 2, 5, 5),), name="padded, strided")]
