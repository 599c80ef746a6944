"""MultiheadAttention (``torch.nn.MultiheadAttention``): batch_first, boolean or additive masks,
key padding masks, need_weights (averaged over heads or not), kdim/vdim, add_bias_kv, add_zero_attn.

Parameter names (``in_proj_weight``, ``in_proj_bias``, ``out_proj.weight``, ...) and initialisation
(xavier-uniform in-projection, zero biases) are PyTorch's. Attention is computed with batched matmuls
over (batch * heads), the same arithmetic as PyTorch's reference path.
"""

from __future__ import annotations

import math

import ember
from ember.nn import LayerSample, Module, Parameter, init
from ember.nn import functional as F

from ._checks import expect_tensor
from .linear import Linear

__all__ = ["MultiheadAttention"]


class NonDynamicallyQuantizableLinear(Linear):
    """PyTorch's class for ``out_proj`` (a plain Linear); kept so that ``repr`` prints the same."""


def _additive(mask, dtype, name, owner):
    """A boolean mask (True = not allowed to attend) as an additive float mask; float masks pass."""
    if mask is None:
        return None
    if mask.dtype == ember.bool:
        return ember.zeros(*mask.shape, dtype=dtype, device=mask.device).masked_fill(mask, float("-inf"))
    if not mask.is_floating_point():
        raise TypeError(f"{owner}: only bool and floating types of {name} are supported, got {mask.dtype}")
    return mask.to(dtype)


