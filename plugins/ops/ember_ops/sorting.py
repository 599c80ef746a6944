"""Sorting and order statistics: sort, argsort, topk, median, mode, unique.

Indices are computed without a gradient; values are taken with ``take_along``, so their gradient
flows back to the positions they came from.
"""

from __future__ import annotations

from ember import dtypes
from ember.ops import (ArgumentError, ErrorInput, OpTable, OutOfRangeError, Primitive, Sample, apply, check_tensor,
                       no_bool)
from ember.tensor import tensor

from . import return_types
from .reduction import _one_dim, take_along

ops = OpTable()


class SortIndices(Primitive):
    """The permutation that sorts ``x`` along ``dim``; equal elements keep their order (stable)."""

    differentiable = False

    @staticmethod
    def forward(xp, x, dim, descending):
        if not descending:
            return xp.argsort(x, axis=dim, kind="stable").astype(xp.int64, copy=False)
        # descending and stable: sort the reversed input, reverse the order, map positions back
        n = x.shape[dim]
        order = xp.flip(xp.argsort(xp.flip(x, axis=dim), axis=dim, kind="stable"), axis=dim)
        return (n - 1 - order).astype(xp.int64, copy=False)


def _sort_indices(op, input, dim, descending):
    check_tensor(op, "input", input)
    dim = _one_dim(op, input, dim)
    if not input._data.ndim:
        return dim, tensor(0, dtype=dtypes.int64, device=input.device)
    return dim, apply(SortIndices, input, dim=dim, descending=bool(descending))


def _sort_samples(make):
    yield Sample((make(3, 4),), name="last dim")
    yield Sample((make(3, 4), 0), name="dim 0")
    yield Sample((make(2, 5),), {"descending": True}, name="descending")
    yield Sample((make(3, 4, noncontiguous=True),), {"dim": -1, "stable": True}, name="stable, non-contiguous")
    yield Sample((make(),), name="zero-dim")
    yield Sample((make(0, 3),), name="empty")


@ops.op(samples=_sort_samples)
def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along ``dim``; always stable here (``torch.sort``).

    Shape:
        - input: ``(*)``, any dtype.
        - output: ``(values, indices)``, each the shape of ``input``; the indices int64.

    Raises:
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.sort``."""
    dim, indices = _sort_indices("sort", input, dim, descending)
    values = take_along(input, indices, dim) if input._data.ndim else input * 1
    return return_types.sort(values, indices)


@ops.op(primitive=SortIndices, differentiable=False, samples=_sort_samples)
def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort ``input`` along ``dim`` (``torch.argsort``).

    Shape:
        - input: ``(*)``, any dtype.
        - output: the shape of ``input``, int64.

    Raises:
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.argsort``."""
    return _sort_indices("argsort", input, dim, descending)[1]


def _topk_samples(make):
    yield Sample((make(3, 5), 2), name="k=2")
    yield Sample((make(3, 5), 3, 0), name="dim 0")
    yield Sample((make(4, 5), 2), {"largest": False}, name="smallest")
    yield Sample((make(6), 6), name="k = size")
    yield Sample((make(2, 5), 0), name="k=0")


def _topk_errors(make):
    yield ErrorInput(Sample((make(3), 5)), ValueError, r"topk\(\).*'k' \(5\).*<= 3")


