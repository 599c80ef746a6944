"""More order statistics that public programs call: ``kthvalue``, ``quantile``, ``searchsorted`` and
``histc``. Positions are found without a gradient (stable sorting); values are taken with
``take_along`` and interpolated with ember ops, so their gradient flows back where they came from.
"""

from __future__ import annotations

import math

from ember import dtypes
from ember.device import DeviceError
from ember.ops import ArgumentError, ErrorInput, OpTable, OutOfRangeError, Sample, check_tensor, float_input
from ember.tensor import Tensor, tensor, wrap

from . import return_types
from .reduction import _one_dim, take_along
from .sorting import _sort_indices

ops = OpTable()


def _kthvalue_samples(make):
    yield Sample((make(3, 5), 2), name="k=2, last dim")
    yield Sample((make(4, 3), 4, 0), name="k = size, dim 0")
    yield Sample((make(3, 5), 1, 1, True), name="smallest, keepdim")


@ops.op(namespaces=("ember", "Tensor"), samples=_kthvalue_samples)
def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices) of the ``k``-th smallest element along ``dim``, k counted from 1 (``torch.kthvalue``).

    Shape:
        - input: ``(*)``, any dtype but bool; ``dim``: one int (the last by default).
        - output: ``(values, indices)``, ``input``'s shape without ``dim`` (size 1 with ``keepdim``); the indices
          int64.

    Raises:
        OutOfRangeError: ``k`` is outside [1, ``input.shape[dim]``], or ``dim`` is out of range.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.kthvalue``."""
    check_tensor("kthvalue", "input", input)
    d = _one_dim("kthvalue", input, dim)
    size = input.shape[d] if input._data.ndim else 1
    if not isinstance(k, int) or not 1 <= k <= size:
        raise OutOfRangeError(f"kthvalue(): selected number k ({k!r}) out of range for dimension {d} of size {size}")
    if not input._data.ndim:
        return return_types.kthvalue(input * 1, tensor(0, dtype=dtypes.int64, device=input.device))
    _, order = _sort_indices("kthvalue", input, d, False)
    indices = order[(slice(None),) * d + (slice(k - 1, k),)]
    values = take_along(input, indices, d)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return return_types.kthvalue(values, indices)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_samples(make):
    yield Sample((make(3, 6), 0.3), {"dim": 1}, name="one q along a dim")
    yield Sample((make(7), 0.5), name="median of all, linear")
    yield Sample((make(4, 5), make(3, low=0.0, high=1.0, requires_grad=False)), {"dim": 0, "keepdim": True},
                 name="several q, keepdim")
    for mode in _INTERPOLATIONS[1:]:
        yield Sample((make(3, 4), 0.4), {"dim": -1, "interpolation": mode}, name=mode)


def _quantile_errors(make):
    yield ErrorInput(Sample((make(4, dtype="int64"), 0.5)), TypeError,
                     r"quantile\(\): not implemented for input of dtype int64; expected a floating point tensor")


@ops.op(namespaces=("ember", "Tensor"), samples=_quantile_samples, errors=_quantile_errors)
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-th quantiles (q in [0, 1], a number or a 1-d tensor) of ``input`` along ``dim`` (all elements when
    None), between neighbours by ``interpolation`` (linear, lower, higher, midpoint, nearest). Several q put a
    leading dim of their count (``torch.quantile``); a NaN makes its result NaN.

    Shape:
        - input: ``(*)``, non-empty, floating point; q: a number, or a 0-d or 1-d tensor of values in [0, 1].
        - output: ``input``'s shape without ``dim`` (all dims when None; size 1 with ``keepdim``), with a leading
          ``q.shape[0]`` dim for a 1-d q.

    Raises:
        ArgumentError: ``q`` is outside [0, 1] or more than 1-d, ``input`` is empty, or ``interpolation`` is
            unknown.
        DTypeError: ``input`` is not floating point.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.
        DeviceError: ``q`` is on another device than ``input``.

    PyTorch: ``torch.quantile``."""
    float_input("quantile", input)
    if interpolation not in _INTERPOLATIONS:
        raise ArgumentError(f"quantile(): interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")
    scalar_q = not isinstance(q, Tensor)
    if not scalar_q and q._device is not input._device:
        raise DeviceError(f"quantile(): q is on {q._device} but input is on {input._device}")
    qs = [float(q)] if scalar_q else q.reshape(-1).tolist()
    if not scalar_q and q.dim() > 1:
        raise ArgumentError(f"quantile(): expected q to be a number or a 0-d or 1-d tensor, got shape {tuple(q.shape)}")
    if any(not 0 <= v <= 1 for v in qs):
        raise ArgumentError(f"quantile(): q values must be in the range [0, 1], got {qs}")
    source = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _one_dim("quantile", input, dim)
    if source.dim() == 0:
        source, d = source.reshape(1), 0
    n = source.shape[d]
    if n == 0:
        raise ArgumentError("quantile(): input tensor must be non-empty")
    _, order = _sort_indices("quantile", source, d, False)
    ordered = take_along(source, order, d)
    has_nan = source.isnan().any(d, keepdim=True)
    results = []
    for value in qs:
        rank = value * (n - 1)
        low, high = math.floor(rank), math.ceil(rank)
        if interpolation == "nearest":
            low = high = round(rank)  # ties to even, as PyTorch
        elif interpolation == "lower":
            high = low
        elif interpolation == "higher":
            low = high
        below, above = ordered.narrow(d, low, 1), ordered.narrow(d, high, 1)
        weight = 0.5 if interpolation == "midpoint" else rank - low
        picked = below if low == high else below + (above - below) * weight
        results.append(picked.masked_fill(has_nan, float("nan")))
    out = results[0] if len(results) == 1 else None
    if out is None or not scalar_q:
        from ember import stack
        out = stack(results, 0)
        d_out = d + 1
    else:
        d_out = d
    if dim is None:
        shape = [1] * input.dim() if keepdim else []
        return out.reshape(([len(qs)] if not scalar_q else []) + shape)
    return out if keepdim else out.squeeze(d_out)