class MultiheadAttention(Module):
    """Attention from ``query`` to ``key``/``value`` over ``num_heads`` heads; returns ``(output, weights)``
    (weights None unless ``need_weights``).

    Shape:
        - query: ``(L, N, E)`` (``(N, L, E)`` with ``batch_first``) or unbatched ``(L, E)``, E = ``embed_dim``;
          floating point.
        - key, value: ``(S, N, kdim)`` and ``(S, N, vdim)`` (batch first or unbatched as ``query``).
        - key_padding_mask: ``(N, S)`` or ``(S,)``, bool or floating; attn_mask: ``(L, S)`` or ``(N * num_heads, L,
          S)``.
        - output: the shape of ``query``; weights: ``(N, L, S)`` averaged over heads, or ``(N, num_heads, L, S)``
          with ``average_attn_weights=False`` (no N when unbatched).

    Raises:
        TypeError: ``query``, ``key`` or ``value`` is not a Tensor.
        ValueError: ``embed_dim`` or ``num_heads`` is not positive, or ``num_heads`` does not divide ``embed_dim``
            (at construction).
        RuntimeError: ``is_causal=True`` without an ``attn_mask``.
        TypeError: a mask is neither bool nor floating point.
        ShapeError: ``query``, ``key``, ``value`` or a mask has a shape that does not fit (the message names which
            and what was expected).

    PyTorch: ``torch.nn.MultiheadAttention``."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads})")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads
        self.add_zero_attn = add_zero_attn
        kw = dict(device=device, dtype=dtype)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(ember.empty(3 * embed_dim, embed_dim, **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(ember.empty(embed_dim, embed_dim, **kw))
            self.k_proj_weight = Parameter(ember.empty(embed_dim, self.kdim, **kw))
            self.v_proj_weight = Parameter(ember.empty(embed_dim, self.vdim, **kw))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(ember.empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(ember.empty(1, 1, embed_dim, **kw))
            self.bias_v = Parameter(ember.empty(1, 1, embed_dim, **kw))
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _fail(self, message):
        raise ember.ops.ShapeError(f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads}): "
                                   f"{message}")

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True, is_causal: bool = False):
        for name, x in (("query", query), ("key", key), ("value", value)):
            expect_tensor(self, x, name)
        if query.dim() not in (2, 3):
            self._fail(f"expected query to be 2-D (unbatched) or 3-D (batched), got shape {tuple(query.shape)}")
        batched = query.dim() == 3
        if key.dim() != query.dim() or value.dim() != query.dim():
            self._fail(f"query, key and value must have the same number of dims, got shapes {tuple(query.shape)}, "
                       f"{tuple(key.shape)}, {tuple(value.shape)}")
        if query.shape[-1] != self.embed_dim:
            self._fail(f"expected query with last dimension {self.embed_dim}, got shape {tuple(query.shape)}")
        if key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            self._fail(f"expected key with last dimension {self.kdim} and value with {self.vdim}, got shapes "
                       f"{tuple(key.shape)} and {tuple(value.shape)}")
        if is_causal and attn_mask is None:
            raise RuntimeError("MultiheadAttention: need attn_mask if specifying the is_causal hint")
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        output, weights = self._attend(query, key, value, key_padding_mask, need_weights, attn_mask,
                                       average_attn_weights)
        if not batched:
            return output.squeeze(1), (weights.squeeze(0) if weights is not None else None)
        if self.batch_first:
            output = output.transpose(0, 1)
        return output, weights

    def _attend(self, query, key, value, key_padding_mask, need_weights, attn_mask, average):
        tgt_len, bsz, embed_dim = query.shape
        src_len = key.shape[0]
        heads, head_dim = self.num_heads, self.head_dim
        if key.shape[:2] != value.shape[:2]:
            self._fail(f"key and value must have the same sequence length and batch size, got shapes "
                       f"{tuple(key.shape)} and {tuple(value.shape)}")
        if self._qkv_same_embed_dim:
            w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        else:
            w_q, w_k, w_v = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        b_q = b_k = b_v = None
        if self.in_proj_bias is not None:
            b_q, b_k, b_v = self.in_proj_bias.chunk(3)
        q, k, v = F.linear(query, w_q, b_q), F.linear(key, w_k, b_k), F.linear(value, w_v, b_v)

        attn_mask = _additive(attn_mask, q.dtype, "attn_mask", "MultiheadAttention")
        if attn_mask is not None:
            if attn_mask.dim() == 2:
                if tuple(attn_mask.shape) != (tgt_len, src_len):
                    self._fail(f"the shape of the 2-D attn_mask is {tuple(attn_mask.shape)}, but should be "
                               f"{(tgt_len, src_len)}")
                attn_mask = attn_mask.unsqueeze(0)
            elif attn_mask.dim() == 3:
                if tuple(attn_mask.shape) != (bsz * heads, tgt_len, src_len):
                    self._fail(f"the shape of the 3-D attn_mask is {tuple(attn_mask.shape)}, but should be "
                               f"{(bsz * heads, tgt_len, src_len)}")
            else:
                self._fail(f"attn_mask must be 2-D or 3-D, got {attn_mask.dim()}-D")
        key_padding_mask = _additive(key_padding_mask, q.dtype, "key_padding_mask", "MultiheadAttention")
        if key_padding_mask is not None and tuple(key_padding_mask.shape) != (bsz, src_len):
            self._fail(f"expected key_padding_mask of shape {(bsz, src_len)}, got {tuple(key_padding_mask.shape)}")

        if self.bias_k is not None:
            k = ember.cat([k, self.bias_k.expand(1, bsz, embed_dim)])
            v = ember.cat([v, self.bias_v.expand(1, bsz, embed_dim)])
            attn_mask = F.pad(attn_mask, (0, 1)) if attn_mask is not None else None
            key_padding_mask = F.pad(key_padding_mask, (0, 1)) if key_padding_mask is not None else None

        q = q.reshape(tgt_len, bsz * heads, head_dim).transpose(0, 1)
        k = k.reshape(k.shape[0], bsz * heads, head_dim).transpose(0, 1)
        v = v.reshape(v.shape[0], bsz * heads, head_dim).transpose(0, 1)
        if self.add_zero_attn:
            zeros = ember.zeros(bsz * heads, 1, head_dim, dtype=q.dtype, device=q.device)
            k, v = ember.cat([k, zeros], 1), ember.cat([v, zeros], 1)
            attn_mask = F.pad(attn_mask, (0, 1)) if attn_mask is not None else None
            key_padding_mask = F.pad(key_padding_mask, (0, 1)) if key_padding_mask is not None else None
        src_len = k.shape[1]
        if key_padding_mask is not None:
            padding = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, heads, 1, src_len)
            padding = padding.reshape(bsz * heads, 1, src_len)
            attn_mask = padding if attn_mask is None else attn_mask + padding

        scores = (q * math.sqrt(1.0 / head_dim)).matmul(k.transpose(-2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = F.softmax(scores, -1)
        if self.dropout > 0.0 and self.training:
            weights = F.dropout(weights, self.dropout, True)
        out = weights.matmul(v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = F.linear(out, self.out_proj.weight, self.out_proj.bias).reshape(tgt_len, bsz, embed_dim)
        if not need_weights:
            return out, None
        weights = weights.reshape(bsz, heads, tgt_len, src_len)
        return out, (weights.mean(1) if average else weights)

    @staticmethod
    def samples(make):
        causal = make.index([[False, True, True], [False, False, True], [False, False, False]])
        return [LayerSample((4, 2), inputs=(make(3, 2, 4), make(5, 2, 4), make(5, 2, 4)), name="cross"),
                LayerSample((4, 2), {"batch_first": True},
                            inputs=(make(2, 3, 4), make(2, 3, 4), make(2, 3, 4), make.index([[False, False, True],
                                                                                             [False, False, False]]),
                                    True, causal, False), name="batch_first, masks, per-head weights"),
                LayerSample((6, 3), {"kdim": 2, "vdim": 5, "bias": False},
                            inputs=(make(2, 6), make(4, 2), make(4, 5)), name="kdim/vdim, unbatched"),
                LayerSample((4, 2), {"add_bias_kv": True, "add_zero_attn": True},
                            inputs=(make(3, 2, 4), make(3, 2, 4), make(3, 2, 4), None, True,
                                    make(3, 3, low=-1, high=0, requires_grad=False)), name="bias_kv, zero_attn, float mask"),
                LayerSample((4, 2), {"dropout": 0.5}, inputs=(make(3, 2, 4), make(3, 2, 4), make(3, 2, 4), None, False),
                            name="dropout, no weights")]
