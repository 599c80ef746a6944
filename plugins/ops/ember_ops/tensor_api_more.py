"""More everyday Tensor API, as composites of ember ops (so gradients come for free): ``flipud``/``fliplr``,
``take``, ``index_copy``/``index_fill``, ``tensor_split``, ``cartesian_prod``, ``expand_copy``, NaN-skipping
``nansum``/``nanmean``, ``count_nonzero``, ``dist``, ``cross``/``linalg.cross``, ``copysign``, ``gcd``,
``bincount``, ``bucketize``, ``matrix_exp``, and the identities PyTorch defines on real dense tensors
(``conj``, ``resolve_conj``, ``to_dense``)."""

from __future__ import annotations

import math

import numpy as np

from ember import dtypes as _dt
from ember.ops import (DimensionError, ErrorInput, OpTable, OutOfRangeError, Sample, ShapeError, check_tensor, float_input,
                       no_bool, normalize_dims)

from .masks import MaskedFill
from .shape import Flip

ops = OpTable()


def _same_device(op, a, b):
    check_tensor(op, "input", a)
    check_tensor(op, "index", b)
    if a.device != b.device:
        from ember.device import DeviceError
        raise DeviceError(f"{op}(): expected all tensors on the same device, got {a.device} and {b.device}")


def _flip_samples(make):
    yield Sample((make(3, 4),))
    yield Sample((make(2, 3, 2),), name="3-D")


@ops.op(primitive=Flip, namespaces=("ember", "Tensor"), samples=_flip_samples)
def flipud(input):
    """Reverse dim 0 (``torch.flipud``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        RuntimeError: ``input`` is 0-d.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.flipud``."""
    check_tensor("flipud", "input", input)
    if input.dim() < 1:
        raise RuntimeError("flipud: Input must be >= 1-d.")
    return input.flip(0)


@ops.op(primitive=Flip, namespaces=("ember", "Tensor"), samples=_flip_samples)
def fliplr(input):
    """Reverse dim 1 (``torch.fliplr``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        RuntimeError: ``input`` has fewer than 2 dims.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.fliplr``."""
    check_tensor("fliplr", "input", input)
    if input.dim() < 2:
        raise RuntimeError("fliplr: Input must be >= 2-d.")
    return input.flip(1)


@ops.op(namespaces=("ember", "Tensor"), samples=lambda make: [Sample((make(3, 4), make.index([0, 5, 11, -1]))),
                                                         Sample((make(5), make.index([[1, 2], [0, 4]])), name="2-D index")])
def take(input, index):
    """Elements of the flattened ``input`` at ``index`` (shape of ``index``) (``torch.take``).

    Shape:
        - input: ``(*)``; index: int64 of any shape, positions in the flattened ``input``.
        - output: the shape of ``index``, the dtype of ``input``.

    Raises:
        OutOfRangeError: an index is outside [-numel, numel).
        TypeError: ``input`` or ``index`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.take``."""
    check_tensor("take", "input", input)
    check_tensor("take", "index", index)
    return input.reshape(-1)[index]


def _index_samples(make):
    yield Sample((make(4, 3), 0, make.index([2, 0]), make(2, 3)), name="dim 0")
    yield Sample((make(2, 4), 1, make.index([3, 1]), make(2, 2)), name="dim 1")


@ops.op(namespaces=("ember", "Tensor"), inplace=True, samples=_index_samples)
def index_copy(input, dim, index, source):
    """``input`` with the slices at ``index`` along ``dim`` replaced by ``source``'s (``torch.index_copy``).

    Shape:
        - input: ``(*1, S, *2)``; index: 1-D int64 of length K; source: ``(*1, K, *2)``.
        - output: the shape and dtype of ``input``.

    Raises:
        ShapeError: ``index`` or ``source`` does not fit ``input``.
        OutOfRangeError: an index is outside [0, S), or ``dim`` is out of range.
        TypeError: an argument is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.index_copy``."""
    check_tensor("index_copy", "input", input)
    check_tensor("index_copy", "source", source)
    _same_device("index_copy", input, index)
    dim = (normalize_dims("index_copy", dim, input.dim()) or (0,))[0]
    placed = input.new_zeros(tuple(input.shape)).index_add(dim, index, source)
    return index_fill(input, dim, index, 0) + placed


