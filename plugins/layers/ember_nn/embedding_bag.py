"""EmbeddingBag: sums, means or maxima of bags of embedding rows (``torch.nn.EmbeddingBag``)."""

from __future__ import annotations

import ember
from ember.nn import LayerSample, Module, Parameter, init
from ember.nn import functional as F

from ._checks import expect_tensor

__all__ = ["EmbeddingBag"]


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings (``torch.nn.EmbeddingBag``); weight from N(0, 1).

    Shape:
        - input: ``(B, L)`` fixed-length bags, or ``(S,)`` concatenated bags with ``offsets``, indices in [0,
          num_embeddings).
        - offsets: ``(B,)`` (or ``(B + 1,)`` with ``include_last_offset``), 1-D input only.
        - per_sample_weights: the shape of ``input`` ('sum' mode only).
        - output: ``(B, embedding_dim)``, the weight's dtype.

    Raises:
        AssertionError: ``padding_idx`` is outside [-num_embeddings, num_embeddings) (at construction).
        ValueError: ``input`` is not 1-D or 2-D, or 1-D ``input`` comes without 1-D ``offsets``.
        ValueError: ``mode`` is not 'sum', 'mean' or 'max' (at the first forward, as in PyTorch).
        OutOfRangeError: an index is outside [0, num_embeddings).
        TypeError: ``input`` is not a Tensor.
        DTypeError: ``input`` is not Long or Int (a TypeError and a RuntimeError).

    PyTorch: ``torch.nn.EmbeddingBag``."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm=None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False, _weight=None,
                 include_last_offset: bool = False, padding_idx=None, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(ember.empty(num_embeddings, embedding_dim, device=device, dtype=dtype))
            self.reset_parameters()
        else:
            self.weight = Parameter(_weight)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with ember.no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input, offsets=None, per_sample_weights=None):
        expect_tensor(self, input)
        # the op would index with floats; it checks the rank first (ValueError), as PyTorch does
        if input.dtype not in (ember.int64, ember.int32) and input.dim() in (1, 2):
            raise ember.ops.DTypeError(f"{self._get_name()}({self.extra_repr()}): expected tensor for argument #1 "
                                       f"'indices' to have one of the following scalar types: Long, Int; got "
                                       f"{input.dtype}")
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode='{self.mode}'"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, max_norm=None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                        include_last_offset: bool = False, padding_idx=None):
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings, include_last_offset,
                  padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    @staticmethod
    def samples(make):
        return [LayerSample((10, 3), inputs=(make.index([[1, 2], [4, 5]]),)),
                LayerSample((10, 3), {"mode": "sum"}, inputs=(make.index([1, 2, 4, 5]), make.index([0, 3])),
                            name="sum, offsets")]
