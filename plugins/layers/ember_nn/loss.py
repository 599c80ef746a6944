"""Loss modules: thin Modules over the functional losses, with PyTorch's constructor arguments."""

from __future__ import annotations

from ember.nn import LayerSample, Module
from ember.nn import functional as F

__all__ = ["CrossEntropyLoss", "NLLLoss"]


class _WeightedLoss(Module):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = "none" if reduce is False else ("sum" if size_average is False else "mean")
        self.reduction = reduction
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits against class indices or probabilities (``torch.nn.CrossEntropyLoss``)."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(4, 5), make.index([0, 4, 2, 1])), name="mean"),
                LayerSample(kwargs={"reduction": "sum", "label_smoothing": 0.1},
                            inputs=(make(4, 5), make.index([0, 4, 2, 1])), name="sum, smoothing")]


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (``torch.nn.NLLLoss``)."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(4, 5), make.index([0, 4, 2, 1])))]
