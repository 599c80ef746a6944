"""Pooling layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, AdaptiveMaxPool1d/2d over the
functional pools, with PyTorch's options and the rank check that names the layer."""

from __future__ import annotations

from ember.nn import LayerSample, Module
from ember.nn import functional as F

from .conv import check_input

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
           "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


class _MaxPoolNd(Module):
    _n = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        check_input(self, input, self._n, None)
        pool = (F.max_pool1d, F.max_pool2d)[self._n - 1]
        return pool(input, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode,
                    return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of ``(N, C, L)`` or ``(C, L)`` (``torch.nn.MaxPool1d``); ``return_indices=True``
    also returns the flat indices of the maxima.

    Shape:
        - input: ``(N, C, L_in)`` or ``(C, L_in)``, floating point.
        - output: ``(N, C, L_out)`` or ``(C, L_out)``, each ``S_out = floor((S_in + 2 * padding - dilation *
          (kernel_size - 1) - 1) / stride + 1)`` (ceil with ``ceil_mode``); the dtype of ``input`` (indices int64).

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ShapeError: ``input`` is not 2-D or 3-D.
        ShapeError: the windows do not fit the padded input (an output size below 1).
        ArgumentError: a size argument is not positive or not an int or an n-tuple, or ``padding`` exceeds half the
            kernel.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.MaxPool1d``."""

    _n = 1

    @staticmethod
    def samples(make):
        return [LayerSample((2,), inputs=(make(2, 3, 6),)),
                LayerSample((3, 2, 1), {"ceil_mode": True, "return_indices": True}, inputs=(make(2, 7),),
                            name="padded, ceil, indices, unbatched")]


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows of ``(N, C, H, W)`` or ``(C, H, W)`` (``torch.nn.MaxPool2d``);
    ``return_indices=True`` also returns the flat indices of the maxima.

    Shape:
        - input: ``(N, C, H_in, W_in)`` or ``(C, H_in, W_in)``, floating point.
        - output: ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``, each ``S_out = floor((S_in + 2 * padding -
          dilation * (kernel_size - 1) - 1) / stride + 1)`` (ceil with ``ceil_mode``); the dtype of ``input``
          (indices int64).

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ShapeError: ``input`` is not 3-D or 4-D.
        ShapeError: the windows do not fit the padded input (an output size below 1).
        ArgumentError: a size argument is not positive or not an int or an n-tuple, or ``padding`` exceeds half the
            kernel.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.MaxPool2d``."""

    _n = 2

    @staticmethod
    def samples(make):
        return [LayerSample((2,), inputs=(make(2, 3, 4, 4),)),
                LayerSample(((3, 2), (2, 1), (1, 0)), {"dilation": (1, 2), "ceil_mode": True}, inputs=(make(1, 2, 5, 6),),
                            name="rectangular, dilated, ceil"),
                LayerSample((2,), {"return_indices": True}, inputs=(make(2, 4, 4),), name="indices, unbatched")]


class _AvgPoolNd(Module):
    _n = 2

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Mean over sliding windows of ``(N, C, L)`` or ``(C, L)`` (``torch.nn.AvgPool1d``).

    Shape:
        - input: ``(N, C, L_in)`` or ``(C, L_in)``, floating point.
        - output: ``(N, C, L_out)`` or ``(C, L_out)``, each ``S_out = floor((S_in + 2 * padding - kernel_size) /
          stride + 1)`` (ceil with ``ceil_mode``); the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ShapeError: ``input`` is not 2-D or 3-D.
        ShapeError: the windows do not fit the padded input (an output size below 1).
        ArgumentError: a size argument is not positive or not an int or an n-tuple, or ``padding`` exceeds half the
            kernel.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.AvgPool1d``."""

    _n = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True):
        single = (lambda v: (v,) if isinstance(v, int) else tuple(v))  # PyTorch keeps 1-tuples here
        super().__init__(single(kernel_size), single(stride if stride is not None else kernel_size), single(padding),
                         ceil_mode, count_include_pad)

    def forward(self, input):
        check_input(self, input, 1, None)
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    @staticmethod
    def samples(make):
        return [LayerSample((2,), inputs=(make(2, 3, 6),)),
                LayerSample((3, 2, 1), {"ceil_mode": True, "count_include_pad": False}, inputs=(make(2, 7),),
                            name="padded, ceil, unbatched")]


class AvgPool2d(_AvgPoolNd):
    """Mean over sliding windows of ``(N, C, H, W)`` or ``(C, H, W)`` (``torch.nn.AvgPool2d``).

    Shape:
        - input: ``(N, C, H_in, W_in)`` or ``(C, H_in, W_in)``, floating point.
        - output: ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``, each ``S_out = floor((S_in + 2 * padding -
          kernel_size) / stride + 1)`` (ceil with ``ceil_mode``); the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ShapeError: ``input`` is not 3-D or 4-D.
        ShapeError: the windows do not fit the padded input (an output size below 1).
        ArgumentError: a size argument is not positive or not an int or an n-tuple, or ``padding`` exceeds half the
            kernel.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.AvgPool2d``."""

    _n = 2

    def forward(self, input):
        check_input(self, input, 2, None)
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    @staticmethod
    def samples(make):
        return [LayerSample((2,), inputs=(make(2, 3, 4, 4),)),
                LayerSample(((3, 2), (2, 1), 1), {"count_include_pad": False, "ceil_mode": True},
                            inputs=(make(1, 2, 5, 6),), name="padded, excluded, ceil"),
                LayerSample((2,), {"divisor_override": 3}, inputs=(make(2, 4, 4),), name="divisor, unbatched")]


class _AdaptivePool(Module):
    _n = 2

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """Mean over an ``output_size`` grid of windows that tile ``(N, C, L)`` or ``(C, L)``
    (``torch.nn.AdaptiveAvgPool1d``); None in ``output_size`` keeps that dim's size.

    Shape:
        - input: ``(N, C, L_in)`` or ``(C, L_in)``, floating point, with non-empty spatial dims.
        - output: ``(N, C, L_out)`` or ``(C, L_out)`` with ``output_size``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ShapeError: ``input`` is not 2-D or 3-D.
        ShapeError: a spatial dim of ``input`` is empty.
        ArgumentError: ``output_size`` is not positive or has the wrong length.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.AdaptiveAvgPool1d``."""

    _n = 1

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, input):
        check_input(self, input, 1, None)
        return F.adaptive_avg_pool1d(input, self.output_size)

    @staticmethod
    def samples(make):
        return [LayerSample((3,), inputs=(make(2, 3, 7),)), LayerSample((1,), inputs=(make(2, 5),), name="global")]


class AdaptiveAvgPool2d(_AdaptivePool):
    """Mean over an ``output_size`` grid of windows that tile ``(N, C, H, W)`` or ``(C, H, W)``
    (``torch.nn.AdaptiveAvgPool2d``); None in ``output_size`` keeps that dim's size.

    Shape:
        - input: ``(N, C, H_in, W_in)`` or ``(C, H_in, W_in)``, floating point, with non-empty spatial dims.
        - output: ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)`` with ``output_size``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ShapeError: ``input`` is not 3-D or 4-D.
        ShapeError: a spatial dim of ``input`` is empty.
        ArgumentError: ``output_size`` is not positive or has the wrong length.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.AdaptiveAvgPool2d``."""

    _n = 2

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, input):
        check_input(self, input, 2, None)
        return F.adaptive_avg_pool2d(input, self.output_size)

    @staticmethod
    def samples(make):
        return [LayerSample(((2, 3),), inputs=(make(2, 3, 5, 7),)), LayerSample((1,), inputs=(make(2, 4, 4),),
                                                                                 name="global, unbatched")]


class AdaptiveMaxPool1d(_AdaptivePool):
    """Max over an ``output_size`` grid of windows that tile ``(N, C, L)`` or ``(C, L)``
    (``torch.nn.AdaptiveMaxPool1d``); None in ``output_size`` keeps that dim's size; ``return_indices=True`` also
    returns the flat indices of the maxima.

    Shape:
        - input: ``(N, C, L_in)`` or ``(C, L_in)``, floating point, with non-empty spatial dims.
        - output: ``(N, C, L_out)`` or ``(C, L_out)`` with ``output_size``; the dtype of ``input`` (indices int64).

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ShapeError: ``input`` is not 2-D or 3-D.
        ShapeError: a spatial dim of ``input`` is empty.
        ArgumentError: ``output_size`` is not positive or has the wrong length.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.AdaptiveMaxPool1d``."""

    _n = 1

    def forward(self, input):
        check_input(self, input, 1, None)
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)

    @staticmethod
    def samples(make):
        return [LayerSample((3,), inputs=(make(2, 3, 7),)),
                LayerSample((2,), {"return_indices": True}, inputs=(make(2, 5),), name="indices, unbatched")]


class AdaptiveMaxPool2d(_AdaptivePool):
    """Max over an ``output_size`` grid of windows that tile ``(N, C, H, W)`` or ``(C, H, W)``
    (``torch.nn.AdaptiveMaxPool2d``); None in ``output_size`` keeps that dim's size; ``return_indices=True`` also
    returns the flat indices of the maxima.

    Shape:
        - input: ``(N, C, H_in, W_in)`` or ``(C, H_in, W_in)``, floating point, with non-empty spatial dims.
        - output: ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)`` with ``output_size``; the dtype of ``input``
          (indices int64).

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ShapeError: ``input`` is not 3-D or 4-D.
        ShapeError: a spatial dim of ``input`` is empty.
        ArgumentError: ``output_size`` is not positive or has the wrong length.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.AdaptiveMaxPool2d``."""

    _n = 2

    def forward(self, input):
        check_input(self, input, 2, None)
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    @staticmethod
    def samples(make):
        return [LayerSample(((2, 3),), inputs=(make(2, 3, 5, 7),)),
                LayerSample((2,), {"return_indices": True}, inputs=(make(2, 4, 4),), name="indices, unbatched")]