def _searchsorted_samples(make):
    sorted_row = make(6, requires_grad=False).sort().values
    yield Sample((sorted_row, make(4, low=-3.0, high=3.0, requires_grad=False)), name="1-d")
    yield Sample((sorted_row, sorted_row[1:3].reshape(1, 2)), {"right": True}, name="right, values present")
    yield Sample((make(2, 5, requires_grad=False).sort().values, make(2, 3, requires_grad=False)),
                 {"out_int32": True}, name="batched rows")


@ops.op(namespaces=("ember",), differentiable=False, samples=_searchsorted_samples)
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Where each value of ``input`` would be inserted in ``sorted_sequence`` (sorted along its last dim) to keep
    it sorted: the first such index, or the last with ``right=True``/``side="right"``. A 1-d sequence serves every
    value; otherwise leading dims must match ``input``'s (``torch.searchsorted``).

    Shape:
        - sorted_sequence: ``(*, N)`` sorted along the last dim; input: ``(*, M)`` (the same leading dims), or any
          shape (or a number) for a 1-D sequence.
        - output: the shape of ``input``, int64 (int32 with ``out_int32``).

    Raises:
        ArgumentError: ``sorted_sequence`` is 0-d, the leading dims differ, a number is searched in a sequence of
            more than 1 dim, or ``side`` disagrees with ``right``.
        TypeError: ``sorted_sequence`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.searchsorted``."""
    check_tensor("searchsorted", "sorted_sequence", sorted_sequence)
    if side is not None:
        if side not in ("left", "right") or (right and side == "left"):
            raise ArgumentError(f"searchsorted(): side must be 'left' or 'right' and agree with right={right}, "
                                f"got {side!r}")
        right = side == "right"
    if sorter is not None:
        sorted_sequence = take_along(sorted_sequence, sorter, sorted_sequence.dim() - 1)
    if isinstance(input, Tensor) and input._device is not sorted_sequence._device:
        raise DeviceError(f"searchsorted(): input is on {input._device} but sorted_sequence is on "
                          f"{sorted_sequence._device}")
    xp = sorted_sequence._device.xp
    boundaries = sorted_sequence._data
    values = input._data if isinstance(input, Tensor) else xp.asarray(input)
    how = "right" if right else "left"
    if boundaries.ndim == 0:
        raise ArgumentError("searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension")
    if boundaries.ndim == 1:
        found = xp.searchsorted(boundaries, values, side=how)
    else:
        if values.ndim == 0:
            raise ArgumentError(f"searchsorted(): input can be a scalar only when boundaries is 1-d, got boundaries "
                                f"of shape {tuple(boundaries.shape)}")
        if boundaries.shape[:-1] != values.shape[:-1]:
            raise ArgumentError(f"searchsorted(): boundaries {tuple(boundaries.shape)} and input "
                                f"{tuple(values.shape)} must agree in all but the last dim")
        rows, lead = boundaries.reshape(-1, boundaries.shape[-1]), values.reshape(-1, values.shape[-1])
        found = xp.stack([xp.searchsorted(r, v, side=how) for r, v in zip(rows, lead)]).reshape(values.shape)
    return wrap(xp.asarray(found).astype(xp.int32 if out_int32 else xp.int64), sorted_sequence._device)


def _histc_samples(make):
    yield Sample((make(20),), {"bins": 4, "min": -1.0, "max": 1.0}, name="fixed range")
    yield Sample((make(3, 5),), {"bins": 5}, name="range of the data")


@ops.op(namespaces=("ember", "Tensor"), differentiable=False, samples=_histc_samples)
def histc(input, bins=100, min=0, max=0):  # noqa: A002 - PyTorch's names
    """Counts of ``input``'s elements in ``bins`` equal-width bins over [min, max] (the data's own range when both
    are 0); elements outside are ignored, ``max`` falls in the last bin (``torch.histc``).

    Shape:
        - input: ``(*)``, floating point.
        - output: ``(bins,)``, the dtype of ``input``.

    Raises:
        ArgumentError: ``bins`` is not positive, or [min, max] is not finite or has max < min.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.histc``."""
    float_input("histc", input)
    if bins <= 0:
        raise ArgumentError(f"histc(): bins must be > 0, got {bins}")
    xp = input._device.xp
    data = input._data.reshape(-1)
    low, high = float(min), float(max)
    if low == high and data.size:
        low, high = float(data.min()), float(data.max())
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ArgumentError(f"histc(): range of [{low}, {high}] is not finite")
    if low == high:
        low, high = low - 1, high + 1
    if low > high:
        raise ArgumentError(f"histc(): max must be larger than min, got min={min}, max={max}")
    kept = data[(data >= low) & (data <= high)]
    position = ((kept - low) * bins / (high - low)).astype(xp.int64)
    counts = xp.bincount(xp.minimum(position, bins - 1), minlength=bins)
    return wrap(counts.astype(data.dtype), input._device)