def _fill_samples(make):
    yield Sample((make(4, 3), 0, make.index([2, 0]), 1.5), name="dim 0")
    yield Sample((make(2, 4), 1, make.index([3]), -2.0), name="dim 1")
    yield Sample((make(), 0, make.index([0]), 2.0), name="0-d")


@ops.op(primitive=MaskedFill, namespaces=("ember", "Tensor"), inplace=True, samples=_fill_samples)
def index_fill(input, dim, index, value):
    """``input`` with the slices at ``index`` along ``dim`` set to ``value`` (``torch.index_fill``).

    Shape:
        - input: ``(*1, S, *2)`` or ``()``; index: 1-D int64; value: a number or a 0-d tensor.
        - output: the shape and dtype of ``input``.

    Raises:
        OutOfRangeError: an index is outside [0, S), or ``dim`` is out of range.
        TypeError: ``input`` or ``index`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.index_fill``."""
    check_tensor("index_fill", "input", input)
    _same_device("index_fill", input, index)
    dim = (normalize_dims("index_fill", dim, input.dim()) or (0,))[0]
    hit = np.zeros(input.shape[dim] if input.dim() else 1, bool)  # a 0-d input is one slice, as in PyTorch
    where = np.asarray(index).astype(np.int64)
    if where.size and (where.min() < -hit.size or where.max() >= hit.size):
        raise OutOfRangeError(f"index_fill(): index out of range for dim {dim} of size {hit.size} "
                              f"(input of shape {tuple(input.shape)}), got indices {where.reshape(-1).tolist()}")
    hit[where] = True
    shape = [input.shape[dim] if d == dim else 1 for d in range(input.dim())]
    from ember import tensor
    mask = tensor(hit.reshape(shape), device=input.device)
    return input.masked_fill(mask, value)


@ops.op(namespaces=("ember",), samples=lambda make: [Sample((make(2), make(3))), Sample((make(2), make(2), make(2)), name="three")])
def cartesian_prod(*tensors):
    """Every combination of elements of the 1-D ``tensors``, one per row (``torch.cartesian_prod``).

    Shape:
        - tensors: 1-D tensors of lengths n1, ..., nk.
        - output: ``(n1 * ... * nk, k)`` (``(n1,)`` for one tensor).

    Raises:
        RuntimeError: a tensor is more than 1-D.
        TypeError: an argument is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.cartesian_prod``."""
    from ember import stack
    from .tensor_api import meshgrid
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


@ops.op(namespaces=("ember",), samples=lambda make: [Sample((make(3, 1), (3, 4))), Sample((make(2), (3, 2)))])
def expand_copy(input, size, *, implicit=False):
    """``input.expand(size)`` as a new tensor (``torch.expand_copy``).

    Shape:
        - input: ``(*)``, any dtype; size: at least ``input.dim()`` entries, -1 keeping a dim.
        - output: ``size``, a new tensor (not a view).

    Raises:
        ShapeError: fewer sizes than dims, or a size differs from a non-1 dim.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.expand_copy``."""
    check_tensor("expand_copy", "input", input)
    return input.expand(size).clone()


def _nan_samples(make):
    x = make(3, 4, requires_grad=False)
    x[0, 1] = float("nan")
    x[2, 3] = float("nan")
    yield Sample((x.requires_grad_(),), name="all")
    yield Sample((x.detach().requires_grad_(), 1), name="dim 1")
    yield Sample((x.detach().requires_grad_(), 0), {"keepdim": True}, name="dim 0, keepdim")


def _nan_zeroed(input):
    return input.masked_fill(input.isnan(), 0)


