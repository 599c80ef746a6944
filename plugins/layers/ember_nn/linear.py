"""Linear-algebra layers: Identity, Linear, Flatten."""

from __future__ import annotations

import math

import ember
from ember.nn import LayerSample, Module, Parameter, init
from ember.nn import functional as F

__all__ = ["Identity", "Linear", "Flatten"]


class Identity(Module):
    """Returns its input unchanged; arguments are accepted and ignored, as in PyTorch."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4),))]


class Linear(Module):
    """``y = x @ W.T + b`` (``torch.nn.Linear``), W and b drawn from U(-1/sqrt(in), 1/sqrt(in)) as in PyTorch."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        if in_features < 0 or out_features < 0:
            raise ValueError(f"Linear: in_features and out_features must be non-negative, got "
                             f"({in_features}, {out_features})")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(ember.empty(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(ember.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if input.dim() == 0 or input.shape[-1] != self.in_features:
            raise ember.ops.ShapeError(
                f"Linear(in_features={self.in_features}, out_features={self.out_features}): expected input with "
                f"last dimension {self.in_features}, got input of shape {tuple(input.shape)}")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    @staticmethod
    def samples(make):
        return [LayerSample((4, 3), inputs=(make(5, 4),), name="batch"),
                LayerSample((4, 3), {"bias": False}, inputs=(make(2, 5, 4),), name="3-D, no bias"),
                LayerSample((4, 3), inputs=(make(4),), name="unbatched")]


class Flatten(Module):
    """Flattens dims ``start_dim..end_dim`` (``torch.nn.Flatten``; note start_dim defaults to 1 here)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(2, 3, 4),)), LayerSample((0,), inputs=(make(2, 3),))]
