"""Shape and indexing ops: reshape/view, flatten, squeeze/unsqueeze, transpose/permute, expand and its
reduction twin sum_to_size, clone/contiguous, and ``__getitem__``.

Ops that return views share their input's version counter (``maybe_view``), so an in-place change
through a view is seen by backward of anything that saved the base.
"""

from __future__ import annotations

import math

import numpy as np

from ember.ops import OpTable, Primitive, Sample, ShapeError, apply, check_tensor, maybe_view, normalize_dims
from ember.tensor import Tensor

ops = OpTable()


# -- reshape --------------------------------------------------------------------------------------

def _infer_shape(op, shape, numel):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise ShapeError(f"{op}(): only one dimension can be inferred, got shape {shape}")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise ShapeError(f"{op}(): shape {list(shape)} is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise ShapeError(f"{op}(): shape {list(shape)} is invalid for input of size {numel}")
    return shape


class Reshape(Primitive):
    @staticmethod
    def forward(xp, x, shape, copy):
        return x.reshape(shape) if copy is None else xp.reshape(x, shape, copy=copy)

    @staticmethod
    def backward(ctx, g, shape, copy):
        return g.reshape(ctx.input_shapes[0])


@ops.op(samples=lambda make: [Sample((make(2, 3, 4), (6, 4))), Sample((make(2, 3), (-1,))),
                              Sample((make(3, 4, noncontiguous=True), (2, 6))), Sample((make(0, 3), (3, 0)))])
def reshape(input, *shape):
    """The same elements in a new shape; a view when the memory layout allows (``torch.reshape``)."""
    check_tensor("reshape", "input", input)
    shape = _infer_shape("reshape", shape, input._data.size)
    return maybe_view(apply(Reshape, input, shape=shape, copy=None), input)


def view(input, *shape):
    """Like reshape, but always a view: an error when the layout would need a copy (``Tensor.view``)."""
    check_tensor("view", "input", input)
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
        return input.to(shape[0])  # view(dtype) is a reinterpretation in PyTorch; ember casts
    shape = _infer_shape("view", shape, input._data.size)
    try:
        return maybe_view(apply(Reshape, input, shape=shape, copy=False), input)
    except ValueError:
        raise ShapeError(f"view(): view size {list(shape)} is not compatible with input tensor's size and "
                         f"stride {tuple(input.shape)} (it is not contiguous); use .reshape(...) instead") from None


ops.op(view, where=("Tensor",), samples=lambda make: [Sample((make(2, 3, 4), 6, 4)), Sample((make(6), 2, -1))])


@ops.op(samples=lambda make: [Sample((make(2, 3, 4), 1)), Sample((make(2, 3, 4),)), Sample((make(2, 3, 4), 0, 1)),
                              Sample((make(),))])
def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one (``torch.flatten``)."""
    check_tensor("flatten", "input", input)
    shape = input._data.shape
    if not shape:
        return input.reshape(1)
    start, end = normalize_dims("flatten", start_dim, len(shape))[0], normalize_dims("flatten", end_dim, len(shape))[0]
    if start > end:
        raise ValueError(f"flatten(): start_dim ({start_dim}) cannot come after end_dim ({end_dim})")
    return input.reshape(shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])


@ops.op(samples=lambda make: [Sample((make(2, 3), 0)), Sample((make(2, 3), -1)), Sample((make(), 0))])
def unsqueeze(input, dim):
    """Insert a dimension of size one at ``dim`` (``torch.unsqueeze``)."""
    check_tensor("unsqueeze", "input", input)
    shape = input._data.shape
    dim = normalize_dims("unsqueeze", dim, len(shape) + 1)[0]
    return input.reshape(shape[:dim] + (1,) + shape[dim:])


@ops.op(samples=lambda make: [Sample((make(2, 1, 3),)), Sample((make(2, 1, 3), 1)), Sample((make(2, 1, 3), 0)),
                              Sample((make(1, 2, 1), (0, 2)))])
def squeeze(input, dim=None):
    """Remove dimensions of size one (all, or those in ``dim`` that have size one) (``torch.squeeze``)."""
    check_tensor("squeeze", "input", input)
    shape = input._data.shape
    dims = normalize_dims("squeeze", dim, len(shape))
    dims = range(len(shape)) if dims is None else dims
    drop = {d for d in dims if shape[d] == 1}
    return input.reshape(tuple(s for i, s in enumerate(shape) if i not in drop))


# -- permutations ---------------------------------------------------------------------------------

class Permute(Primitive):
    @staticmethod
    def forward(xp, x, dims):
        return xp.transpose(x, dims)

    @staticmethod
    def backward(ctx, g, dims):
        return g.permute(tuple(np.argsort(dims).tolist()))


@ops.op(samples=lambda make: [Sample((make(2, 3, 4), (2, 0, 1))), Sample((make(2, 3), (1, 0))), Sample((make(), ()))])
def permute(input, *dims):
    """Reorder dimensions (a view) (``torch.permute``)."""
    check_tensor("permute", "input", input)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise ShapeError(f"permute(): number of dims don't match: input has {ndim} dims, got {len(dims)} ({dims})")
    norm = tuple(normalize_dims("permute", d, ndim)[0] for d in dims) if ndim else ()
    if len(set(norm)) != len(norm):
        raise ShapeError(f"permute(): repeated dim in {dims}")
    return maybe_view(apply(Permute, input, dims=norm), input)


@ops.op(aliases=("swapaxes", "swapdims"),
        samples=lambda make: [Sample((make(2, 3, 4), 0, 2)), Sample((make(2, 3), 0, 1)), Sample((make(3), 0, -1))])
def transpose(input, dim0, dim1):
    """Swap two dimensions (a view) (``torch.transpose``)."""
    check_tensor("transpose", "input", input)
    ndim = input._data.ndim
    if ndim == 0:
        return input.reshape(())
    d0, d1 = normalize_dims("transpose", dim0, ndim)[0], normalize_dims("transpose", dim1, ndim)[0]
    order = list(range(ndim))
    order[d0], order[d1] = order[d1], order[d0]
    return maybe_view(apply(Permute, input, dims=tuple(order)), input)


@ops.op(samples=lambda make: [Sample((make(2, 3),)), Sample((make(3),))])
def t(input):
    """Transpose a matrix; vectors and scalars are returned as they are (``torch.t``)."""
    check_tensor("t", "input", input)
    if input._data.ndim > 2:
        raise ShapeError(f"t(): expects a tensor with <= 2 dimensions, but input has {input._data.ndim}")
    return input.transpose(0, 1) if input._data.ndim == 2 else input.reshape(input._data.shape)


@ops.op(samples=lambda make: [Sample((make(2, 3, 4), 1, 0)), Sample((make(2, 3, 4), (0, 1), (2, 0)))])
def movedim(input, source, destination):
    """Move dims from ``source`` to ``destination`` positions, keeping the others' order (``torch.movedim``)."""
    check_tensor("movedim", "input", input)
    ndim = input._data.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise ShapeError(f"movedim(): source and destination must have the same number of dims, got {src} and {dst}")
    src = [normalize_dims("movedim", d, ndim)[0] for d in src]
    dst = [normalize_dims("movedim", d, ndim)[0] for d in dst]
    order = [d for d in range(ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return input.permute(tuple(order))


# -- broadcasting and its reduction -------------------------------------------------------------------

class BroadcastTo(Primitive):
    @staticmethod
    def forward(xp, x, shape):
        return xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g, shape):
        return g.sum_to_size(ctx.input_shapes[0])


class SumToSize(Primitive):
    @staticmethod
    def forward(xp, x, shape):
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1)
        out = xp.sum(x, axis=axes, keepdims=True) if axes else x
        return xp.reshape(out, shape)

    @staticmethod
    def backward(ctx, g, shape):
        return g.expand(ctx.input_shapes[0])


@ops.op(where=("ember", "Tensor"), torch=None, aliases=("broadcast_to",),
        samples=lambda make: [Sample((make(3, 1), (2, 3, 4))), Sample((make(3), (2, 3))), Sample((make(2, 3), (-1, 3)))])
def expand(input, *sizes):
    """A read-only view with size-one dims repeated to ``sizes`` (-1 keeps a dim) (``Tensor.expand``)."""
    check_tensor("expand", "input", input)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise ShapeError(f"expand(): the number of sizes provided ({len(sizes)}) must be greater or equal to the "
                         f"number of dimensions in the tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    target = tuple(shape[i - lead] if s == -1 and i >= lead else int(s) for i, s in enumerate(sizes))
    for i, s in enumerate(shape):
        if s != 1 and s != target[lead + i]:
            raise ShapeError(f"expand(): the expanded size of the tensor ({target[lead + i]}) must match the existing "
                             f"size ({s}) at non-singleton dimension {lead + i}; target sizes {list(sizes)}, tensor "
                             f"sizes {list(shape)}")
    if target == shape:
        return input.reshape(shape)
    return maybe_view(apply(BroadcastTo, input, shape=target), input)


def expand_as(input, other):
    """``input.expand(other.shape)``."""
    return input.expand(other.shape)


ops.op(expand_as, where=("Tensor",), samples=lambda make: [Sample((make(3, 1), make(2, 3, 4)))])


def sum_to_size(input, *size):
    """Sum broadcast dimensions away so the result has ``size`` (``Tensor.sum_to_size``)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    shape = input._data.shape
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != shape[lead + i] for i, s in enumerate(size)):
        raise ShapeError(f"sum_to_size(): size {list(size)} is not expandable to size {list(shape)}")
    if size == shape:
        return input
    return apply(SumToSize, input, shape=size)


ops.op(sum_to_size, where=("Tensor",), samples=lambda make: [Sample((make(2, 3, 4), (3, 1))), Sample((make(2, 3), 3))])


# -- copies -------------------------------------------------------------------------------------------

class Clone(Primitive):
    @staticmethod
    def forward(xp, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


@ops.op(samples=lambda make: [Sample((make(2, 3),)), Sample((make(3, 4, noncontiguous=True),))])
def clone(input, *, memory_format=None):
    """A copy with its own memory, still on the graph (``torch.clone``)."""
    check_tensor("clone", "input", input)
    return apply(Clone, input)


def contiguous(input, memory_format=None):
    """``input`` if its memory is C-contiguous, else a contiguous copy (``Tensor.contiguous``)."""
    if input._data.flags.c_contiguous:
        return input
    return apply(Clone, input)


ops.op(contiguous, where=("Tensor",), samples=lambda make: [Sample((make(3, 4, noncontiguous=True),))])


# -- indexing -------------------------------------------------------------------------------------

def _backend_index(op, index, device):
    """Turn an index of ints, slices, None, Ellipsis, lists and tensors into one the backend understands."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    basic = True
    for item in index:
        if isinstance(item, Tensor):
            if item._device is not device:
                raise RuntimeError(f"{op}: indices are on {item._device} but the tensor is on {device}")
            if item._dtype.is_floating_point:
                raise IndexError(f"{op}: tensors used as indices must be long, int, byte or bool tensors, got "
                                 f"{item._dtype}")
            out.append(item._data)
            basic = False
        elif isinstance(item, (list, np.ndarray)):
            out.append(device.xp.asarray(item))
            basic = False
        elif item is None or item is Ellipsis or isinstance(item, (int, np.integer, slice)):
            if isinstance(item, slice) and item.step is not None and item.step <= 0:
                raise ValueError(f"{op}: step must be greater than zero, got {item.step}")
            out.append(item)
        else:
            raise IndexError(f"{op}: only integers, slices, None, Ellipsis, lists and int or bool tensors are "
                             f"valid indices, got {type(item).__name__}")
    return tuple(out), basic


class Index(Primitive):
    @staticmethod
    def forward(xp, x, index, basic):
        return x[index]

    @staticmethod
    def backward(ctx, g, index, basic):
        return apply(IndexAddInto, g, shape=ctx.input_shapes[0], index=index, basic=basic)


class IndexAddInto(Primitive):
    """Gradient of indexing: ``g`` added into zeros at the indexed places (repeats accumulate)."""

    @staticmethod
    def forward(xp, g, shape, index, basic):
        out = xp.zeros(shape, dtype=g.dtype)
        if basic:
            out[index] = g
        else:
            xp.add.at(out, index, g)
        return out

    @staticmethod
    def backward(ctx, g, shape, index, basic):
        return apply(Index, g, index=index, basic=basic)


def getitem(input, index):
    """``input[index]`` with basic, advanced and boolean indexing, differentiable (``Tensor.__getitem__``)."""
    key, basic = _backend_index("index", index, input._device)
    try:
        out = apply(Index, input, index=key, basic=basic)
    except IndexError as exc:
        raise IndexError(f"index: {exc} (tensor of shape {tuple(input.shape)})") from None
    return maybe_view(out, input) if basic else out


ops.op(getitem, where=(), operator="getitem", torch="torch.Tensor.__getitem__",
       samples=lambda make: [
           Sample((make(4, 3), 1), name="int"), Sample((make(4, 3), (slice(1, 3), 0)), name="slice"),
           Sample((make(4, 3), (Ellipsis, None, slice(None, None, 2))), name="ellipsis, None, step"),
           Sample((make(5, 3), make.index([0, 2, 2, 4])), name="repeated long index"),
           Sample((make(4, 3), (make.index([0, 3]), make.index([1, 2]))), name="two index tensors"),
           Sample((make(2, 3), make.index([[True, False, True], [False, True, True]])), name="bool mask"),
       ])
