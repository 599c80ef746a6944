"""The remaining loss modules (``torch.nn``): SoftMarginLoss, HingeEmbeddingLoss, PoissonNLLLoss,
GaussianNLLLoss, MultiLabelSoftMarginLoss, MultiMarginLoss, MultiLabelMarginLoss,
TripletMarginWithDistanceLoss, each a thin Module over its functional loss."""

from __future__ import annotations

import numpy as np

import ember
from ember.nn import LayerSample
from ember.nn import functional as F

from ._checks import expect_tensor
from .loss import _Loss, _WeightedLoss

__all__ = ["SoftMarginLoss", "HingeEmbeddingLoss", "PoissonNLLLoss", "GaussianNLLLoss", "MultiLabelSoftMarginLoss",
           "MultiMarginLoss", "MultiLabelMarginLoss", "TripletMarginWithDistanceLoss"]


def _signs(make, *shape):
    return make.index(np.where(np.random.default_rng(3).random(shape) > 0.5, 1.0, -1.0)).to(make.dtype)


class SoftMarginLoss(_Loss):
    """log(1 + exp(-y x)) (``torch.nn.SoftMarginLoss``).

    Shape:
        - input: ``(*)``; any dtype but bool.
        - target: ``(*)``, the shape of ``input``, values 1 or -1.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(*)``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ShapeError: ``input`` and ``target`` shapes do not broadcast.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.SoftMarginLoss``."""

    def forward(self, input, target):
        expect_tensor(self, input)
        return F.soft_margin_loss(input, target, reduction=self.reduction)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4), _signs(make, 3, 4)))]


class HingeEmbeddingLoss(_Loss):
    """x for y = 1, max(0, margin - x) for y = -1 (``torch.nn.HingeEmbeddingLoss``).

    Shape:
        - input: ``(*)``, floating point.
        - target: ``(*)``, the shape of ``input``, values 1 or -1.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(*)``.

    Raises:
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        TypeError: ``input`` or ``target`` is not a Tensor.
        ShapeError: ``input`` and ``target`` shapes do not broadcast.
        DTypeError: ``input`` is not floating point.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.HingeEmbeddingLoss``."""

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        expect_tensor(self, input)
        expect_tensor(self, target, "target")
        if input.shape != target.shape:  # else the op's where() fails, naming shapes it made itself
            try:
                np.broadcast_shapes(input.shape, target.shape)
            except ValueError:
                raise ember.ops.ShapeError(f"{self._get_name()}({self.extra_repr()}): expected target of the shape of "
                                           f"input {tuple(input.shape)} (or broadcastable to it), got "
                                           f"{tuple(target.shape)}") from None
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)

    @staticmethod
    def samples(make):
        return [LayerSample((0.5,), inputs=(make(3, 4), _signs(make, 3, 4)))]


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood (``torch.nn.PoissonNLLLoss``).

    Shape:
        - log_input: ``(*)``, the log-rate (or the rate with ``log_input=False``).
        - target: ``(*)``, the shape of ``log_input``.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(*)``.

    Raises:
        TypeError: ``log_input`` is not a Tensor.
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ShapeError: the two shapes do not broadcast.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.PoissonNLLLoss``."""

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None, eps: float = 1e-8, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        expect_tensor(self, log_input, "log_input")
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4), make(3, 4, low=0.0, high=3.0, requires_grad=False)))]


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood with predicted variance (``torch.nn.GaussianNLLLoss``).

    Shape:
        - input: ``(N, *)`` or ``(*)``, the predicted means.
        - target: the shape of ``input``.
        - var: the shape of ``input``, or it with one dim of size 1 (one variance shared).
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', the shape of ``input``.

    Raises:
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ValueError: ``var`` has a negative entry.
        ShapeError: the shapes do not broadcast.
        DTypeError: ``var`` is not floating point.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.GaussianNLLLoss``."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(None, None, reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        expect_tensor(self, input)
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4), make(3, 4, requires_grad=False), make(3, 4, low=0.2, high=2.0)))]


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Per-class binary cross entropy with logits, averaged over classes (``torch.nn.MultiLabelSoftMarginLoss``).

    Shape:
        - input: ``(N, C)`` or ``(C,)`` logits, floating point.
        - target: the shape of ``input``, values 0 or 1.
        - weight (constructor): ``(C,)``.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(N,)``.

    Raises:
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ShapeError: the shapes do not broadcast.
        DTypeError: ``input`` is not floating point.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.MultiLabelSoftMarginLoss``."""

    def forward(self, input, target):
        expect_tensor(self, input)
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)

    @staticmethod
    def samples(make):
        target = make.index((np.random.default_rng(4).random((3, 4)) > 0.5).astype(float)).to(make.dtype)
        return [LayerSample(inputs=(make(3, 4), target))]


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss (``torch.nn.MultiMarginLoss``).

    Shape:
        - input: ``(N, C)`` or ``(C,)``, floating point.
        - target: ``(N,)`` or ``()`` class indices in [0, C).
        - weight (constructor): ``(C,)``.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(N,)``.

    Raises:
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ValueError: ``p`` is not 1 or 2 (at construction).
        ShapeError: ``target`` does not fit ``input``'s batch.
        DTypeError: ``input`` is not floating point.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.MultiMarginLoss``."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        expect_tensor(self, input)
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4), make.index([0, 3, 1])))]


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss over target classes listed up to the first -1 (``torch.nn.MultiLabelMarginLoss``).

    Shape:
        - input: ``(N, C)`` or ``(C,)``, floating point.
        - target: the shape of ``input``, class indices padded with -1.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(N,)``.

    Raises:
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ShapeError: ``target``'s shape is not ``input``'s.
        OutOfRangeError: a target value is outside [-1, C).
        DTypeError: ``input`` is not floating point.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.MultiLabelMarginLoss``."""

    def forward(self, input, target):
        expect_tensor(self, input)
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(2, 4), make.index([[3, 0, -1, 1], [1, 2, 3, -1]])))]


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet loss with a custom distance (``torch.nn.TripletMarginWithDistanceLoss``).

    Shape:
        - anchor, positive, negative: ``(N, D)`` or ``(D,)``, shapes ``distance_function`` accepts (pairwise
          distance by default).
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(N,)``.

    Raises:
        TypeError: ``anchor`` is not a Tensor.
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ShapeError: the default distance gets shapes that do not broadcast.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.TripletMarginWithDistanceLoss``."""

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False, reduction: str = "mean"):
        super().__init__(None, None, reduction)
        if distance_function is None:  # PyTorch stores the default as a PairwiseDistance submodule
            from .distance import PairwiseDistance
            distance_function = PairwiseDistance()
        self.distance_function, self.margin, self.swap = distance_function, margin, swap

    def forward(self, anchor, positive, negative):
        expect_tensor(self, anchor, "anchor")
        return F.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=self.distance_function,
                                                   margin=self.margin, swap=self.swap, reduction=self.reduction)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4), make(3, 4), make(3, 4)))]
