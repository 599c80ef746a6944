"""Embedding: a lookup table of vectors (``torch.nn.Embedding``), with padding_idx and from_pretrained."""

from __future__ import annotations

import ember
from ember.nn import LayerSample, Module, Parameter, init
from ember.nn import functional as F

from ._checks import expect_tensor

__all__ = ["Embedding"]


class Embedding(Module):
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by integer indices; drawn from N(0, 1), the
    ``padding_idx`` row zero and never updated by the gradient.

    Shape:
        - input: ``(*)`` indices in [0, num_embeddings), int64 or int32.
        - output: ``(*, embedding_dim)``, the weight's dtype.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        PaddingIndexError: ``padding_idx`` is outside [-num_embeddings, num_embeddings) (a ValueError and an
            AssertionError; at construction).
        ValueError: ``_weight`` is not ``(num_embeddings, embedding_dim)`` (at construction).
        TypeError: ``input`` is not int64 or int32.
        OutOfRangeError: an index is outside [0, num_embeddings).

    PyTorch: ``torch.nn.Embedding``."""

    # The padding row gets no gradient by design (as in PyTorch), so finite differences disagree there;
    # the kit still compares this sample's gradients with PyTorch's.
    gradcheck_exempt = ("padding_idx", "negative padding_idx")

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False, _weight=None,
                 _freeze: bool = False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                from ember_ops.embedding import PaddingIndexError
                raise PaddingIndexError(f"Embedding: padding_idx must be within num_embeddings ({num_embeddings}), "
                                        f"got {padding_idx}")
            if padding_idx < 0:
                padding_idx += num_embeddings
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(ember.empty(num_embeddings, embedding_dim, device=device, dtype=dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight must have shape ({num_embeddings}, {embedding_dim}), got "
                                 f"{tuple(_weight.shape)}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def forward(self, input):
        expect_tensor(self, input)
        if input.dtype not in (ember.int64, ember.int32):
            raise TypeError(f"{self._get_name()}({self.extra_repr()}): expected integer (Long or Int) indices, "
                            f"got {input.dtype}")
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        if self.sparse:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False):
        """An Embedding over the given 2-D weights (frozen unless ``freeze=False``)."""
        if embeddings.dim() != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-dimensional, got shape "
                             f"{tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings.detach(), _freeze=freeze)

    @staticmethod
    def samples(make):
        return [LayerSample((6, 3), inputs=(make.index([[0, 2, 5], [1, 1, 4]]),)),
                LayerSample((5, 2), {"padding_idx": 1}, inputs=(make.index([1, 0, 1, 3]),), name="padding_idx"),
                LayerSample((5, 2), {"padding_idx": -1}, inputs=(make.index([4, 0, 0, 3]),),
                            name="negative padding_idx")]