@ops.op(namespaces=("ember", "Tensor"), samples=_nan_samples)
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum treating NaN as zero (``torch.nansum``).

    Shape:
        - input: ``(*)``, any dtype; ``dim``: an int, a tuple of ints or None (all dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; as ``sum``, NaN counted as zero.

    Raises:
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nansum``."""
    check_tensor("nansum", "input", input)
    x = _nan_zeroed(input)
    return x.sum(dim, keepdim=keepdim, dtype=dtype) if dim is not None else x.sum(dtype=dtype)


@ops.op(namespaces=("ember", "Tensor"), samples=_nan_samples)
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over the non-NaN elements (``torch.nanmean``).

    Shape:
        - input: ``(*)``, floating point; ``dim``: an int, a tuple of ints or None (all dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; the dtype of ``input``, NaN skipped.

    Raises:
        DTypeError: ``input`` is not floating point.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nanmean``."""
    float_input("nanmean", input)  # PyTorch refuses integer and bool input (they cannot hold NaN)
    count = (~input.isnan()).to(input.dtype)
    if dim is None:
        return nansum(input, dtype=dtype) / count.sum()
    return nansum(input, dim, keepdim, dtype=dtype) / count.sum(dim, keepdim=keepdim)


@ops.op(namespaces=("ember", "Tensor"), differentiable=False, samples=lambda make: [
    Sample((make.index([[0, 1, 0], [2, 0, 3]]),)), Sample((make.index([[0, 1, 0], [2, 0, 3]]), 1), name="dim 1")])
def count_nonzero(input, dim=None):
    """How many elements are not zero, over ``dim`` or all (``torch.count_nonzero``); int64.

    Shape:
        - input: ``(*)``, any dtype; ``dim``: an int, a tuple of ints or None (all dims).
        - output: ``input``'s shape without the reduced dims (kept as size 1 with ``keepdim``); ``()`` when ``dim``
          is None; int64.

    Raises:
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.count_nonzero``."""
    check_tensor("count_nonzero", "input", input)
    from ember import int64
    nonzero = (input != 0).to(int64)
    return nonzero.sum(dim) if dim is not None else nonzero.sum()


@ops.op(namespaces=("ember", "Tensor"), samples=lambda make: [
    Sample((make(3, 4, away_from_zero=True), make(3, 4))), Sample((make(2, 3), make(3), 1.0), name="p=1, broadcast"),
    Sample((make(4), make(4), float("inf")), name="p=inf")])
def dist(input, other, p=2):
    """The ``p``-norm of ``input - other`` (``torch.dist``).

    Shape:
        - input, other: shapes that broadcast, floating point.
        - output: ``()``, the p-norm of ``input - other``.

    Raises:
        DTypeError: ``input`` is not floating point.
        ShapeError: the shapes do not broadcast.
        TypeError: ``input`` or ``other`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.dist``."""
    check_tensor("dist", "input", input)
    check_tensor("dist", "other", other)
    from ember import linalg
    return linalg.vector_norm(input - other, p)


def _linalg_cross_errors(make):
    yield ErrorInput(Sample((make(), make())), DimensionError, r"linalg\.cross\(\): dimension specified as -1 but .*shape \(\)")
    yield ErrorInput(Sample((make(2, 3), make(2, 3)), {"dim": 2}), OutOfRangeError,
                     r"linalg\.cross\(\): dimension out of range .*got 2")


@ops.op(namespaces=("linalg",), name="linalg_cross", torch="torch.linalg.cross", errors=_linalg_cross_errors,
        samples=lambda make: [Sample((make(2, 3), make(2, 3))), Sample((make(3, 2), make(3, 2)), {"dim": 0})])
def linalg_cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along ``dim`` (``torch.linalg.cross``).

    Shape:
        - input, other: shapes that broadcast, of size 3 at ``dim`` (the last by default); not bool.
        - output: the broadcast shape.

    Raises:
        RuntimeError: ``dim`` does not have size 3 in both.
        DimensionError: ``input`` or ``other`` is 0-d.
        OutOfRangeError: ``dim`` is out of range.
        DTypeError: ``input`` is a bool tensor.
        TypeError: ``input`` or ``other`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.linalg.cross``."""
    check_tensor("linalg.cross", "input", input)
    check_tensor("linalg.cross", "other", other)
    for t in (input, other):
        if t.dim() == 0:  # PyTorch: IndexError "Dimension specified as -1 but tensor has no dimensions"
            raise DimensionError(f"linalg.cross(): dimension specified as {dim} but a tensor of shape () has no "
                                 f"dimensions (expected 3-vectors along dim {dim})")
        normalize_dims("linalg.cross", dim, t.dim())
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[dim]} and "
                           f"{other.shape[dim]}")
    a = [input.select(dim, i) for i in range(3)]
    b = [other.select(dim, i) for i in range(3)]
    from ember import stack
    return stack([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], dim)


@ops.op(namespaces=("ember", "Tensor"), samples=lambda make: [Sample((make(2, 3), make(2, 3)), {"dim": 1}),
                                                         Sample((make(3, 2), make(3, 2)), name="default dim")])
def cross(input, other, dim=None):
    """``torch.cross``: the first dim of length 3 when ``dim`` is None.

    Shape:
        - input, other: shapes that broadcast, with a dim of size 3 (``dim``, else the first such dim); not bool.
        - output: the broadcast shape.

    Raises:
        RuntimeError: no dim of size 3 (or ``dim``'s is not 3).
        DTypeError: ``input`` is a bool tensor.
        TypeError: ``input`` or ``other`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.cross``."""
    check_tensor("cross", "input", input)
    check_tensor("cross", "other", other)
    if dim is None:
        dim = next((i for i, s in enumerate(input.shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(f"cross: no dimension of size 3 in input of shape {tuple(input.shape)}")
    return linalg_cross(input, other, dim=dim)


@ops.op(namespaces=("ember", "Tensor"), samples=lambda make: [
    Sample((make(2, 3), make(2, 3, away_from_zero=True))), Sample((make(2, 3), -1.5), name="number")])
def copysign(input, other):
    """|input| with the sign of ``other`` (``torch.copysign``); float result.

    Shape:
        - input, other: shapes that broadcast (``other`` may be a number); any dtype.
        - output: the broadcast shape, floating point.

    Raises:
        ShapeError: the shapes do not broadcast.
        TypeError: ``input`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.copysign``."""
    check_tensor("copysign", "input", input)
    from ember import where
    from ember.tensor import Tensor
    from ember.ops import wrap
    if not input.dtype.is_floating_point:
        input = input.float()
    if isinstance(other, Tensor):
        if other.device != input.device:
            from ember.device import DeviceError
            raise DeviceError(f"copysign(): expected all tensors on the same device, got {input.device} and "
                              f"{other.device}")
        negative = wrap(other.device.xp.signbit(other.array), other.device)
    else:
        negative = math.copysign(1.0, other) < 0
        return -input.abs() if negative else input.abs()
    magnitude = input.abs()
    result = where(negative, -magnitude, magnitude)
    if other.requires_grad:  # PyTorch's gradient for ``other`` is zero (not absent)
        result = result + other.clamp(min=0, max=0)
    return result


@ops.op(namespaces=("ember", "Tensor"), inplace=True, differentiable=False, dtypes=(_dt.int64,),
        samples=lambda make: [Sample((make.index([12, 18, -4, 0]), make.index([8, 27, 6, 5])))],
        errors=lambda make: [ErrorInput(Sample((make.index([1, 2, 3]), make.index([1, 2]))), ShapeError,
                                        r"gcd\(\): the size of tensor a \(3\) must match the size of tensor b \(2\)")])
def gcd(input, other):
    """Elementwise greatest common divisor of integer tensors (``torch.gcd``).

    Shape:
        - input, other: integer tensors whose shapes broadcast.
        - output: the broadcast shape, the promoted dtype.

    Raises:
        RuntimeError: an operand is not an integer tensor.
        ShapeError: the shapes do not broadcast.
        TypeError: ``input`` or ``other`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.gcd``."""
    check_tensor("gcd", "input", input)
    check_tensor("gcd", "other", other)
    _same_device("gcd", input, other)
    if input.dtype.is_floating_point or other.dtype.is_floating_point:
        raise RuntimeError(f"gcd_cpu not implemented for '{input.dtype}'")
    from ember.ops import wrap
    try:
        return wrap(input.device.xp.gcd(input.array, other.array), input.device)
    except ValueError:
        from .elementwise_factories import _broadcast_error
        raise _broadcast_error("gcd", input, other) from None


@ops.op(namespaces=("ember", "Tensor"), differentiable=False, dtypes=(_dt.int64,), samples=lambda make: [
    Sample((make.index([1, 1, 3, 0, 3]),)), Sample((make.index([1, 2]),), {"minlength": 5}, name="minlength")])
def bincount(input, weights=None, minlength=0):
    """Occurrences of each value 0..max of a 1-D non-negative integer tensor, optionally weighted
    (``torch.bincount``).

    Shape:
        - input: ``(n,)`` non-negative integers; weights: ``(n,)`` or None.
        - output: ``(max(input.max() + 1, minlength),)``, int64 counts (the dtype of ``weights`` when given).

    Raises:
        RuntimeError: ``input`` is not 1-D, non-negative and integral.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.bincount``."""
    check_tensor("bincount", "input", input)
    if input.dim() != 1 or input.dtype.is_floating_point:
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got shape {tuple(input.shape)} "
                           f"and dtype {input.dtype}")
    host = np.asarray(input)
    if host.size and host.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    from ember import tensor
    w = None if weights is None else np.asarray(weights)
    counts = np.bincount(host, weights=w, minlength=minlength)
    dtype = input.dtype if weights is None else (weights.dtype if weights.dtype.is_floating_point else None)
    return tensor(counts, device=input.device, dtype=dtype if weights is None else None).to(
        dtype or tensor(counts).dtype)


@ops.op(namespaces=("ember",), differentiable=False, samples=lambda make: [
    Sample((make(2, 3, requires_grad=False), make.index([-1.0, 0.0, 1.0]).double().to(make.dtype)), name="left"),
    Sample((make(4, requires_grad=False), make.index([-1.0, 0.0, 1.0]).double().to(make.dtype)), {"right": True},
           name="right")])
def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The index of the bucket of ``boundaries`` (1-D, increasing) each element falls in (``torch.bucketize``).

    Shape:
        - input: ``(*)`` (or a number); boundaries: 1-D, sorted.
        - output: the shape of ``input``, int64 (int32 with ``out_int32``).

    Raises:
        ShapeError: ``boundaries`` is not 1-D.
        DTypeError: ``input`` or ``boundaries`` is bool.
        TypeError: ``input`` or ``boundaries`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.bucketize``."""
    no_bool("bucketize", input)
    no_bool("bucketize", boundaries, "boundaries")
    if boundaries.dim() != 1:
        raise ShapeError(f"bucketize(): boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})")
    _same_device("bucketize", input, boundaries)
    from ember import int32, int64
    from ember.ops import wrap
    xp = input.device.xp
    side = "right" if right else "left"
    idx = xp.searchsorted(boundaries.array, input.array, side=side)
    return wrap(xp.asarray(idx).astype((int32 if out_int32 else int64).numpy), input.device)


def _matrix_exp_samples(make):
    yield Sample((make(3, 3, low=-0.5, high=0.5),))
    yield Sample((make(2, 2, 2, low=-0.5, high=0.5),), name="batch")


@ops.op(namespaces=("ember", "Tensor", "linalg"), samples=_matrix_exp_samples, atol=1e-5, rtol=1e-4)
def matrix_exp(A):
    """exp(A) for square matrices, by scaling and squaring a Taylor series (``torch.matrix_exp``).

    Shape:
        - A: ``(*, n, n)``, floating point.
        - output: the shape and dtype of ``A``.

    Raises:
        ShapeError: ``A`` is not a (batch of) square matrices.
        DTypeError: ``A`` is not floating point.
        TypeError: ``A`` is not a Tensor.

    PyTorch: ``torch.matrix_exp``."""
    check_tensor("matrix_exp", "A", A)
    if A.dim() < 2 or A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"matrix_exp: expected a square matrix or batch, got shape {tuple(A.shape)}")
    norm = float(A.abs().sum(-2).amax()) if A.numel() else 0.0
    squarings = max(0, int(math.ceil(math.log2(norm))) + 1) if norm > 0.5 else 0
    X = A / (2 ** squarings)
    import ember
    eye = ember.eye(A.shape[-1], dtype=A.dtype, device=A.device).expand(tuple(A.shape))
    result, term = eye, eye
    for k in range(1, 19):
        term = term @ X / k
        result = result + term
    for _ in range(squarings):
        result = result @ result
    return result


@ops.op(namespaces=("ember", "Tensor"), samples=lambda make: [Sample((make(2, 3),))])
def conj(input):
    """The complex conjugate; ember's tensors are real, so ``input`` itself, as PyTorch returns for real ones.

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.conj``."""
    check_tensor("conj", "input", input)
    return input


@ops.op(namespaces=("ember", "Tensor"), samples=lambda make: [Sample((make(2, 3),))])
def resolve_conj(input):
    """``input`` (a real tensor has no conjugate bit to resolve).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.resolve_conj``."""
    check_tensor("resolve_conj", "input", input)
    return input


@ops.op(namespaces=("Tensor",), samples=lambda make: [Sample((make(2, 3),))])
def to_dense(self, dtype=None, *, masked_grad=None):
    """``self`` (ember's tensors are dense, as PyTorch returns for strided ones).

    Shape:
        - dtype: ``(*)``, any number of dimensions; any dtype.
        - output: ``(*)``, the shape of ``dtype``; the dtype of ``input``.

    Raises:
        TypeError: ``self`` is not a Tensor.

    PyTorch: ``torch.Tensor.to_dense``."""
    check_tensor("to_dense", "self", self)
    return self if dtype is None else self.to(dtype)
