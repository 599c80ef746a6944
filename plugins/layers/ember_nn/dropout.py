"""Dropout layers: Dropout, Dropout1d, Dropout2d, Dropout3d (active in training mode only)."""

from __future__ import annotations

from ember.nn import LayerSample, Module
from ember.nn import functional as F

from ._checks import expect_tensor

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zeroes each element with probability ``p`` and scales the rest by 1/(1-p) (``torch.nn.Dropout``); the
    identity in eval mode.

    Shape:
        - input: ``(*)``, any shape.
        - output: the shape and dtype of ``input``.

    Raises:
        ValueError: ``p`` is outside [0, 1] (at construction).
        DTypeError: in training, ``input`` is not floating point (0 < p < 1 needs a float result).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Dropout``."""

    def forward(self, input):
        expect_tensor(self, input)
        return F.dropout(input, self.p, self.training, self.inplace)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(4, 5),)), LayerSample((0.2,), inputs=(make(2, 3, 4),), name="p=0.2")]


class Dropout1d(_DropoutNd):
    """Zeroes whole channels of ``(N, C, L)`` or ``(C, L)`` with probability ``p``, scaling the rest by 1/(1-p)
    (``torch.nn.Dropout1d``); the identity in eval mode.

    Shape:
        - input: ``(N, C, L)`` or ``(C, L)``.
        - output: the shape and dtype of ``input``.

    Raises:
        ValueError: ``p`` is outside [0, 1] (at construction).
        ShapeError: ``input`` is not 2-D or 3-D.
        DTypeError: in training, ``input`` is not floating point (0 < p < 1 needs a float result).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Dropout1d``."""

    def forward(self, input):
        expect_tensor(self, input)
        return F.dropout1d(input, self.p, self.training, self.inplace)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(2, 4, 5),))]


class Dropout2d(_DropoutNd):
    """Zeroes whole channels of ``(N, C, H, W)`` or ``(C, H, W)`` with probability ``p``, scaling the rest by
    1/(1-p) (``torch.nn.Dropout2d``); the identity in eval mode.

    Shape:
        - input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - output: the shape and dtype of ``input``.

    Raises:
        ValueError: ``p`` is outside [0, 1] (at construction).
        ShapeError: ``input`` is not 3-D or 4-D (2-D input is taken as unbatched, with a warning).
        DTypeError: in training, ``input`` is not floating point (0 < p < 1 needs a float result).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Dropout2d``."""

    def forward(self, input):
        expect_tensor(self, input)
        return F.dropout2d(input, self.p, self.training, self.inplace)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(2, 4, 3, 3),)), LayerSample((0.3,), inputs=(make(4, 3, 3),),
                                                                     name="unbatched")]


class Dropout3d(_DropoutNd):
    """Zeroes whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` with probability ``p``, scaling the rest by
    1/(1-p) (``torch.nn.Dropout3d``); the identity in eval mode.

    Shape:
        - input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
        - output: the shape and dtype of ``input``.

    Raises:
        ValueError: ``p`` is outside [0, 1] (at construction).
        ShapeError: ``input`` is not 4-D or 5-D.
        DTypeError: in training, ``input`` is not floating point (0 < p < 1 needs a float result).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Dropout3d``."""

    def forward(self, input):
        expect_tensor(self, input)
        return F.dropout3d(input, self.p, self.training, self.inplace)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(2, 3, 2, 2, 2),))]
