"""The convolutions written with other ember ops: what the fused :class:`~ember_ops.conv.Convolution`
primitive stands for, and the ``reference=`` the conformance kit checks conv1d/2d/3d against.

A convolution is a sum over kernel offsets: each offset takes a strided slice of the padded input and
multiplies its channels by that offset's weights (one matrix product per group). Slow, and plain.
"""

from __future__ import annotations

import itertools

from .padding import pad
from .shape import cat


def _ntuple(value, n):
    return (value,) * n if isinstance(value, int) else tuple(value)


def _pads(padding, kernel, dilation, n):
    """(before, after) per spatial dim, as PyTorch reads ``padding`` (a number, a tuple, 'valid', 'same')."""
    if padding == "valid":
        return ((0, 0),) * n
    if padding == "same":
        return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))
    return tuple((p, p) for p in _ntuple(padding, n))


def conv_composite(n):
    """``reference(input, weight, bias, stride, padding, dilation, groups)`` for the ``n``-d convolution."""
    def reference(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        unbatched = input.dim() == n + 1
        x = input.unsqueeze(0) if unbatched else input
        stride, dilation, kernel = _ntuple(stride, n), _ntuple(dilation, n), tuple(weight.shape[2:])
        pads = _pads(padding, kernel, dilation, n)
        if any(p for pair in pads for p in pair):
            x = pad(x, tuple(p for pair in reversed(pads) for p in pair))
        size = tuple((s - d * (k - 1) - 1) // st + 1 for s, k, d, st in zip(x.shape[2:], kernel, dilation, stride))
        in_group, out_group = x.shape[1] // groups, weight.shape[0] // groups
        out = None
        for offset in itertools.product(*(range(k) for k in kernel)):
            window = tuple(slice(o * d, o * d + (m - 1) * st + 1, st) for o, d, m, st in zip(offset, dilation, size,
                                                                                            stride))
            patch = x[(slice(None), slice(None)) + window].movedim(1, -1)  # (B, *size, C)
            w = weight[(slice(None), slice(None)) + offset]  # (O, C / groups)
            term = [patch[..., g * in_group:(g + 1) * in_group] @ w[g * out_group:(g + 1) * out_group].t()
                    for g in range(groups)]
            term = (term[0] if groups == 1 else cat(term, -1)).movedim(-1, 1)
            out = term if out is None else out + term
        if bias is not None:
            out = out + bias.reshape((1, -1) + (1,) * n)
        return out.squeeze(0) if unbatched else out
    return reference
