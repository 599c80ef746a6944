"""Distance layers: PairwiseDistance and CosineSimilarity (``torch.nn``), over their functional ops."""

from __future__ import annotations

from ember.nn import LayerSample, Module
from ember.nn import functional as F

__all__ = ["PairwiseDistance", "CosineSimilarity"]


class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p along the last dim (``torch.nn.PairwiseDistance``).

    Shape:
        - x1, x2: ``(N, D)`` or ``(D,)``, shapes that broadcast; any dtype but bool.
        - output: ``(N,)`` or ``()`` (``(N, 1)``/``(1,)`` with ``keepdim=True``), floating point.

    Raises:
        ShapeError: ``x1`` and ``x2`` do not broadcast.
        DTypeError: the inputs are bool.
        TypeError: an input is not a Tensor.
        DeviceError: the inputs are on different devices.

    PyTorch: ``torch.nn.PairwiseDistance``."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4), make(3, 4))),
                LayerSample((1.0, 1e-3, True), inputs=(make(2, 3), make(3)), name="p=1, keepdim")]


class CosineSimilarity(Module):
    """Cosine of the angle between x1 and x2 along ``dim`` (``torch.nn.CosineSimilarity``).

    Shape:
        - x1, x2: ``(*1, D, *2)``, shapes that broadcast, floating point.
        - output: ``(*1, *2)``, the broadcast shape without ``dim``.

    Raises:
        ShapeError: ``x1`` and ``x2`` do not broadcast.
        DTypeError: an input is not floating point.
        TypeError: an input is not a Tensor.
        DeviceError: the inputs are on different devices.

    PyTorch: ``torch.nn.CosineSimilarity``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4), make(3, 4))), LayerSample((0,), inputs=(make(4, 2), make(4, 2)), name="dim 0")]
