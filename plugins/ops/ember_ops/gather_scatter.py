"""Gathers and scatters along one dim by index tensors: gather, scatter, scatter_add, take_along_dim,
index_select, index_add.

Index arrays travel as primitive attributes (backend arrays), not as inputs: they never get
gradients, and backward needs them but not the data they index.
"""

from __future__ import annotations

from ember.device import DeviceError
from ember.ops import (ArgumentError, DTypeError, DimensionError, ErrorInput, OpTable, OutOfRangeError, Primitive,
                       Sample, ShapeError, apply, check_tensor, normalize_dims, scalar_to)
from ember.tensor import Tensor, wrap, zeros

from .shape import IndexAddInto

ops = OpTable()


# -- checks -----------------------------------------------------------------------------------------

def _dim(op, dim, ndim):
    dims = normalize_dims(op, dim, ndim)  # checked on 0-d inputs too: only -1 and 0 fit
    return dims[0] if dims else 0


def _index_tensor(op, index, input, name="index"):
    check_tensor(op, name, index)
    if index._dtype.is_floating_point or index._dtype.name == "bool":
        raise DTypeError(f"{op}(): expected {name} to be an integer (int64) tensor, got dtype {index._dtype}")
    if index._device is not input._device:
        raise DeviceError(f"{op}(): {name} is on {index._device} but input is on {input._device}")
    return index._data


def _check_bounds(op, index, size, dim, name="index"):
    """IndexError naming the op, the offending index and the dim's size (no negative indices, as in PyTorch)."""
    if index.size:
        low, high = int(index.min()), int(index.max())
        if low < 0 or high >= size:
            bad = low if low < 0 else high
            raise OutOfRangeError(f"{op}(): {name} {bad} is out of bounds for dimension {dim} with size {size}")


