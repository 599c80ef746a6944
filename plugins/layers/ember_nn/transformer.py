"""Transformer layers: TransformerEncoderLayer/Encoder, TransformerDecoderLayer/Decoder and Transformer,
with PyTorch's submodule names (``self_attn``, ``linear1``, ``norm1``, ``layers.0...``), post- or
pre-norm (``norm_first``), batch_first, masks and key padding masks."""

from __future__ import annotations

import copy

import ember
from ember.nn import LayerSample, Module, init
from ember.nn import functional as F

from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .normalization import LayerNorm
from ._checks import expect_tensor

__all__ = ["TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer", "TransformerDecoder",
           "Transformer"]


def _activation(activation, owner):
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"{owner}: activation should be relu/gelu or a callable, not {activation!r}")


def _feed_forward(layer, x):
    return layer.linear2(layer.dropout(layer.activation(layer.linear1(x))))


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with a residual and LayerNorm
    (``torch.nn.TransformerEncoderLayer``).

    Shape:
        - src: ``(S, N, E)`` (``(N, S, E)`` with ``batch_first``) or unbatched ``(S, E)``, E = ``d_model``;
          floating point.
        - src_mask: ``(S, S)``; src_key_padding_mask: ``(N, S)``.
        - output: the shape of ``src``.

    Raises:
        TypeError: ``src`` is not a Tensor.
        RuntimeError: ``activation`` is not 'relu', 'gelu' or a callable (at construction).
        ShapeError: ``src`` or a mask has a shape that does not fit (the message names which and what was
            expected).

    PyTorch: ``torch.nn.TransformerEncoderLayer``."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation, "TransformerEncoderLayer")

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        expect_tensor(self, src, "src")
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self.dropout2(_feed_forward(self, self.norm2(x)))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self.dropout2(_feed_forward(self, x)))
        return x

    @staticmethod
    def samples(make):
        return [LayerSample((4, 2, 8), {"dropout": 0.0}, inputs=(make(3, 2, 4),)),
                LayerSample((4, 2, 6), {"dropout": 0.0, "batch_first": True, "norm_first": True, "activation": "gelu"},
                            inputs=(make(2, 3, 4), None, make.index([[False, False, True], [False, False, False]])),
                            name="batch_first, norm_first, gelu, padding"),
                LayerSample((4, 2, 6), {"dropout": 0.2}, inputs=(make(3, 2, 4),), name="dropout")]


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of an encoder layer, then an optional norm
    (``torch.nn.TransformerEncoder``).

    Shape:
        - src: ``(S, N, E)`` (``(N, S, E)`` with ``batch_first``) or unbatched ``(S, E)``, E = ``d_model``;
          floating point.
        - mask: ``(S, S)``; src_key_padding_mask: ``(N, S)``.
        - output: the shape of ``src``.

    Raises:
        TypeError: ``src`` is not a Tensor.
        TypeError: ``encoder_layer`` is not a Module (at construction).
        ShapeError: ``src`` or a mask has a shape that does not fit (the message names which and what was
            expected).

    PyTorch: ``torch.nn.TransformerEncoder``."""

    def __init__(self, encoder_layer, num_layers: int, norm=None, enable_nested_tensor: bool = True,
                 mask_check: bool = True):
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"TransformerEncoder: encoder_layer must be a Module, got {type(encoder_layer).__name__}")
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        expect_tensor(self, src, "src")
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                           is_causal=bool(is_causal))
        return self.norm(output) if self.norm is not None else output

    @staticmethod
    def samples(make):
        layer = TransformerEncoderLayer(4, 2, 6, dropout=0.0)
        return [LayerSample((layer, 2), inputs=(make(3, 2, 4),)),
                LayerSample((layer, 1, LayerNorm(4)), inputs=(make(3, 2, 4), None, make.index([[False, False, True],
                                                                                              [False, False, False]])),
                            name="final norm, padding mask")]


class TransformerDecoderLayer(Module):
    """Self-attention, cross-attention to ``memory``, then feed-forward, each with a residual and LayerNorm
    (``torch.nn.TransformerDecoderLayer``).

    Shape:
        - tgt: ``(T, N, E)`` (``(N, T, E)`` with ``batch_first``) or unbatched ``(T, E)``; memory: as ``src``.
        - masks: ``(S, S)``/``(T, T)``/``(T, S)`` attention masks, ``(N, S)``/``(N, T)`` key padding masks.
        - output: the shape of ``tgt``.

    Raises:
        TypeError: ``tgt`` or ``memory`` is not a Tensor.
        RuntimeError: ``activation`` is not 'relu', 'gelu' or a callable (at construction).
        ShapeError: ``tgt``, ``memory`` or a mask has a shape that does not fit (the message names which and what
            was expected).

    PyTorch: ``torch.nn.TransformerDecoderLayer``."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias,
                                                 **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation, "TransformerDecoderLayer")

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=is_causal,
                           need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False, memory_is_causal: bool = False):
        expect_tensor(self, tgt, "tgt")
        expect_tensor(self, memory, "memory")
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self.dropout3(_feed_forward(self, self.norm3(x)))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self.dropout3(_feed_forward(self, x)))
        return x

    @staticmethod
    def samples(make):
        causal = make.index([[False, True, True], [False, False, True], [False, False, False]])
        return [LayerSample((4, 2, 8), {"dropout": 0.0}, inputs=(make(3, 2, 4), make(5, 2, 4))),
                LayerSample((4, 2, 6), {"dropout": 0.0, "batch_first": True, "norm_first": True},
                            inputs=(make(2, 3, 4), make(2, 4, 4), causal, None, None,
                                    make.index([[False, False, False, True], [False, False, False, False]])),
                            name="batch_first, norm_first, causal, memory padding"),
                LayerSample((4, 2, 6), {"dropout": 0.2}, inputs=(make(3, 2, 4), make(2, 2, 4)), name="dropout")]


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of a decoder layer, then an optional norm
    (``torch.nn.TransformerDecoder``).

    Shape:
        - tgt: ``(T, N, E)`` (``(N, T, E)`` with ``batch_first``) or unbatched ``(T, E)``; memory: as ``src``.
        - masks: ``(S, S)``/``(T, T)``/``(T, S)`` attention masks, ``(N, S)``/``(N, T)`` key padding masks.
        - output: the shape of ``tgt``.

    Raises:
        TypeError: ``tgt`` or ``memory`` is not a Tensor.
        TypeError: ``decoder_layer`` is not a Module (at construction).
        ShapeError: ``tgt``, ``memory`` or a mask has a shape that does not fit (the message names which and what
            was expected).

    PyTorch: ``torch.nn.TransformerDecoder``."""

    def __init__(self, decoder_layer, num_layers: int, norm=None):
        super().__init__()
        if not isinstance(decoder_layer, Module):
            raise TypeError(f"TransformerDecoder: decoder_layer must be a Module, got {type(decoder_layer).__name__}")
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal: bool = False):
        expect_tensor(self, tgt, "tgt")
        expect_tensor(self, memory, "memory")
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=bool(tgt_is_causal),
                           memory_is_causal=memory_is_causal)
        return self.norm(output) if self.norm is not None else output

    @staticmethod
    def samples(make):
        layer = TransformerDecoderLayer(4, 2, 6, dropout=0.0)
        causal = make.index([[False, True, True], [False, False, True], [False, False, False]])
        return [LayerSample((layer, 2), inputs=(make(3, 2, 4), make(4, 2, 4))),
                LayerSample((layer, 1, LayerNorm(4)), inputs=(make(3, 2, 4), make(2, 2, 4), causal),
                            name="final norm, causal mask")]


class Transformer(Module):
    """Encoder-decoder transformer (``torch.nn.Transformer``): parameters with dim > 1 xavier-uniform.

    Shape:
        - src: ``(S, N, E)`` (``(N, S, E)`` with ``batch_first``) or unbatched ``(S, E)``, E = ``d_model``;
          floating point.
        - tgt: ``(T, N, E)`` (``(N, T, E)`` with ``batch_first``) or unbatched ``(T, E)``.
        - masks: ``(S, S)``/``(T, T)``/``(T, S)`` attention masks, ``(N, S)``/``(N, T)`` key padding masks.
        - output: the shape of ``tgt``.

    Raises:
        RuntimeError: ``activation`` is not 'relu', 'gelu' or a callable (at construction).
        TypeError: ``src`` or ``tgt`` is not a Tensor.
        OutOfRangeError: ``src`` or ``tgt`` is not 2-D or 3-D (an IndexError, as PyTorch raises).
        ShapeError: ``src`` and ``tgt`` differ in batch size, or their last dim is not ``d_model``.
        ShapeError: ``src``, ``tgt`` or a mask has a shape that does not fit (the message names which and what was
            expected).

    PyTorch: ``torch.nn.Transformer``."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6,
                 dim_feedforward: int = 2048, dropout: float = 0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                                            batch_first, norm_first, bias, **kw)
            self.encoder = TransformerEncoder(layer, num_encoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                                            batch_first, norm_first, bias, **kw)
            self.decoder = TransformerDecoder(layer, num_decoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal: bool = False):
        expect_tensor(self, src, "src")
        expect_tensor(self, tgt, "tgt")
        if src.dim() not in (2, 3) or tgt.dim() not in (2, 3):  # PyTorch: IndexError (dim 1 of a 0-d or 1-d input)
            raise ember.ops.OutOfRangeError(f"Transformer: expected src and tgt to be 2-D (unbatched) or 3-D "
                                            f"(batched), got shapes {tuple(src.shape)} and {tuple(tgt.shape)}")
        batch_dim = 0 if self.batch_first else 1
        if src.dim() == 3 and tgt.dim() == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise ember.ops.ShapeError(f"Transformer: the batch number of src and tgt must be equal, got "
                                       f"{src.shape[batch_dim]} and {tgt.shape[batch_dim]}")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ember.ops.ShapeError(f"Transformer: the feature number of src and tgt must be equal to d_model "
                                       f"({self.d_model}), got {src.shape[-1]} and {tgt.shape[-1]}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None):
        """A float mask with -inf above the diagonal: position i attends to positions <= i."""
        return ember.triu(ember.full((sz, sz), float("-inf"), device=device, dtype=dtype), diagonal=1)

    @staticmethod
    def samples(make):
        return [LayerSample((), {"d_model": 4, "nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 1,
                                 "dim_feedforward": 6, "dropout": 0.0}, inputs=(make(3, 2, 4), make(2, 2, 4)))]
