"""Activation modules, each a thin Module over its functional op."""

from __future__ import annotations

from ember.nn import LayerSample, Module
from ember.nn import functional as F

__all__ = ["ReLU", "Softmax", "LogSoftmax", "Tanh"]


class ReLU(Module):
    """max(x, 0) (``torch.nn.ReLU``)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4, away_from_zero=True),))]


class Tanh(Module):
    def forward(self, input):
        return F.tanh(input)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4),))]


class Softmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    @staticmethod
    def samples(make):
        return [LayerSample((1,), inputs=(make(3, 4),))]


class LogSoftmax(Softmax):
    def forward(self, input):
        return F.log_softmax(input, self.dim)
