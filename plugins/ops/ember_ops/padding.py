"""``pad``: constant (any dims, negative pads crop), reflect, replicate and circular padding, with
PyTorch's pad tuple order (last dim first: (left, right, top, bottom, ...)).

Constant padding is one primitive whose adjoint is itself with negated pads; the other modes gather
along each padded dim with an index built once, so all modes are differentiable to any order.
"""

from __future__ import annotations

import numpy as np

from ember import dtypes
from ember.ops import (ArgumentError, DimensionError, ErrorInput, OpTable, Primitive, Sample, ShapeError, apply,
                       check_tensor, no_bool, scalar_to)
from ember.tensor import tensor as _tensor

ops = OpTable()


class ConstantPadNd(Primitive):
    """Pad (or, for negative pads, crop) each dim by ``pads`` = ((low, high), ...), filling with ``value``."""

    @staticmethod
    def forward(xp, x, pads, value):
        shape = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape, pads))
        out = xp.full(shape, value, dtype=x.dtype)
        src = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for s, (lo, hi) in zip(x.shape, pads))
        dst = tuple(slice(max(lo, 0), max(lo, 0) + max(0, s - max(-lo, 0) - max(-hi, 0)))
                    for s, (lo, hi) in zip(x.shape, pads))
        out[dst] = x[src]
        return out

    @staticmethod
    def backward(ctx, g, pads, value):
        return apply(ConstantPadNd, g, pads=tuple((-lo, -hi) for lo, hi in pads), value=0)


def _source_index(mode, size, lo, hi):
    j = np.arange(-lo, size + hi)
    if mode == "reflect":
        j = np.abs(j)
        return np.where(j >= size, 2 * (size - 1) - j, j)
    if mode == "replicate":
        return np.clip(j, 0, size - 1)
    return j % size  # circular


def _pad_samples(make):
    yield Sample((make(2, 3), (1, 2)), name="last dim")
    yield Sample((make(1, 2, 3), (1, 0, 2, 1)), {"value": 1.5}, name="two dims, value")
    yield Sample((make(2, 4), (-1, 2, 0, -1)), name="negative crops")
    yield Sample((make(1, 2, 4), (2, 1)), {"mode": "reflect"}, name="reflect 1-D")
    yield Sample((make(1, 1, 3, 4), (1, 2, 2, 1)), {"mode": "reflect"}, name="reflect 2-D")
    yield Sample((make(2, 3, 3), (2, 1, 1, 2)), {"mode": "replicate"}, name="replicate 2-D")
    yield Sample((make(1, 2, 4), (3, 1)), {"mode": "circular"}, name="circular 1-D")
    yield Sample((make(1, 2, 3, 4, noncontiguous=True), (1, 1, 1, 1)), {"mode": "replicate"},
                 name="non-contiguous replicate")


def _pad_errors(make):
    yield ErrorInput(Sample((make(1, 2, 3), (3, 0)), {"mode": "reflect"}), ValueError,
                     r"pad\(\).*padding size should be less than.*\(3, 0\).*\(1, 2, 3\)")


@ops.op(primitive=ConstantPadNd, namespaces=("functional",), samples=_pad_samples, errors=_pad_errors)
def pad(input, pad, mode="constant", value=None):
    """Pad ``input``: ``pad`` = (last_left, last_right, second_last_left, ...); modes constant (``value``, default
    0; negative pads crop), reflect, replicate, circular (``torch.nn.functional.pad``).

    Shape:
        - input: ``(*)``; 'reflect', 'replicate' and 'circular' pad the last 1 to 3 dims of a batched or unbatched
          input (``(N, C, *)`` or ``(C, *)``); any dtype ('constant' mode).
        - pad: ``(left, right, top, bottom, ...)`` from the last dim backwards; negative values crop.
        - output: each padded dim grows by its two pads, the dtype of ``input``.

    Raises:
        ArgumentError: ``pad`` has an odd length or more than two entries per dim, ``value`` is given to a
            non-constant mode, a reflect pad is not less than its dim, or a circular pad wraps more than once.
        DimensionError: a non-constant mode gets an input of the wrong number of dims.
        ShapeError: negative padding leaves a dim empty or negative.
        NotImplementedError: ``mode`` is unknown.
        DTypeError: a non-constant mode gets a bool tensor.
        RuntimeError: ``value`` does not fit an integer input's dtype.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.pad``."""
    check_tensor("pad", "input", input)
    pad = tuple(int(p) for p in pad)
    nd = input._data.ndim
    if len(pad) % 2 or len(pad) // 2 > nd:
        raise ArgumentError(f"pad(): padding length must be even and at most twice the number of dims ({nd}), got "
                            f"pad={pad} for input of shape {tuple(input.shape)}")
    n = len(pad) // 2
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(n)][::-1]  # first padded dim first
    if mode == "constant":
        pads = ((0, 0),) * (nd - n) + tuple(pairs)
        if any(s + lo + hi < 0 for s, (lo, hi) in zip(input.shape, pads)):
            raise ShapeError(f"pad(): resulting padded shape would be negative for input of shape "
                             f"{tuple(input.shape)} and pad={pad}")
        if value is None:
            value = 0
        elif not input._dtype.is_floating_point and input._dtype is not dtypes.bool:
            value = scalar_to("pad", value, input._dtype)  # PyTorch truncates a float fill into integers
        return apply(ConstantPadNd, input, pads=pads, value=value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad(): mode {mode!r} is not supported; expected 'constant', 'reflect', "
                                  f"'replicate' or 'circular'")
    if value:
        raise ArgumentError(f"pad(): padding mode {mode!r} doesn't take in value argument")
    if mode != "circular":  # PyTorch's reflection and replication kernels have no bool variant
        no_bool("pad", input)
    if n > 3 or nd not in (n + 1, n + 2):
        raise DimensionError(f"pad(): {mode} padding of {n} dims expects a {n + 1}D or {n + 2}D input, got input of "
                             f"shape {tuple(input.shape)} and pad={pad}")
    out = input
    for i, (lo, hi) in enumerate(pairs):
        dim = nd - n + i
        if min(lo, hi) < 0:  # a negative pad crops first; the positive side then pads the cropped input
            crop_lo, crop_hi = max(-lo, 0), max(-hi, 0)
            if crop_lo + crop_hi >= out.shape[dim]:
                raise ShapeError(f"pad(): negative padding ({lo}, {hi}) leaves nothing of dimension {dim} of input "
                                 f"of shape {tuple(input.shape)}")
            out = out.narrow(dim, crop_lo, out.shape[dim] - crop_lo - crop_hi)
            lo, hi = max(lo, 0), max(hi, 0)
        size = out.shape[dim]
        if mode == "reflect" and (lo >= size or hi >= size):
            raise ArgumentError(f"pad(): padding size should be less than the corresponding input dimension, but got: "
                                f"padding ({lo}, {hi}) at dimension {dim} of input of shape {tuple(input.shape)}")
        if mode == "circular" and (lo > size or hi > size):
            raise ArgumentError(f"pad(): padding value causes wrapping around more than once (padding ({lo}, {hi}) at "
                                f"dimension {dim} of input of shape {tuple(input.shape)})")
        if lo or hi:
            index = _tensor(_source_index(mode, size, lo, hi), dtype=dtypes.int64, device=input.device)
            out = out[(slice(None),) * dim + (index,)]
    return out