def _scatter_index(xp, index, dim):
    """A fancy index addressing, for every element of ``index``, position (..., index[...], ...) along ``dim``."""
    grids = list(xp.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _leading(shape):
    return tuple(slice(0, s) for s in shape)


def _pad_to(g, shape):
    """``g`` (the leading block of a tensor of ``shape``) zero-padded to ``shape``, differentiably."""
    if tuple(g._data.shape) == tuple(shape):
        return g
    return apply(IndexAddInto, g, shape=tuple(shape), index=_leading(g._data.shape), basic=True)


def _check_gather_shapes(op, input, index, dim, other=None, other_name="src"):
    ishape, xshape = index.shape, input._data.shape
    if len(ishape) != len(xshape) and index.size:
        raise ShapeError(f"{op}(): index tensor must have the same number of dimensions as input tensor: got "
                         f"index of shape {tuple(ishape)} and input of shape {tuple(xshape)}")
    for d, s in enumerate(ishape):
        if d != dim and s > xshape[d]:
            raise ShapeError(f"{op}(): size of index ({tuple(ishape)}) must not exceed input's "
                             f"({tuple(xshape)}) in dimension {d} apart from dim {dim}")
        if other is not None and s > other.shape[d]:
            raise ShapeError(f"{op}(): size of index ({tuple(ishape)}) must not exceed {other_name}'s "
                             f"({tuple(other.shape)}) in dimension {d}")


# -- gather / scatter -------------------------------------------------------------------------------

class Gather(Primitive):
    @staticmethod
    def forward(xp, x, dim, index):
        if x.ndim == 0:
            return x[()] if not index.size else xp.broadcast_to(x, index.shape).copy()
        x = x[tuple(slice(0, s) if d != dim else slice(None) for d, s in enumerate(index.shape))]
        return xp.take_along_axis(x, index, axis=dim)

    @staticmethod
    def backward(ctx, g, dim, index):
        base = zeros(ctx.input_shapes[0], dtype=g.dtype, device=g.device)
        return apply(ScatterAdd, base, g, dim=dim, index=index)


class ScatterAdd(Primitive):
    @staticmethod
    def forward(xp, base, src, dim, index):
        out = base.copy()
        if out.ndim == 0:
            if index.size:
                out += src.reshape(-1)[:index.size].sum()
            return out
        xp.add.at(out, _scatter_index(xp, index, dim), src[_leading(index.shape)])
        return out

    @staticmethod
    def backward(ctx, g, dim, index):
        need_base, need_src = ctx.needs_input_grad
        gsrc = _pad_to(apply(Gather, g, dim=dim, index=index), ctx.input_shapes[1]) if need_src else None
        return (g if need_base else None), gsrc


class Scatter(Primitive):
    """``base`` with ``src`` (a tensor, or a number) written at the positions ``index`` addresses."""

    @staticmethod
    def forward(xp, base, src, dim, index):
        out = base.copy()
        if out.ndim == 0:
            if index.size:
                out[()] = src if not hasattr(src, "shape") else src.reshape(-1)[0]
            return out
        out[_scatter_index(xp, index, dim)] = src[_leading(index.shape)] if hasattr(src, "shape") else src
        return out

    @staticmethod
    def backward(ctx, g, dim, index):
        need_base, need_src = ctx.needs_input_grad
        gbase = apply(Scatter, g, 0.0, dim=dim, index=index) if need_base else None
        gsrc = _pad_to(apply(Gather, g, dim=dim, index=index), ctx.input_shapes[1]) if need_src else None
        return gbase, gsrc


class ScatterMultiply(Primitive):
    """Recorded so that backward fails loudly, as PyTorch's does, instead of silently giving no gradient."""

    @staticmethod
    def forward(xp, base, src, dim, index):
        out = base.copy()
        value = src[_leading(index.shape)] if hasattr(src, "shape") else src
        xp.multiply.at(out, _scatter_index(xp, index, dim), value)
        return out

    @staticmethod
    def backward(ctx, g, dim, index):
        raise RuntimeError("scatter(): the derivative of scatter with reduce='multiply' is not implemented "
                           "(nor is it in PyTorch); use scatter_reduce-free ops such as index_put or mul")


def _gather_samples(make):
    yield Sample((make(3, 4), 1, make.index([[0, 3], [1, 1], [2, 0]])), name="dim 1, repeats")
    yield Sample((make(3, 4), 0, make.index([[0, 1, 2, 0], [2, 2, 1, 0]])), name="dim 0")
    yield Sample((make(3, 4), -1, make.index([[1], [0]])), name="smaller index")
    yield Sample((make(4, 3, noncontiguous=True), 0, make.index([[3, 0, 1]])), name="non-contiguous")
    yield Sample((make(2, 3), 1, make.index([[], []])), name="empty index")


def _gather_errors(make):
    x = make(2, 3)
    yield ErrorInput(Sample((x, 1, make.index([[0, 5], [1, 1]]))), IndexError,
                     r"gather\(\): index 5 is out of bounds for dimension 1 with size 3")
    yield ErrorInput(Sample((x, 0, make.index([[-1, 0, 0]]))), IndexError,
                     r"gather\(\): index -1 is out of bounds for dimension 0 with size 2")
    yield ErrorInput(Sample((x, 1, make.index([0, 1]))), RuntimeError,
                     r"gather\(\): index tensor must have the same number of dimensions")
    yield ErrorInput(Sample((x, 1, make(2, 1))), TypeError, r"gather\(\): expected index to be an integer")
    yield ErrorInput(Sample((x, 2, make.index([[0], [1]]))), IndexError, r"gather\(\): dimension out of range.*got 2")


@ops.op(primitive=Gather, samples=_gather_samples, errors=_gather_errors)
def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j] = input[index[i][j]][j]`` for dim 0 (and so on); index may be smaller than input in the other
    dims (``torch.gather``).

    Shape:
        - input: ``(*)``; index: integer, with ``input``'s number of dims, no larger than ``input`` away from
          ``dim``.
        - output: the shape of ``index``, the dtype of ``input``.

    Raises:
        ShapeError: ``index`` has another number of dims than ``input``, or exceeds ``input`` (or ``src``) in a dim
            other than ``dim``.
        OutOfRangeError: an index is out of range along ``dim``, or ``dim`` is out of range.
        DTypeError: ``index`` is not an integer tensor.
        TypeError: ``input`` or ``index`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.gather``."""
    check_tensor("gather", "input", input)
    idx = _index_tensor("gather", index, input)
    d = _dim("gather", dim, input._data.ndim)
    _check_gather_shapes("gather", input, idx, d)
    _check_bounds("gather", idx, input._data.shape[d] if input._data.ndim else 1, d)
    return apply(Gather, input, dim=d, index=idx)


def _scatter_samples(make):
    yield Sample((make(3, 4), 1, make.index([[0, 3], [1, 2], [2, 0]]), make(3, 2)), name="src")
    yield Sample((make(3, 4), 0, make.index([[0, 1, 2, 0], [2, 0, 1, 1]]), make(2, 4)), name="dim 0")
    yield Sample((make(3, 4), 1, make.index([[1], [0]]), make(3, 3, requires_grad=False)), name="src larger than index")
    yield Sample((make(3, 4), 1, make.index([[0, 3], [1, 2]])), {"value": 1.5}, name="value")
    yield Sample((make(3, 4, requires_grad=False), 1, make.index([[0, 0], [1, 2]]), make(2, 2, requires_grad=False)),
                 {"reduce": "add"}, name="reduce add")


def _scatter_errors(make):
    yield ErrorInput(Sample((make(2, 3), 1, make.index([[3], [0]]), make(2, 1))), IndexError,
                     r"scatter\(\): index 3 is out of bounds for dimension 1 with size 3")
    yield ErrorInput(Sample((make(2, 3), 1, make.index([[1], [0]]), make(2, 1)), {"reduce": "max"}), ValueError,
                     r"scatter\(\): reduce argument must be either 'add' or 'multiply'")
    yield ErrorInput(Sample((make(2, 3), 1, make.index([[0], [2]]), make(2, 1)), {"reduce": "multiply"}), RuntimeError,
                     r"reduce='multiply' is not implemented", backward=True)  # as in PyTorch: no derivative


@ops.op(primitive=Scatter, inplace=True, samples=_scatter_samples, errors=_scatter_errors)
def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """A copy of ``input`` with ``src`` (or ``value``) written at the places ``index`` names along ``dim``;
    ``reduce='add'``/``'multiply'`` combines instead (``torch.scatter``). Repeated indices without reduce leave an
    unspecified winner, as in PyTorch.

    Shape:
        - input: ``(*)``; index: integer, with ``input``'s number of dims; src: at least ``index``'s shape, or a
          number ``value``.
        - output: the shape and dtype of ``input``.

    Raises:
        ShapeError: ``index`` has another number of dims than ``input``, or exceeds ``input`` (or ``src``) in a dim
            other than ``dim``.
        OutOfRangeError: an index is out of range along ``dim``, or ``dim`` is out of range.
        DTypeError: ``index`` is not an integer tensor.
        ArgumentError: ``reduce`` is not 'add' or 'multiply'.
        TypeError: neither ``src`` nor ``value`` is given, or an argument is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.scatter``."""
    check_tensor("scatter", "input", input)
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter(): expected a 'src' tensor or a 'value'")
    idx = _index_tensor("scatter", index, input)
    d = _dim("scatter", dim, input._data.ndim)
    if isinstance(src, Tensor):
        if src._device is not input._device:
            raise DeviceError(f"scatter(): src is on {src._device} but input is on {input._device}")
        if src._dtype is not input._dtype:
            src = src.to(input._dtype)
    _check_gather_shapes("scatter", input, idx, d, src if isinstance(src, Tensor) else None)
    _check_bounds("scatter", idx, input._data.shape[d] if input._data.ndim else 1, d)
    if reduce is None:
        return apply(Scatter, input, src, dim=d, index=idx)
    if reduce == "add":
        if not isinstance(src, Tensor):
            src = _full_src(input, idx, src)
        return apply(ScatterAdd, input, src, dim=d, index=idx)
    if reduce == "multiply":
        return apply(ScatterMultiply, input, src, dim=d, index=idx)
    raise ArgumentError(f"scatter(): reduce argument must be either 'add' or 'multiply', got {reduce!r}")


def _full_src(input, idx, value):
    return wrap(input._device.xp.full(idx.shape, value, dtype=input._data.dtype), input._device)


def _scatter_add_errors(make):
    yield ErrorInput(Sample((make(2, 3), 0, make.index([[7, 0, 0]]), make(1, 3))), IndexError,
                     r"scatter\(\): index 7 is out of bounds")


@ops.op(primitive=ScatterAdd, inplace=True, samples=lambda make: [
    Sample((make(3, 4), 1, make.index([[0, 3, 3], [1, 1, 2], [2, 0, 0]]), make(3, 3)), name="repeats"),
    Sample((make(3, 4), 0, make.index([[0, 1, 2, 0], [0, 0, 1, 1]]), make(2, 4)), name="dim 0"),
    Sample((make(3, 4), 1, make.index([[1], [0]]), make(3, 3, requires_grad=False)), name="src larger than index")],
        errors=_scatter_add_errors)
def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src`` added at the places ``index`` names; repeats accumulate
    (``torch.scatter_add``).

    Shape:
        - input: ``(*)``; index: integer, with ``input``'s number of dims; src: at least ``index``'s shape.
        - output: the shape and dtype of ``input``.

    Raises:
        ShapeError: ``index`` has another number of dims than ``input``, or exceeds ``input`` (or ``src``) in a dim
            other than ``dim``.
        OutOfRangeError: an index is out of range along ``dim``, or ``dim`` is out of range.
        DTypeError: ``index`` is not an integer tensor.
        TypeError: an argument is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.scatter_add``."""
    return scatter(input, dim, index, src, reduce="add")


# -- index_select / index_add -----------------------------------------------------------------------

class IndexSelect(Primitive):
    @staticmethod
    def forward(xp, x, dim, index):
        return xp.take(x, index, axis=dim) if x.ndim else x[index * 0]

    @staticmethod
    def backward(ctx, g, dim, index):
        base = zeros(ctx.input_shapes[0], dtype=g.dtype, device=g.device)
        return apply(IndexAdd, base, g, dim=dim, index=index, alpha=1)


class IndexAdd(Primitive):
    @staticmethod
    def forward(xp, base, src, dim, index, alpha):
        out = base.copy()
        if out.ndim == 0:
            out += src.sum() * alpha
            return out
        src = xp.moveaxis(src, dim, 0)
        xp.add.at(xp.moveaxis(out, dim, 0), index, src if alpha == 1 else src * alpha)
        return out

    @staticmethod
    def backward(ctx, g, dim, index, alpha):
        need_base, need_src = ctx.needs_input_grad
        gsrc = None
        if need_src:
            gsrc = apply(IndexSelect, g, dim=dim, index=index)
            if alpha != 1:
                gsrc = gsrc * alpha
        return (g if need_base else None), gsrc


def _index_vector(op, index, input, d):
    idx = _index_tensor(op, index, input)
    if idx.ndim > 1:
        raise DimensionError(f"{op}(): index must be a 1-D (or 0-d) tensor, got shape {tuple(idx.shape)}")
    idx = idx.reshape(-1)
    _check_bounds(op, idx, input._data.shape[d] if input._data.ndim else 1, d)
    return idx


def _index_select_errors(make):
    yield ErrorInput(Sample((make(4, 2), 0, make.index([0, 4]))), IndexError,
                     r"index_select\(\): index 4 is out of bounds for dimension 0 with size 4")
    yield ErrorInput(Sample((make(4, 2), 0, make.index([[0]]))), RuntimeError,
                     r"index_select\(\): index must be a 1-D \(or 0-d\) tensor, got shape")


@ops.op(primitive=IndexSelect, samples=lambda make: [
    Sample((make(4, 3), 0, make.index([0, 2, 2])), name="dim 0, repeats"),
    Sample((make(4, 3), 1, make.index([2, 0])), name="dim 1"),
    Sample((make(4, 3), -1, make.index(1)), name="0-d index"),
    Sample((make(3, 4, noncontiguous=True), 0, make.index([1, 0])), name="non-contiguous"),
    Sample((make(4, 3), 0, make.index([])), name="empty index")], errors=_index_select_errors)
def index_select(input, dim, index):
    """The slices ``index`` names along ``dim`` (a copy) (``torch.index_select``).

    Shape:
        - input: ``(*1, S, *2)``; index: 1-D (or 0-d) int64 of length K.
        - output: ``(*1, K, *2)``, the dtype of ``input``.

    Raises:
        ShapeError: ``index`` is more than 1-D.
        OutOfRangeError: an index is outside [0, S), or ``dim`` is out of range.
        DTypeError: ``index`` is not an integer tensor.
        TypeError: ``input`` or ``index`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.index_select``."""
    check_tensor("index_select", "input", input)
    d = _dim("index_select", dim, input._data.ndim)
    idx = _index_vector("index_select", index, input, d)
    if not input._data.ndim:  # a 0-d input acts as one element: the result is 0-d too (PyTorch)
        return apply(IndexSelect, input.reshape(1), dim=0, index=idx).reshape(())
    return apply(IndexSelect, input, dim=d, index=idx)


def _index_add_errors(make):
    yield ErrorInput(Sample((make(4, 3), 0, make.index([0, 1]), make(3, 3))), RuntimeError,
                     r"index_add\(\): source must have shape \(2, 3\).*got \(3, 3\)")


@ops.op(primitive=IndexAdd, inplace=True, samples=lambda make: [
    Sample((make(4, 3), 0, make.index([0, 2, 2]), make(3, 3)), name="repeats"),
    Sample((make(4, 3), 1, make.index([2, 0]), make(4, 2)), {"alpha": 0.5}, name="alpha")], errors=_index_add_errors)
def index_add(input, dim, index, source, *, alpha=1):
    """A copy of ``input`` with ``alpha * source`` slices added at the places ``index`` names along ``dim``
    (``torch.index_add``).

    Shape:
        - input: ``(*1, S, *2)``; index: 1-D (or 0-d) int64 of length K; source: ``(*1, K, *2)``.
        - output: the shape and dtype of ``input``.

    Raises:
        ShapeError: ``index`` is more than 1-D, or ``source`` is not ``input``'s shape with K at ``dim``.
        OutOfRangeError: an index is outside [0, S), or ``dim`` is out of range.
        DTypeError: ``index`` is not an integer tensor.
        RuntimeError: ``alpha`` does not fit an integer dtype.
        TypeError: an argument is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.index_add``."""
    check_tensor("index_add", "input", input)
    check_tensor("index_add", "source", source)
    d = _dim("index_add", dim, input._data.ndim)
    idx = _index_vector("index_add", index, input, d)
    expected = tuple(len(idx) if i == d else s for i, s in enumerate(input._data.shape))
    if tuple(source._data.shape) != expected and input._data.ndim:
        raise ShapeError(f"index_add(): source must have shape {expected} (input {tuple(input.shape)} with dim {d} "
                         f"sized like index), got {tuple(source.shape)}")
    if source._dtype is not input._dtype:
        source = source.to(input._dtype)
    if input._dtype.category == 1:  # integer tensors: PyTorch truncates alpha to the dtype
        alpha = scalar_to("index_add", alpha, input._dtype)
    return apply(IndexAdd, input, source, dim=d, index=idx, alpha=alpha)


@ops.op(samples=lambda make: [
    Sample((make(3, 4), make.index([[0, 3], [1, 1], [2, 0]]), 1), name="dim 1"),
    Sample((make(3, 4), make.index([[0], [2]]), 0), name="broadcast indices"),
    Sample((make(3, 4), make.index([5, 0, 11])), name="flattened")])
def take_along_dim(input, indices, dim=None):
    """Values at ``indices`` along ``dim`` (input and indices broadcast in the other dims); over the flattened
    input when ``dim`` is None (``torch.take_along_dim``).

    Shape:
        - input: ``(*)``; indices: int64 with ``input``'s number of dims (or any shape when ``dim`` is None),
          broadcastable to it outside ``dim``.
        - output: the broadcast shape with ``indices``' size at ``dim``.

    Raises:
        ShapeError: the numbers of dims differ, or the shapes do not broadcast outside ``dim``.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` or ``indices`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.take_along_dim``."""
    check_tensor("take_along_dim", "input", input)
    check_tensor("take_along_dim", "indices", indices)
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    d = _dim("take_along_dim", dim, input._data.ndim)
    if input._data.ndim != indices._data.ndim:
        raise ShapeError(f"take_along_dim(): input and indices should have the same number of dimensions, got "
                         f"{tuple(input.shape)} and {tuple(indices.shape)}")
    xs, js = list(input._data.shape), list(indices._data.shape)
    xs[d] = js[d] = 1
    try:
        common = input._device.xp.broadcast_shapes(tuple(xs), tuple(js))
    except ValueError:
        raise ShapeError(f"take_along_dim(): input of shape {tuple(input.shape)} and indices of shape "
                         f"{tuple(indices.shape)} cannot be broadcast outside dim {d}") from None
    x_shape = tuple(input._data.shape[d] if i == d else s for i, s in enumerate(common))
    j_shape = tuple(indices._data.shape[d] if i == d else s for i, s in enumerate(common))
    x = input.expand(x_shape) if x_shape != input._data.shape else input
    j = indices.expand(j_shape) if j_shape != indices._data.shape else indices
    return gather(x, d, j)