@ops.op(samples=_topk_samples, errors=_topk_errors)
def topk(input, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the ``k`` largest (or smallest) along ``dim``, in order (``torch.topk``).

    Shape:
        - input: ``(*1, N, *2)`` with N = ``input.shape[dim]``; any dtype but bool.
        - output: ``(values, indices)``, each ``(*1, k, *2)``; the indices int64.

    Raises:
        ArgumentError: ``k`` is outside [0, N].
        OutOfRangeError: ``dim`` is out of range for ``input``.
        DTypeError: ``input`` is a bool tensor.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.topk``."""
    no_bool("topk", input)
    d = _one_dim("topk", input, dim)
    size = input.shape[d] if input._data.ndim else 1
    if not isinstance(k, int) or not 0 <= k <= size:
        raise ArgumentError(f"topk(): argument 'k' ({k!r}) out of range: expected 0 <= k <= {size} (the size of "
                            f"dim {d})")
    _, order = _sort_indices("topk", input, d, largest)
    if not input._data.ndim:
        return return_types.topk(input * 1, order)  # PyTorch gives the element even for k=0
    indices = order[(slice(None),) * d + (slice(0, k),)]
    return return_types.topk(take_along(input, indices, d), indices)


def _median_samples(make):
    yield Sample((make(3, 5),), name="all, odd count")
    yield Sample((make(2, 4),), name="all, even count: the lower")
    yield Sample((make(3, 4), 1), name="dim 1")
    yield Sample((make(3, 5), 0, True), name="dim 0, keepdim")
    yield Sample((make(),), name="zero-dim")


@ops.op(samples=_median_samples)
def median(input, dim=None, keepdim=False):
    """The lower median of all elements, or (values, indices) along ``dim`` (``torch.median``).

    Shape:
        - input: ``(*)``, any dtype but bool; ``dim``: one int.
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; with ``dim``, a ``(values, indices)`` pair, the indices int64; the dtype of ``input``.

    Raises:
        DTypeError: ``input`` is a bool tensor.
        OutOfRangeError: ``dim`` is given and that dim is empty.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.median``."""
    no_bool("median", input)
    if dim is None:
        flat = input.reshape(-1)
        if not flat.shape[0]:
            return (flat.sum() * float("nan")) if input.is_floating_point() else flat.sum()
        _, order = _sort_indices("median", flat, 0, False)
        pick = order[(flat.shape[0] - 1) // 2:(flat.shape[0] - 1) // 2 + 1]
        return take_along(flat, pick, 0).reshape(())
    d = _one_dim("median", input, dim)
    if not input._data.ndim:
        return return_types.median(input * 1, tensor(0, dtype=dtypes.int64, device=input.device))
    n = input.shape[d]
    if not n:
        raise OutOfRangeError(f"median(): expected reduction dim {d} to have non-zero size, got shape {tuple(input.shape)}")
    _, order = _sort_indices("median", input, d, False)
    indices = order[(slice(None),) * d + (slice((n - 1) // 2, (n - 1) // 2 + 1),)]
    values = take_along(input, indices, d)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return return_types.median(values, indices)


class ModeIndices(Primitive):
    """Index of the most frequent value along ``dim`` (smallest value at ties; its last position)."""

    differentiable = False

    @staticmethod
    def forward(xp, x, dim):
        moved = xp.moveaxis(x, dim, -1)
        rows = moved.reshape(-1, moved.shape[-1])
        out = xp.empty(rows.shape[0], dtype=xp.int64)
        for i in range(rows.shape[0]):
            values, counts = xp.unique(rows[i], return_counts=True)
            hits = rows[i] == values[int(xp.argmax(counts))]
            out[i] = rows.shape[1] - 1 - int(xp.argmax(hits[::-1]))
        return xp.expand_dims(out.reshape(moved.shape[:-1]), dim)


def _mode_samples(make):
    def rounded(*shape):  # ties make the mode; they also make it jump under finite differences: no grad
        t = make(*shape, requires_grad=False)
        t._data[...] = t._data.round()
        return t
    yield Sample((rounded(3, 6),), name="last dim, repeated values")
    yield Sample((rounded(5, 3), 0, True), name="dim 0, keepdim, repeated values")
    yield Sample((make(3, 4),), name="distinct values: the smallest, differentiable")
    yield Sample((make(),), name="zero-dim")


@ops.op(samples=_mode_samples)
def mode(input, dim=-1, keepdim=False):
    """(values, indices) of the most frequent value along ``dim`` (``torch.mode``).

    Shape:
        - input: ``(*)``, any dtype; ``dim``: one int (the last by default).
        - output: ``(values, indices)``, ``input``'s shape without ``dim`` (size 1 with ``keepdim``); the indices
          int64.

    Raises:
        OutOfRangeError: a reduced dim is empty.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.mode``."""
    check_tensor("mode", "input", input)
    d = _one_dim("mode", input, dim)
    if not input._data.ndim:
        return return_types.mode(input * 1, tensor(0, dtype=dtypes.int64, device=input.device))
    if not input.shape[d]:
        raise OutOfRangeError(f"mode(): expected reduction dim {d} to have non-zero size, got shape {tuple(input.shape)}")
    indices = apply(ModeIndices, input, dim=d)
    values = take_along(input, indices, d)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return return_types.mode(values, indices)


def _unique_samples(make):
    def repeated(*shape):
        t = make(*shape, requires_grad=False)
        t._data[...] = t._data.round()
        return t
    yield Sample((repeated(4, 5),), name="flat")
    yield Sample((repeated(6),), {"return_inverse": True, "return_counts": True}, name="inverse and counts")
    x = repeated(4, 3)
    x._data[2] = x._data[0]
    yield Sample((x,), {"dim": 0, "return_counts": True}, name="unique rows")


@ops.op(differentiable=False, samples=_unique_samples)
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements (or slices along ``dim``), sorted; optionally the inverse indices and the counts
    (``torch.unique``). Always sorted here; no gradient.

    Shape:
        - input: ``(*)``, any dtype.
        - output: 1-D sorted unique values (with ``dim``, the unique slices along it); ``return_inverse`` adds
          int64 indices of ``input``'s shape (or length along ``dim``), ``return_counts`` int64 counts.

    Raises:
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.unique``."""
    check_tensor("unique", "input", input)
    xp = input._device.xp
    data = input._data
    if dim is not None:
        dim = _one_dim("unique", input, dim)
    values, inverse, counts = xp.unique(data, return_inverse=True, return_counts=True, axis=dim)
    if dim is None:
        inverse = inverse.reshape(data.shape)
    out = [tensor(values, device=input.device)]
    if return_inverse:
        out.append(tensor(inverse.astype("int64"), device=input.device))
    if return_counts:
        out.append(tensor(counts.astype("int64"), device=input.device))
    return out[0] if len(out) == 1 else tuple(out)
