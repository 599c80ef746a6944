"""All-pairs distances between two sets of row vectors: ``cdist`` (prototype networks, k-means,
nearest-neighbour code). A composite of ember ops, so gradients flow to both sets, to every order."""

from __future__ import annotations

import math

from ember.device import DeviceError
from ember.ops import ArgumentError, ErrorInput, OpTable, Sample, ShapeError, check_tensor, float_input

from .selection import where

ops = OpTable()


def _root(total, p):
    """total ** (1 / p), with a zero gradient where total is 0 (equal rows), as PyTorch's cdist has."""
    zero = total == 0
    safe = where(zero, 1.0, total)
    return where(zero, 0.0, safe.sqrt() if p == 2 else safe ** (1.0 / p))


def _cdist_samples(make):
    yield Sample((make(4, 3), make(5, 3)), name="euclidean")
    yield Sample((make(2, 3, 2), make(2, 4, 2)), {"p": 1.0}, name="batched, p=1")
    yield Sample((make(3, 2), make(2, 2)), {"p": 3.0}, name="p=3")
    yield Sample((make(3, 2), make(2, 2)), {"p": float("inf")}, name="p=inf")


def _cdist_errors(make):
    yield ErrorInput(Sample((make(2, 3), make(4, 3, dtype="int64"))), TypeError,
                     r"cdist\(\): not implemented for x2 of dtype int64")


@ops.op(namespaces=("ember",), samples=_cdist_samples, errors=_cdist_errors)
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of ``x1`` (..., P, M) and each row of ``x2`` (..., R, M), giving (...,
    P, R); batch dims broadcast (``torch.cdist``). ember always takes the differences directly, the exact path
    PyTorch's ``compute_mode="donot_use_mm_for_euclid_dist"`` takes.

    Shape:
        - x1: ``(*, P, M)``; x2: ``(*, R, M)``, floating point, batch dims that broadcast.
        - output: ``(*, P, R)``, the p-norm distance of every pair of rows.

    Raises:
        ShapeError: the last dims differ, or the batch dims do not broadcast.
        ArgumentError: ``p`` is negative.
        DTypeError: an input is not floating point.
        TypeError: ``x1`` or ``x2`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.cdist``."""
    check_tensor("cdist", "x1", x1)
    check_tensor("cdist", "x2", x2)
    if x1.device is not x2.device:
        raise DeviceError(f"cdist(): expected both inputs on one device, got {x1.device} and {x2.device}")
    for name, x in (("x1", x1), ("x2", x2)):
        float_input("cdist", x, name)
    if x1.dim() < 2 or x2.dim() < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"cdist(): expected x1 (..., P, M) and x2 (..., R, M) with the same M, got "
                         f"{tuple(x1.shape)} and {tuple(x2.shape)}")
    if p < 0:
        raise ArgumentError(f"cdist(): only supports non-negative p values, got {p}")
    difference = (x1.unsqueeze(-2) - x2.unsqueeze(-3)).abs()
    if math.isinf(p):
        return difference.amax(-1)
    if p == 0:
        return difference.sign().sum(-1)  # count of differing coordinates; sign has a zero gradient
    if p == 1:
        return difference.sum(-1)
    if p == 2:
        return _root((difference * difference).sum(-1), p)
    same = difference == 0  # |d| ** p with a zero gradient at d = 0 (p < 1 would give inf * 0 there)
    return _root(where(same, 0.0, where(same, 1.0, difference) ** p).sum(-1), p)
