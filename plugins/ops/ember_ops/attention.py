"""``scaled_dot_product_attention``: softmax(q k^T * scale + mask) v, batched over all leading dims.

Two batched matmuls around a softmax, written with ember ops, so no loop over batch, heads or
positions and gradients of any order come for free.
"""

from __future__ import annotations

import math

from ember.ops import ArgumentError, DimensionError, ErrorInput, OpTable, Sample, ShapeError, check_tensor
from ember.tensor import wrap

from .activation import softmax
from .dropout import dropout

ops = OpTable()


def _additive_mask(mask, dtype, xp, device):
    """A bool mask (True = attend) as 0 / -inf scores, a constant."""
    return wrap(xp.where(mask, 0.0, -xp.inf).astype(dtype), device)


def _repeat_heads(x, groups):
    """(..., Hk, S, E) -> (..., Hk * groups, S, E), each head repeated ``groups`` times (grouped-query attention)."""
    shape = tuple(x.shape)
    lead, hk = shape[:-3], shape[-3]
    x = x.unsqueeze(-3).expand(lead + (hk, groups) + shape[-2:])
    return x.reshape(lead + (hk * groups,) + shape[-2:])


def _sdpa_samples(make):
    yield Sample((make(2, 3, 4), make(2, 5, 4), make(2, 5, 3)), name="batch, L != S")
    yield Sample((make(1, 2, 3, 4), make(1, 2, 3, 4), make(1, 2, 3, 2)), {"is_causal": True, "scale": 0.7},
                 name="heads, causal, scale")
    yield Sample((make(2, 3, 2), make(2, 4, 2), make(2, 4, 2),
                  make.index([[True, False, True, True], [True, True, False, False], [False, True, True, True]])),
                 name="bool mask")
    yield Sample((make(2, 3, 2), make(2, 4, 2), make(2, 4, 2), make(3, 4)), name="float mask with grad")
    yield Sample((make(1, 4, 2, 3), make(1, 2, 3, 3), make(1, 2, 3, 2)), {"enable_gqa": True}, name="gqa")


def _sdpa_errors(make):
    yield ErrorInput(Sample((make(2, 3, 4), make(2, 5, 3), make(2, 5, 3))), RuntimeError,
                     r"scaled_dot_product_attention\(\).*\(2, 3, 4\), \(2, 5, 3\)")


@ops.op(namespaces=("functional",), samples=_sdpa_samples, errors=_sdpa_errors)
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value over (..., L, E) x (..., S, E) x (..., S, Ev).

    ``attn_mask`` is bool (True = take part) or float (added to the scores), broadcast to (..., L, S);
    ``is_causal`` masks keys after each query; ``scale`` defaults to 1/sqrt(E); ``dropout_p`` drops attention
    weights (``torch.nn.functional.scaled_dot_product_attention``).

    Shape:
        - query: ``(*, L, E)``; key: ``(*, S, E)``; value: ``(*, S, Ev)``, floating point, batch dims that
          broadcast (with ``enable_gqa``, query heads a multiple of key/value heads at dim -3).
        - attn_mask: bool (True takes part) or floating (added to the scores), broadcastable to ``(*, L, S)``.
        - output: ``(*, L, Ev)``, the dtype of ``query``.

    Raises:
        DimensionError: ``query``, ``key`` or ``value`` is not floating point or has fewer than 2 dims.
        ShapeError: ``key``'s last dim is not ``query``'s, ``key`` and ``value`` differ in S, or (with
            ``enable_gqa``) the heads do not divide.
        ArgumentError: ``attn_mask`` is given with ``is_causal=True``.
        TypeError: an argument is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.scaled_dot_product_attention``."""
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        check_tensor(op, name, t)
        if t.dim() < 2 or not t._dtype.is_floating_point:
            raise DimensionError(f"{op}(): {name} must be a floating tensor with at least 2 dims (..., seq, features), "
                                 f"got {t._dtype} of shape {tuple(t.shape)}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"{op}(): expected query (..., L, E), key (..., S, E) and value (..., S, Ev), got "
                         f"{tuple(query.shape)}, {tuple(key.shape)} and {tuple(value.shape)}")
    if enable_gqa and query.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk or value.shape[-3] != hk:
            raise ShapeError(f"{op}(): with enable_gqa, query heads ({hq}) must be a multiple of key/value heads "
                             f"({hk}, {value.shape[-3]})")
        key, value = _repeat_heads(key, hq // hk), _repeat_heads(value, hq // hk)
    if is_causal and attn_mask is not None:
        raise ArgumentError(f"{op}(): explicit attn_mask should not be set when is_causal=True")
    length, source = query.shape[-2], key.shape[-2]
    if scale is None:  # E = 0: scores are empty sums (0) whatever the scale; PyTorch's 1/sqrt(0) is inf
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else math.inf
    xp = query._device.xp
    scores = (query * scale) @ key.mT
    if is_causal:
        scores = scores + _additive_mask(xp.tril(xp.ones((length, source), dtype=bool)), query._data.dtype, xp,
                                         query._device)
    if attn_mask is not None:
        check_tensor(op, "attn_mask", attn_mask)
        if attn_mask._dtype.name == "bool":
            scores = scores + _additive_mask(attn_mask._data, query._data.dtype, xp, query._device)
        else:
            scores = scores + attn_mask
    weights = softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return weights @ value
