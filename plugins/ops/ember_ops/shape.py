"""Shape and indexing ops: reshape/view, flatten, squeeze/unsqueeze, transpose/permute, expand and its
reduction twin sum_to_size, clone/contiguous, and ``__getitem__``.

Ops that return views share their input's version counter (``maybe_view``), so an in-place change
through a view is seen by backward of anything that saved the base.
"""

from __future__ import annotations

import math

import numpy as np

from ember import dtypes
from ember.device import DeviceError
from ember.ops import (ArgumentError, DimensionError, ErrorInput, OpTable, OutOfRangeError, Primitive, Sample,
                       ShapeError, apply, check_tensor, maybe_view, normalize_dims)
from ember.autograd.grad_mode import STATE
from ember.tensor import Tensor
from ember.ops import as_view, bump_version, share_version, view_in_place, wrap
from ember.views import Permute, Transpose  # the core's: Tensor.T/mT and permute/transpose share them
from ember.storage import (
    address, channels_last, channels_last_3d, contiguous_format, is_dense, preserve_format, row_major_alias,
    storage_offset, storage_root, strides_of,
)

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


class View(Primitive):
    @staticmethod
    def forward(xp, x, shape, copy):
        return x.reshape(shape) if copy is None else xp.reshape(x, shape, copy=copy)

    @staticmethod
    def backward(ctx, g, shape, copy):
        return g.reshape(ctx.input_shapes[0])


class Unsqueeze(View):
    """A view with a dim of size one added: ``View`` under ATen's name for ``unsqueeze``."""


class Squeeze(View):
    """A view with every dim of size one dropped; :class:`SqueezeDim` and :class:`SqueezeDims` are
    PyTorch's overloads that name the dims."""


class SqueezeDim(Squeeze):
    name, grad_fn = "squeeze.dim", "SqueezeBackward1"


class SqueezeDims(Squeeze):
    name, grad_fn = "squeeze.dims", "SqueezeBackward2"


@ops.op(primitive=View, samples=lambda make: [Sample((make(2, 3, 4), (6, 4))), Sample((make(2, 3), (-1,))),
                              Sample((make(3, 4, noncontiguous=True), (2, 6))), Sample((make(0, 3), (3, 0)))])
def reshape(input, *shape):
    """The same elements in a new shape; a view when the memory layout allows (``torch.reshape``).

    Shape:
        - input: ``(*)``, any dtype; shape: sizes multiplying to ``input.numel()``, one of them -1 at most
          (inferred).
        - output: ``shape``; a view where the strides allow, else a copy.

    Raises:
        ShapeError: more than one size is -1, or the sizes do not multiply to ``input.numel()``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.reshape``."""
    check_tensor("reshape", "input", input)
    shape = _infer_shape("reshape", shape, input.array.size)
    return maybe_view(apply(View, input, shape=shape, copy=None), input)


def view(input, *shape):
    """Like reshape, but always a view: an error when the layout would need a copy (``Tensor.view``).
    ``view(dtype)`` reinterprets the bytes instead (:func:`view_dtype`).

    Shape:
        - input: ``(*)``, any dtype; shape: sizes multiplying to ``input.numel()`` (one may be -1), or a dtype.
        - output: a view of ``shape`` (or of the dtype, the last dim rescaled by the item sizes).

    Raises:
        ShapeError: more than one size is -1, or the sizes do not multiply to ``input.numel()``.
        ShapeError: the strides of ``input`` do not allow the view (use ``reshape``).
        RuntimeError: viewing as a dtype of another size a 0-d tensor, a last dim that is not contiguous, or one
            whose size does not divide.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.Tensor.view``."""
    check_tensor("view", "input", input)
    if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
        return view_dtype(input, shape[0])
    shape = _infer_shape("view", shape, input.array.size)
    try:
        return maybe_view(apply(View, input, shape=shape, copy=False), input)
    except ValueError:
        raise ShapeError(f"view(): view size {list(shape)} is not compatible with input tensor's size and "
                         f"stride {tuple(input.shape)} (it is not contiguous); use .reshape(...) instead") from None


ops.op(view, primitive=View, namespaces=("Tensor",), samples=lambda make: [Sample((make(2, 3, 4), 6, 4)), Sample((make(6), 2, -1))])

_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def view_dtype(input, dtype):
    """The same bytes read as ``dtype`` (``Tensor.view(dtype)``): a bit reinterpretation sharing memory and
    version counter, outside autograd. With a different element size the last dim (stride 1) shrinks or
    grows by the size ratio, with PyTorch's conditions and errors."""
    old, new = input.dtype, dtype
    data = input.array
    if new.itemsize != old.itemsize:
        what = (f"to view {_SCALAR_NAMES.get(old.name, old.name)} as {_SCALAR_NAMES.get(new.name, new.name)} "
                f"(different element sizes)")
        if data.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        strides = input.stride()
        if strides[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {strides[-1]}")
        if new.itemsize > old.itemsize:
            ratio = new.itemsize // old.itemsize
            checks = [("size(-1)", data.shape[-1]), ("storage_offset()", input.storage_offset())]
            checks += [(f"stride({d})", st) for d, st in enumerate(strides[:-1])]
            for name, value in checks:
                if value % ratio:
                    raise RuntimeError(f"self.{name} must be divisible by {ratio} {what}, but got {value}")
    out = share_version(wrap(data.view(new.numpy), input.device), input)
    return out


@ops.op(primitive=View, samples=lambda make: [Sample((make(2, 3, 4), 1)), Sample((make(2, 3, 4),)), Sample((make(2, 3, 4), 0, 1)),
                              Sample((make(),))])
def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one (``torch.flatten``).

    Shape:
        - input: ``(*1, S_start, ..., S_end, *2)``, any dtype.
        - output: ``(*1, S_start * ... * S_end, *2)`` (0-d gives ``(1,)``), a view where possible.

    Raises:
        ArgumentError: ``start_dim`` comes after ``end_dim``.
        OutOfRangeError: ``start_dim`` or ``end_dim`` is out of range.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.flatten``."""
    check_tensor("flatten", "input", input)
    shape = input.array.shape
    if not shape:
        normalize_dims("flatten", start_dim, 0), normalize_dims("flatten", end_dim, 0)
        return input.reshape(1)
    start, end = normalize_dims("flatten", start_dim, len(shape))[0], normalize_dims("flatten", end_dim, len(shape))[0]
    if start > end:
        raise ArgumentError(f"flatten(): start_dim ({start_dim}) cannot come after end_dim ({end_dim})")
    return input.reshape(shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])


def unsqueeze_(input, dim):
    """``unsqueeze`` in place (``Tensor.unsqueeze_``)."""
    return view_in_place("unsqueeze_", input, unsqueeze(input, dim))


def squeeze_(input, dim=None):
    """``squeeze`` in place (``Tensor.squeeze_``)."""
    return view_in_place("squeeze_", input, squeeze(input, dim))


def transpose_(input, dim0, dim1):
    """``transpose`` in place (``Tensor.transpose_``)."""
    return view_in_place("transpose_", input, transpose(input, dim0, dim1))


def t_(input):
    """``t`` in place (``Tensor.t_``)."""
    return view_in_place("t_", input, t(input))


@ops.op(primitive=View, inplace=unsqueeze_, samples=lambda make: [Sample((make(2, 3), 0)), Sample((make(2, 3), -1)), Sample((make(), 0))])
def unsqueeze(input, dim):
    """Insert a dimension of size one at ``dim`` (``torch.unsqueeze``).

    Shape:
        - input: ``(*)``, any dtype; dim: in [-input.dim() - 1, input.dim()].
        - output: ``input``'s shape with a size-1 dim inserted at ``dim``, a view.

    Raises:
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.unsqueeze``."""
    check_tensor("unsqueeze", "input", input)
    shape = input.array.shape
    dim = normalize_dims("unsqueeze", dim, len(shape) + 1)[0]
    return maybe_view(apply(Unsqueeze, input, shape=shape[:dim] + (1,) + shape[dim:], copy=None), input)


@ops.op(primitive=View, inplace=squeeze_, samples=lambda make: [
    Sample((make(2, 1, 3),)), Sample((make(2, 1, 3), 1)), Sample((make(2, 1, 3), 0)), Sample((make(1, 2, 1), (0, 2)))])
def squeeze(input, dim=None):
    """Remove dimensions of size one (all, or those in ``dim`` that have size one) (``torch.squeeze``).

    Shape:
        - input: ``(*)``, any dtype; dim: None, an int or a tuple of ints.
        - output: ``input``'s shape without its size-1 dims (only those in ``dim``, when given), a view.

    Raises:
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.squeeze``."""
    check_tensor("squeeze", "input", input)
    shape = input.array.shape
    dims = normalize_dims("squeeze", dim, len(shape))
    dims = range(len(shape)) if dims is None else dims
    drop = {d for d in dims if shape[d] == 1}
    prim = Squeeze if dim is None else SqueezeDims if isinstance(dim, (tuple, list)) else SqueezeDim
    return maybe_view(apply(prim, input, shape=tuple(s for i, s in enumerate(shape) if i not in drop), copy=None),
                      input)


# -- permutations ---------------------------------------------------------------------------------

class T(Permute):
    """A matrix transposed: ``Permute`` under ATen's name for ``Tensor.t``."""


@ops.op(primitive=Permute, samples=lambda make: [Sample((make(2, 3, 4), (2, 0, 1))), Sample((make(2, 3), (1, 0))), Sample((make(), ()))])
def permute(input, *dims):
    """Reorder dimensions (a view) (``torch.permute``).

    Shape:
        - input: ``(S_0, ..., S_n-1)``, any dtype; dims: a permutation of its dims.
        - output: ``(S_dims[0], ..., S_dims[n-1])``, a view.

    Raises:
        ShapeError: ``dims`` has another length than ``input.dim()``, or repeats a dim.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.permute``."""
    check_tensor("permute", "input", input)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    ndim = input.array.ndim
    if len(dims) != ndim:
        raise ShapeError(f"permute(): number of dims don't match: input has {ndim} dims, got {len(dims)} ({dims})")
    norm = tuple(normalize_dims("permute", d, ndim)[0] for d in dims) if ndim else ()
    if len(set(norm)) != len(norm):
        raise ShapeError(f"permute(): repeated dim in {dims}")
    return maybe_view(apply(Permute, input, dims=norm), input)


@ops.op(primitive=Transpose, aliases=("swapaxes", "swapdims"), inplace=transpose_,
        samples=lambda make: [Sample((make(2, 3, 4), 0, 2)), Sample((make(2, 3), 0, 1)), Sample((make(3), 0, -1))])
def transpose(input, dim0, dim1):
    """Swap two dimensions (a view) (``torch.transpose``).

    Shape:
        - input: ``(*)``, any dtype.
        - output: ``input``'s shape with ``dim0`` and ``dim1`` swapped, a view.

    Raises:
        OutOfRangeError: ``dim0`` or ``dim1`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.transpose``."""
    check_tensor("transpose", "input", input)
    ndim = input.array.ndim
    if ndim == 0:
        normalize_dims("transpose", dim0, 0), normalize_dims("transpose", dim1, 0)
        return input.reshape(())
    d0, d1 = normalize_dims("transpose", dim0, ndim)[0], normalize_dims("transpose", dim1, ndim)[0]
    return maybe_view(apply(Transpose, input, dim0=d0, dim1=d1), input)


@ops.op(primitive=Permute, inplace=t_, samples=lambda make: [Sample((make(2, 3),)), Sample((make(3),))])
def t(input):
    """Transpose a matrix; vectors and scalars are returned as they are (``torch.t``).

    Shape:
        - input: 0-d, 1-D or 2-D, any dtype.
        - output: 2-D input transposed (``(m, n)`` from ``(n, m)``); others as they are; a view.

    Raises:
        DimensionError: ``input`` has more than 2 dims.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.t``."""
    check_tensor("t", "input", input)
    if input.array.ndim > 2:
        raise DimensionError(f"t(): expects a tensor with <= 2 dimensions, but input has {input.array.ndim}")
    if input.array.ndim == 2:
        return maybe_view(apply(T, input, dims=(1, 0)), input)
    return input.reshape(input.array.shape)


@ops.op(primitive=Permute, aliases=("moveaxis",),
        samples=lambda make: [Sample((make(2, 3, 4), 1, 0)), Sample((make(2, 3, 4), (0, 1), (2, 0)))])
def movedim(input, source, destination):
    """Move dims from ``source`` to ``destination`` positions, keeping the others' order (``torch.movedim``).

    Shape:
        - input: ``(*)``, any dtype; source, destination: ints or equally long tuples of dims.
        - output: ``input``'s dims with ``source`` moved to ``destination``, the rest in order; a view.

    Raises:
        ShapeError: ``source`` and ``destination`` differ in length.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.movedim``."""
    check_tensor("movedim", "input", input)
    ndim = input.array.ndim
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

class Expand(Primitive):
    @staticmethod
    def forward(xp, x, shape):
        return xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g, shape):
        return g.sum_to_size(ctx.input_shapes[0])


class SumToSize(Primitive):
    grad_fn = "SumBackward1"  # ATen's sum_to_size is a sum over dims

    @staticmethod
    def forward(xp, x, shape):
        if x.ndim == 2 and len(shape) == 1 and x.shape[1] == shape[0]:  # a bias gradient: one sum over rows
            return x.sum(axis=0)
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1)
        out = xp.sum(x, axis=axes, keepdims=True) if axes else x
        return xp.reshape(out, shape)

    @staticmethod
    def backward(ctx, g, shape):
        return g.expand(ctx.input_shapes[0])


@ops.op(primitive=Expand, namespaces=("ember", "Tensor"), torch="torch.Tensor.expand", aliases=("broadcast_to",),
        samples=lambda make: [Sample((make(3, 1), (2, 3, 4))), Sample((make(3), (2, 3))), Sample((make(2, 3), (-1, 3)))])
def expand(input, *sizes):
    """A read-only view with size-one dims repeated to ``sizes`` (-1 keeps a dim) (``Tensor.expand``).

    Shape:
        - input: ``(*)``, any dtype; sizes: at least ``input.dim()`` entries, -1 keeping a dim.
        - output: ``sizes``, a view that repeats size-1 dims (stride 0).

    Raises:
        ShapeError: fewer sizes than dims, or a size differs from a non-1 dim.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.Tensor.expand``."""
    check_tensor("expand", "input", input)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    shape = input.array.shape
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
    return maybe_view(apply(Expand, input, shape=target), input)


def expand_as(input, other):
    """``input.expand(other.shape)``.

    Shape:
        - input: ``(*)``, any dtype, a shape that expands to ``other``'s; other: a tensor (only its shape is read).
        - output: a view of ``other.shape``.

    Raises:
        ShapeError: ``input`` does not expand to ``other.shape``.
        TypeError: ``input`` or ``other`` is not a Tensor.

    PyTorch: ``torch.Tensor.expand_as``."""
    check_tensor("expand_as", "input", input)
    check_tensor("expand_as", "other", other)
    return input.expand(other.shape)


ops.op(expand_as, primitive=Expand, namespaces=("Tensor",), mixed_devices=True, samples=lambda make: [Sample((make(3, 1), make(2, 3, 4)))])


def sum_to_size(input, *size):
    """Sum broadcast dimensions away so the result has ``size`` (``Tensor.sum_to_size``).

    Shape:
        - input: ``(*)``; size: a shape that expands to ``input``'s.
        - output: ``size``, ``input`` summed over the expanded dims.

    Raises:
        ShapeError: ``size`` does not expand to ``input``'s shape.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.Tensor.sum_to_size``."""
    check_tensor("sum_to_size", "input", input)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    shape = input.array.shape
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != shape[lead + i] for i, s in enumerate(size)):
        raise ShapeError(f"sum_to_size(): size {list(size)} is not expandable to size {list(shape)}")
    if size == shape:
        return input
    return apply(SumToSize, input, shape=size)


ops.op(sum_to_size, primitive=SumToSize, namespaces=("Tensor",), samples=lambda make: [Sample((make(2, 3, 4), (3, 1))), Sample((make(2, 3), 3))])


# -- copies -------------------------------------------------------------------------------------------

class Clone(Primitive):
    @staticmethod
    def forward(xp, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


class CloneLayout(Clone):
    """A copy in the same order of dims in memory as a dense input (a transposed tensor stays transposed)."""

    grad_fn = "CloneBackward0"  # PyTorch's clone, with memory_format=torch.preserve_format

    @staticmethod
    def forward(xp, x):
        return x.copy(order="K")

    @staticmethod
    def backward(ctx, g):
        return g


@ops.op(primitive=Clone, samples=lambda make: [Sample((make(2, 3),)), Sample((make(3, 4, noncontiguous=True),))])
def clone(input, *, memory_format=preserve_format):
    """A copy with its own memory, still on the graph (``torch.clone``). With ``preserve_format`` a dense input
    keeps its strides (``x.t().clone()`` is not contiguous, as in PyTorch); other inputs, and
    ``contiguous_format``, give a row-major copy; ``channels_last`` a channels-last one.

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.clone``."""
    check_tensor("clone", "input", input)
    data = input.array
    if memory_format is preserve_format or memory_format is None:
        if not data.flags.c_contiguous and is_dense(data.shape, strides_of(data)):
            return apply(CloneLayout, input)
    elif memory_format is not contiguous_format:
        return contiguous(apply(Clone, input), memory_format)
    return apply(Clone, input)


class ToChannelsLast(Primitive):
    """A copy laid out channels-last (channels the fastest dim), still shaped (N, C, *spatial)."""

    @staticmethod
    def forward(xp, x):
        order = (0,) + tuple(range(2, x.ndim)) + (1,)
        inverse = tuple(sorted(range(x.ndim), key=order.__getitem__))
        return xp.transpose(xp.ascontiguousarray(xp.transpose(x, order)), inverse)

    @staticmethod
    def backward(ctx, g):
        return g


def contiguous(input, memory_format=contiguous_format):
    """``input`` if its memory is already laid out as ``memory_format`` (row-major by default;
    ``ember.channels_last`` for 4-d, ``channels_last_3d`` for 5-d), else a copy that is (``Tensor.contiguous``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        RuntimeError: ``memory_format`` needs another number of dims (channels_last: 4, channels_last_3d: 5).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.Tensor.contiguous``."""
    check_tensor("contiguous", "input", input)
    if memory_format is contiguous_format or memory_format is preserve_format:
        if input.array.flags.c_contiguous:
            return input
        return apply(Clone, input)
    if input.is_contiguous(memory_format):
        return input
    wanted = {channels_last: 4, channels_last_3d: 5}.get(memory_format)
    if wanted != input.array.ndim:
        raise RuntimeError(f"contiguous(): required rank {wanted} tensor to use {memory_format} format, got shape "
                           f"{tuple(input.shape)}")
    return apply(ToChannelsLast, input)


ops.op(contiguous, primitive=Clone, namespaces=("Tensor",), samples=lambda make: [Sample((make(3, 4, noncontiguous=True),))])


# -- indexing -------------------------------------------------------------------------------------

def _backend_index(op, index, device):
    """Turn an index of ints, slices, None, Ellipsis, lists and tensors into one the backend understands,
    and whether it is basic (a view). A basic index gets a trailing Ellipsis when it has none, so that
    indexing every dim with an integer gives a 0-d view, as in PyTorch, not NumPy's scalar copy."""
    if index.__class__ is not tuple:
        index = (index,)
    out = []
    basic = True
    ellipsis = False
    for item in index:
        cls = item.__class__
        if cls is int or item is None:
            out.append(item)
        elif cls is slice:
            if item.step is not None and item.step <= 0:
                raise ArgumentError(f"{op}: step must be greater than zero, got {item.step}")
            out.append(item)
        elif item is Ellipsis:
            ellipsis = True
            out.append(item)
        elif isinstance(item, Tensor):
            if item.device is not device:
                raise DeviceError(f"{op}: indices are on {item.device} but the tensor is on {device}")
            if item.dtype.is_floating_point:
                raise OutOfRangeError(f"{op}: tensors used as indices must be long, int, byte or bool tensors, got "
                                      f"{item.dtype}")
            out.append(item.array)
            basic = False
        elif isinstance(item, (list, range, np.ndarray)):  # a range indexes as the list of its values
            out.append(device.xp.asarray(item if not isinstance(item, range) else list(item), dtype=None if not
                                         isinstance(item, range) else np.int64))
            basic = False
        elif isinstance(item, (int, np.integer)):
            out.append(item)
            if isinstance(item, (bool, np.bool_)):
                basic = False  # NumPy reads a bool as a mask: a copy
        else:
            raise OutOfRangeError(f"{op}: only integers, slices, None, Ellipsis, lists and int or bool tensors are "
                                  f"valid indices, got {type(item).__name__}")
    if basic and not ellipsis:
        out.append(Ellipsis)
    return tuple(out), basic


class Index(Primitive):
    @staticmethod
    def forward(xp, x, index, basic):
        if basic and None in index:
            return _with_unsqueeze_strides(xp, x, index)
        return x[index]

    @staticmethod
    def backward(ctx, g, index, basic):
        return apply(IndexAddInto, g, shape=ctx.input_shapes[0], index=index, basic=basic)


_ALL = slice(None)


def _with_unsqueeze_strides(xp, x, index):
    """``x[index]`` with PyTorch's strides for the dims None adds: NumPy gives them stride 0, PyTorch
    the stride ``unsqueeze`` gives there (same memory; only what ``stride()`` reports differs)."""
    out = x[index]
    if x.base is None and x.flags.c_contiguous:
        for i in index:
            if not (i is None or i is Ellipsis or i == _ALL):
                break
        else:  # only new dims in a fresh row-major array: the result is row-major too
            return x.reshape(out.shape)
    strides, offset = _unsqueezed_layout(x, index, out.strides)
    if strides == out.strides:
        return out
    if x.__class__ is np.ndarray and x.base is None and x.flags.c_contiguous:
        return np.ndarray(out.shape, x.dtype, buffer=x, offset=offset, strides=strides)
    return restride(xp, out, strides)


def _unsqueezed_layout(x, index, strides):
    """The strides (bytes) PyTorch gives ``x[index]`` (NumPy's ``strides`` but for the None dims), and
    the byte offset of its first element in ``x``. PyTorch applies the items left to right, a None
    being an ``unsqueeze`` before the next dim not yet indexed: its stride is that dim's size times
    its stride, or one element when no dim is left."""
    strides = list(strides)
    shape, old = x.shape, x.strides
    ndim = len(shape)
    k = out = offset = 0  # next dim of x to index, next dim of the result, bytes from x's first element
    for item in index:
        if item is None:
            strides[out] = shape[k] * old[k] if k < ndim else x.itemsize
            out += 1
        elif item is Ellipsis:
            skipped = ndim - sum(1 for i in index if i is not None and i is not Ellipsis)
            k += skipped
            out += skipped
        elif item.__class__ is slice:
            if shape[k]:
                offset += item.indices(shape[k])[0] * old[k]
            k += 1
            out += 1
        else:
            offset += (item % shape[k]) * old[k]
            k += 1
    return tuple(strides), offset


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


class Select(Index):
    """``x[i]`` for one integer: ``Index`` under ATen's name."""

    name = "select.int"


class Slice(Index):
    """``x[a:b:c]`` for one slice: ``Index`` under ATen's name."""

    name = "slice.Tensor"


def _index_primitive(index):
    """The node PyTorch shows for ``x[index]``: select or slice for an int or a slice, and for a tuple of
    ints, slices and ``...`` the last entry that does something; ATen's index for advanced keys."""
    if type(index) is int:
        return Select
    if type(index) is slice:
        return Slice
    if type(index) is not tuple:
        return Index
    prim = Index
    for entry in index:
        if type(entry) is int:
            prim = Select
        elif type(entry) is slice:
            prim = Slice if entry != _ALL else prim
        elif entry is not Ellipsis:
            return Index
    return prim


_ALL = slice(None)


def getitem(input, index):
    """``input[index]`` with basic, advanced and boolean indexing, differentiable (``Tensor.__getitem__``).

    Shape:
        - input: ``(*)``, any dtype; index: ints, slices, None, Ellipsis, lists and int, uint8 or bool tensors, as
          in PyTorch.
        - output: basic indexing gives a view; advanced (tensor or list) indexing a copy, shaped as PyTorch's.

    Raises:
        OutOfRangeError: an index is out of range, or an index is of another type (an IndexError).
        ArgumentError: a slice step is not positive.
        DeviceError: an index tensor is on another device.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.Tensor.__getitem__``."""
    check_tensor("index", "input", input)
    key, basic = _backend_index("index", index, input.device)
    try:
        out = apply(_index_primitive(index), input, index=key, basic=basic)
    except IndexError as exc:
        raise OutOfRangeError(f"index: {exc} (tensor of shape {tuple(input.shape)})") from None
    return as_view(out, input) if basic else out  # basic indexing always gives a view


ops.op(getitem, primitive=Index, namespaces=(), operator="getitem", torch="torch.Tensor.__getitem__",
       samples=lambda make: [
           Sample((make(4, 3), 1), name="int"), Sample((make(4, 3), (slice(1, 3), 0)), name="slice"),
           Sample((make(4, 3), (Ellipsis, None, slice(None, None, 2))), name="ellipsis, None, step"),
           Sample((make(5, 3), make.index([0, 2, 2, 4])), name="repeated long index"),
           Sample((make(4, 3), (make.index([0, 3]), make.index([1, 2]))), name="two index tensors"),
           Sample((make(2, 3), make.index([[True, False, True], [False, True, True]])), name="bool mask"),
       ])


def narrow_index(ndim, dim, start, stop):
    """A basic index selecting ``start:stop`` along ``dim`` (a view when used with getitem)."""
    return (slice(None),) * dim + (slice(start, stop),)


def _narrow_errors(make):
    yield ErrorInput(Sample((make(2, 3), 2, 0, 1)), IndexError, r"narrow\(\): dimension out of range")
    yield ErrorInput(Sample((make(2, 3), 1, 1, 3)), RuntimeError,
                     r"narrow\(\): start \(1\) \+ length \(3\) exceeds dimension size \(3\)")


@ops.op(primitive=Index, samples=lambda make: [Sample((make(4, 3), 0, 1, 2)), Sample((make(4, 3), -1, 0, 3)),
                              Sample((make(4, 3), 1, -2, 1)), Sample((make(3, 4, noncontiguous=True), 1, 1, 2))],
        errors=_narrow_errors)
def narrow(input, dim, start, length):
    """``length`` elements of ``dim`` from ``start`` (negative counts from the end), a view (``torch.narrow``).

    Shape:
        - input: at least 1-D, any dtype.
        - output: ``input`` with ``dim`` cut to ``[start, start + length)``, a view.

    Raises:
        ShapeError: ``input`` is 0-d, or ``start + length`` exceeds the dim.
        OutOfRangeError: ``start`` or ``dim`` is out of range.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.narrow``."""
    check_tensor("narrow", "input", input)
    if input.array.ndim == 0:
        raise ShapeError("narrow(): cannot be applied to a 0-dim tensor")
    dim = normalize_dims("narrow", dim, input.array.ndim)[0]
    size = input.array.shape[dim]
    start = int(start)
    if not -size <= start <= size:
        raise OutOfRangeError(f"narrow(): start ({start}) out of range for dimension {dim} of size {size} "
                              f"(expected to be in range of [{-size}, {size}])")
    start %= max(size, 1) if start < 0 else size + 1
    if length < 0 or start + length > size:
        raise ShapeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({size}) of "
                         f"dim {dim} (input shape {tuple(input.shape)})")
    return input[narrow_index(input.array.ndim, dim, start, start + length)]


def _select_samples(make):
    yield Sample((make(4, 3), 0, 1), name="row")
    yield Sample((make(4, 3), 1, -1), name="last column")
    yield Sample((make(4), 0, 2), name="0-d result")
    yield Sample((make(3, 4, noncontiguous=True), 1, 0), name="non-contiguous")


@ops.op(primitive=Index, samples=_select_samples)
def select(input, dim, index):
    """The slice at ``index`` of ``dim``, that dim removed (a view, 0-d included) (``torch.select``).

    Shape:
        - input: at least 1-D, any dtype.
        - output: ``input`` without ``dim``, at ``index`` along it; a view.

    Raises:
        IndexError: ``input`` is 0-d, or ``index`` is out of range.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.select``."""
    check_tensor("select", "input", input)
    shape = input.array.shape
    if not shape:
        raise IndexError("select(): cannot be applied to a 0-dim tensor")
    d = normalize_dims("select", dim, len(shape))[0]
    index = int(index)
    if not -shape[d] <= index < shape[d]:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(shape)} at dimension {d}")
    return input[(slice(None),) * d + (index, Ellipsis)]


# -- strided views ----------------------------------------------------------------------------------

def _positions(xp, shape, strides, offset):
    """For each element of a strided view, its index in the storage (an int64 array of ``shape``)."""
    pos = xp.full(shape, offset, dtype=xp.int64)
    for d, (size, stride) in enumerate(zip(shape, strides)):
        if size > 1 and stride:
            pos = pos + (xp.arange(size, dtype=xp.int64) * stride).reshape((size,) + (1,) * (len(shape) - d - 1))
    return pos


def restride(xp, x, strides, shape=None, shift=0):
    """A view of ``x``'s memory with other ``strides`` (bytes), ``shape``, starting ``shift`` elements on."""
    shape = x.shape if shape is None else tuple(shape)
    root, item = storage_root(x), x.itemsize
    buffer = row_major_alias(root) if isinstance(root, np.ndarray) else None
    if buffer is not None:
        # NumPy (and its subclasses): an array over the storage's buffer, so that its .base is the storage
        start = address(x) + shift * item - address(root)
        return np.ndarray.__new__(type(root), shape, x.dtype, buffer=buffer, offset=start, strides=strides)
    # Other backends: their as_strided, from x's first element moved by ``shift``
    if shift < 0:
        raise RuntimeError("as_strided(): a storage offset before the input's own is only supported on NumPy-backed "
                           "devices")
    if shift:
        x = xp.lib.stride_tricks.as_strided(x, (shift + 1,), (item,))[shift:]
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


def _strided(xp, x, size, stride, offset):
    """A view of ``x``'s storage with ``size``, ``stride`` (elements) from element ``offset``."""
    return restride(xp, x, tuple(st * x.itemsize for st in stride), size, offset - storage_offset(x))


class AsStrided(Primitive):
    """A strided view of the input's storage; backward adds the gradient into the storage's positions
    and reads back the input's own."""

    @staticmethod
    def forward(xp, x, size, stride, offset, source):
        return _strided(xp, x, size, stride, offset)

    @staticmethod
    def backward(ctx, g, size, stride, offset, source):
        return apply(StridedGradient, g, read=(size, stride, offset), write=source)


class StridedGradient(Primitive):
    """``g`` (laid out as ``read`` in a storage of ``write``'s extent) summed into the storage, then
    read at the ``write`` geometry: the adjoint of a strided read, itself linear."""

    @staticmethod
    def forward(xp, g, read, write):
        storage = xp.zeros(_extent(read, write), dtype=g.dtype)
        xp.add.at(storage, _positions(xp, *read), g)
        return storage[_positions(xp, *write)]

    @staticmethod
    def backward(ctx, g, read, write):
        return apply(StridedGradient, g, read=write, write=read)


def _extent(*geometries):
    return max((off + sum((n - 1) * st for n, st in zip(shape, strides)) + 1 if 0 not in shape else off)
               for shape, strides, off in geometries)


def as_strided(input, size, stride, storage_offset=None):
    """A view of ``input``'s storage with the given sizes, strides and storage offset (in elements; the offset
    defaults to the input's) (``torch.as_strided``). Writing through a view whose elements overlap is undefined, as
    in PyTorch.

    Shape:
        - input: ``(*)``, any dtype; size, stride: equally long; storage_offset: elements from the storage's start.
        - output: a view of ``size`` reading the storage with ``stride``.

    Raises:
        RuntimeError: ``size`` and ``stride`` differ in length, a stride or size is negative, the offset is
            invalid, or the view reaches past the storage.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.as_strided``."""
    check_tensor("as_strided", "input", input)
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"as_strided(): mismatch in length of strides and shape: size {list(size)}, stride "
                           f"{list(stride)}")
    if any(st < 0 for st in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}")
    if any(n < 0 for n in size):
        raise RuntimeError(f"as_strided(): negative size in {list(size)}")
    data = input.array
    offset = input.storage_offset() if storage_offset is None else int(storage_offset)
    if offset < 0:
        raise RuntimeError(f"as_strided(): invalid storage offset {offset}")
    available = storage_root(data).nbytes // data.itemsize
    need = _extent((size, stride, offset))
    if 0 not in size and need > available:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {data.itemsize} requiring a storage size of {need * data.itemsize} are out of "
                           f"bounds for storage of size {available * data.itemsize}")
    source = (tuple(data.shape), strides_of(data), input.storage_offset())
    out = apply(AsStrided, input, size=size, stride=stride, offset=offset, source=source)
    return as_view(out, input)


ops.op(as_strided, primitive=AsStrided, samples=lambda make: [
    Sample((make(3, 4), (2, 2), (1, 2)), name="overlapping"), Sample((make(3, 4), (3,), (5,), 1), name="offset"),
    Sample((make(4, 3, noncontiguous=True), (2, 3), (3, 1)), name="non-contiguous input")])


def unfold(input, dimension, size, step):
    """All windows of ``size`` elements along ``dimension``, ``step`` apart, as a new last dim (a view)
    (``Tensor.unfold``).

    Shape:
        - input: ``(*1, S, *2)`` with S the size of ``dimension``, any dtype.
        - output: ``(*1, (S - size) // step + 1, *2, size)``, a view of the windows.

    Raises:
        RuntimeError: ``size`` is negative or larger than S, or ``step`` is not positive.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.Tensor.unfold``."""
    check_tensor("unfold", "input", input)
    shape, strides = tuple(input.array.shape) or (1,), input.stride() or (1,)
    d = (normalize_dims("unfold", dimension, input.array.ndim) or (0,))[0]  # a 0-d tensor has one dim here
    size, step = int(size), int(step)
    if size > shape[d]:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {shape[d]} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    new_shape = shape[:d] + ((shape[d] - size) // step + 1,) + shape[d + 1:] + (size,)
    new_strides = strides[:d] + (strides[d] * step,) + strides[d + 1:] + (strides[d],)
    if not input.array.ndim:
        new_shape, new_strides = (size,), (1,)
    return as_strided(input, new_shape, new_strides)


# F.unfold (conv.py) holds the name "unfold"; this is Tensor.unfold, a different op.
ops.op(unfold, primitive=AsStrided, namespaces=("Tensor",), name="unfold_windows", method="unfold", torch="torch.Tensor.unfold",
       samples=lambda make: [
           Sample((make(6), 0, 3, 2), name="1-D"), Sample((make(3, 5), 1, 2, 1), name="overlapping windows"),
           Sample((make(4, 3, noncontiguous=True), 0, 2, 2), name="non-contiguous")])


def view_as(input, other):
    """``input.view(other.shape)`` (``Tensor.view_as``).

    Shape:
        - input: ``(*)``; other: a tensor of the same number of elements.
        - output: a view of ``other.shape``.

    Raises:
        ShapeError: more than one size is -1, or the element counts differ.
        ShapeError: the strides of ``input`` do not allow the view.
        TypeError: ``input`` or ``other`` is not a Tensor.

    PyTorch: ``torch.Tensor.view_as``."""
    check_tensor("view_as", "other", other)
    return view(input, tuple(other.array.shape))


ops.op(view_as, primitive=View, namespaces=("Tensor",), mixed_devices=True, samples=lambda make: [Sample((make(2, 3), make(3, 2)))])


def reshape_as(input, other):
    """``input.reshape(other.shape)`` (``Tensor.reshape_as``).

    Shape:
        - input: ``(*)``; other: a tensor of the same number of elements.
        - output: ``other.shape``, a view where possible.

    Raises:
        ShapeError: the element counts differ.
        TypeError: ``input`` or ``other`` is not a Tensor.

    PyTorch: ``torch.Tensor.reshape_as``."""
    check_tensor("reshape_as", "other", other)
    return reshape(input, tuple(other.array.shape))


ops.op(reshape_as, primitive=View, namespaces=("Tensor",), mixed_devices=True, samples=lambda make: [Sample((make(2, 3), make(6)))])


@ops.op(primitive=View, samples=lambda make: [Sample((make(2, 3),)), Sample((make(3, 4, noncontiguous=True),))])
def ravel(input):
    """The elements as a 1-D tensor, a view when the layout allows (``torch.ravel``).

    Shape:
        - input: ``(*)``, any dtype.
        - output: ``(input.numel(),)``, a view where possible.

    Raises:
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.ravel``."""
    check_tensor("ravel", "input", input)
    return reshape(input, -1)


# -- joining --------------------------------------------------------------------------------------

def _tensors(op, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (tuple, list)):
        raise TypeError(f"{op}(): argument 'tensors' must be a tuple or list of Tensors, not "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise ArgumentError(f"{op}(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        check_tensor(op, f"tensors[{i}]", t)
    first = tensors[0].dtype
    if any(t.dtype is not first for t in tensors):
        target = _common_dtype(tensors)
        tensors = [t if t.dtype is target else t.to(target) for t in tensors]
    return list(tensors)


def _common_dtype(tensors):
    out = tensors[0].dtype
    for t in tensors[1:]:
        out = dtypes.promote_types(out, t.dtype)
    return out


class Cat(Primitive):
    """Tensors joined along ``dim``; ``sizes`` (each input's extent there) lets backward cut ``g`` apart."""

    @staticmethod
    def forward(xp, *arrays, dim, sizes, skip):
        return xp.concatenate([a for a, s in zip(arrays, skip) if not s], axis=dim)

    @staticmethod
    def backward(ctx, g, dim, sizes, skip):
        grads, start = [], 0
        for size, need, skipped in zip(sizes, ctx.needs_input_grad, skip):
            if not need:
                grads.append(None)
            elif skipped:  # a skipped 1-D empty input still gets its (empty) gradient, as in PyTorch
                grads.append(g.flatten().narrow(0, 0, 0))
            else:
                grads.append(g.narrow(dim, start, size))
            start += size
        return tuple(grads)


def _cat_samples(make):
    yield Sample(([make(2, 3), make(1, 3), make(3, 3)],), name="dim 0")
    yield Sample(([make(2, 3), make(2, 1)], 1), name="dim 1")
    yield Sample(([make(2, 3), make(2, 2)], -1), name="negative dim")
    yield Sample(((make(3, 2, noncontiguous=True), make(3, 2)),), name="tuple, non-contiguous")
    yield Sample(([make(0, 3), make(2, 3)],), name="empty")
    yield Sample(([make(2, 3), make(2, 3, requires_grad=False)], 1), name="one without grad")


def _cat_errors(make):
    yield ErrorInput(Sample(([make(2, 3), make(2, 4)],)), RuntimeError,
                     r"cat\(\).*tensor 0 has shape \(2, 3\).*tensor 1 has shape \(2, 4\)")
    yield ErrorInput(Sample(([make(2, 3), make(2, 3)], 2)), IndexError, r"cat\(\): dimension out of range.*got 2")
    yield ErrorInput(Sample(([],)), ValueError, r"cat\(\): expected a non-empty list")
    yield ErrorInput(Sample((make(2),)), TypeError, r"cat\(\): argument 'tensors' must be a tuple or list")


@ops.op(primitive=Cat, namespaces=("ember",), aliases=("concat",), samples=_cat_samples, errors=_cat_errors)
def cat(tensors, dim=0):
    """Join tensors along an existing ``dim``; 1-D empty tensors are skipped, as in PyTorch (``torch.cat``).

    Shape:
        - tensors: a non-empty sequence of tensors of one number of dims, sizes equal except at ``dim``.
        - output: the common shape with ``dim`` the sum of their sizes; the promoted dtype.

    Raises:
        ArgumentError: ``tensors`` is empty.
        ShapeError: a tensor is 0-d, or the sizes differ away from ``dim``.
        OutOfRangeError: ``dim`` is out of range for the tensors.
        TypeError: ``tensors`` is not a list or tuple, or an element of it is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.cat``."""
    tensors = _tensors("cat", tensors)
    skip = tuple(len(tensors) > 1 and t.array.shape == (0,) for t in tensors)
    if all(skip):
        skip = (False,) + skip[1:]
    kept = [t for t, s in zip(tensors, skip) if not s]
    ref = kept[0].array.shape
    if not ref:
        raise ShapeError("cat(): zero-dimensional tensor (at position 0) cannot be concatenated")
    d = normalize_dims("cat", dim, len(ref))[0]
    for i, t in enumerate(tensors):
        s = t.array.shape
        if skip[i]:
            continue
        if len(s) != len(ref) or any(a != b for j, (a, b) in enumerate(zip(s, ref)) if j != d):
            raise ShapeError(f"cat(): sizes of tensors must match except in dimension {d}: tensor 0 has shape "
                             f"{tuple(ref)} but tensor {i} has shape {tuple(s)}")
    if len(tensors) == 1:
        return apply(Clone, tensors[0])
    sizes = tuple(0 if s else t.array.shape[d] for t, s in zip(tensors, skip))
    return apply(Cat, *tensors, dim=d, sizes=sizes, skip=skip)


def concatenate(tensors, axis=0):
    """``cat`` with NumPy's argument name (``torch.concatenate``).

    Shape:
        - tensors: a non-empty sequence of tensors of one number of dims, sizes equal except at ``axis``.
        - output: the common shape with ``axis`` the sum of their sizes; the promoted dtype.

    Raises:
        ArgumentError: ``tensors`` is empty.
        ShapeError: a tensor is 0-d, or the sizes differ away from ``axis``.
        OutOfRangeError: ``axis`` is out of range.
        TypeError: ``tensors`` is not a list or tuple, or an element of it is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.concatenate``."""
    return cat(tensors, axis)


ops.op(concatenate, primitive=Cat, namespaces=("ember",), samples=lambda make: [Sample(([make(2, 3), make(1, 3)],), {"axis": 0})])


class Stack(Primitive):
    @staticmethod
    def forward(xp, *arrays, dim):
        return xp.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g, dim):
        parts = g.unbind(dim)
        return tuple(p if need else None for p, need in zip(parts, ctx.needs_input_grad))


def _stack_errors(make):
    yield ErrorInput(Sample(([make(2, 3), make(3, 2)],)), RuntimeError,
                     r"stack\(\): .*\(2, 3\) at entry 0 and \(3, 2\) at entry 1")


@ops.op(primitive=Stack, namespaces=("ember",), samples=lambda make: [
    Sample(([make(2, 3), make(2, 3), make(2, 3)],), name="dim 0"), Sample(([make(2, 3), make(2, 3)], 2), name="last"),
    Sample(([make(), make()],), name="zero-dim"), Sample(([make(3, 2, noncontiguous=True), make(3, 2)], -1))],
        errors=_stack_errors)
def stack(tensors, dim=0):
    """Join same-shaped tensors along a new ``dim`` (``torch.stack``).

    Shape:
        - tensors: a non-empty sequence of tensors of one shape ``(*)``.
        - output: ``(*)`` with a new dim of size ``len(tensors)`` at ``dim``; the promoted dtype.

    Raises:
        ArgumentError: ``tensors`` is empty.
        ShapeError: the shapes differ.
        OutOfRangeError: ``dim`` is out of range for the tensors.
        TypeError: ``tensors`` is not a list or tuple, or an element of it is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.stack``."""
    tensors = _tensors("stack", tensors)
    ref = tensors[0].array.shape
    for i, t in enumerate(tensors):
        if t.array.shape != ref:
            raise ShapeError(f"stack(): expects each tensor to be equal size, but got {tuple(ref)} at entry 0 and "
                             f"{tuple(t.shape)} at entry {i}")
    d = normalize_dims("stack", dim, len(ref) + 1)[0]
    return apply(Stack, *tensors, dim=d)


@ops.op(namespaces=("ember",), samples=lambda make: [Sample(([make(2, 3), make(2, 1)],)), Sample(([make(3), make(2)],)),
                                                Sample(([make(), make(2)],))])
def hstack(tensors):
    """Concatenate column-wise: along dim 1, or dim 0 for 1-D tensors (``torch.hstack``).

    Shape:
        - tensors: a non-empty sequence; 1-D tensors join along dim 0, others along dim 1.
        - output: as ``cat`` along that dim; the promoted dtype.

    Raises:
        ArgumentError: ``tensors`` is empty.
        ShapeError: the sizes differ away from the joined dim.
        TypeError: ``tensors`` is not a list or tuple, or an element of it is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.hstack``."""
    tensors = [t.reshape(1) if t.dim() == 0 else t for t in _tensors("hstack", tensors)]
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


@ops.op(namespaces=("ember",), aliases=("row_stack",),
        samples=lambda make: [Sample(([make(2, 3), make(1, 3)],)), Sample(([make(3), make(3)],)),
                              Sample(([make(3), make(2, 3)],))])
def vstack(tensors):
    """Concatenate row-wise, 1-D (and 0-d) tensors becoming rows (``torch.vstack``).

    Shape:
        - tensors: a non-empty sequence; each made at least 2-D (1-D ``(n,)`` as ``(1, n)``).
        - output: as ``cat`` along dim 0; the promoted dtype.

    Raises:
        ArgumentError: ``tensors`` is empty.
        ShapeError: the sizes differ away from dim 0.
        TypeError: ``tensors`` is not a list or tuple, or an element of it is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.vstack``."""
    tensors = [t.reshape(1, -1) if t.dim() < 2 else t for t in _tensors("vstack", tensors)]
    return cat(tensors, 0)


# -- splitting ------------------------------------------------------------------------------------

class Split(Primitive):
    """Views of consecutive ranges (``bounds``) of ``dim``; an instance carries how many outputs it has."""

    @staticmethod
    def forward(xp, x, dim, bounds, squeeze):
        lead = (slice(None),) * dim
        if squeeze:
            return tuple(x[lead + (i, Ellipsis)] for i in bounds)  # views even when 0-d
        return tuple(x[lead + (slice(a, b),)] for a, b in bounds)

    @staticmethod
    def backward(ctx, *grads, dim, bounds, squeeze):
        if squeeze:
            return ember_stack(grads, dim)
        return ember_cat(grads, dim)


def _split_views(op, input, dim, bounds, squeeze):
    if len(bounds) == 1 and not squeeze:
        return (input.narrow(dim, bounds[0][0], bounds[0][1] - bounds[0][0]),)
    prim = Split()
    prim.num_outputs = len(bounds)
    outs = apply(prim, input, dim=dim, bounds=tuple(bounds), squeeze=squeeze)
    return tuple(maybe_view(o, input) for o in outs)


def ember_cat(tensors, dim):
    return cat(list(tensors), dim)


def ember_stack(tensors, dim):
    return stack(list(tensors), dim)


def _split_samples(make):
    yield Sample((make(5, 3), 2), name="int size")
    yield Sample((make(5, 3), [1, 4]), name="sections")
    yield Sample((make(3, 6), 3, 1), name="dim 1")
    yield Sample((make(4, 3), (2, 0, 2)), name="empty section")
    yield Sample((make(3, 4, noncontiguous=True), 2, -1), name="non-contiguous")


def _split_errors(make):
    yield ErrorInput(Sample((make(3, 2), [1, 1])), RuntimeError,
                     r"split\(\): split_sizes \[1, 1\] must sum to the size of dim 0 \(3\)")


@ops.op(primitive=Split, samples=_split_samples, errors=_split_errors)
def split(tensor, split_size_or_sections, dim=0):
    """Views of ``split_size`` elements each (the last may be smaller), or of the given section sizes
    (``torch.split``).

    Shape:
        - tensor: at least 1-D, any dtype.
        - output: a tuple of views along ``dim``: pieces of ``split_size`` (the last smaller), or of the given
          sizes.

    Raises:
        ShapeError: ``tensor`` is 0-d, or the sizes do not sum to the dim.
        ArgumentError: ``split_size`` is not positive.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``tensor`` is not a Tensor.

    PyTorch: ``torch.split``."""
    check_tensor("split", "tensor", tensor)
    if tensor.array.ndim == 0:
        raise ShapeError("split(): expected a tensor with at least one dimension, got a 0-dim tensor")
    d = normalize_dims("split", dim, tensor.array.ndim)[0]
    size = tensor.array.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step < 0 or (step == 0 and size):
            raise ArgumentError(f"split(): split_size must be a positive integer, got {step} (dim {d} of size {size})")
        starts = range(0, size, step) if size else [0]
        bounds = [(a, min(a + step, size)) for a in starts]
    else:
        sections = [int(s) for s in split_size_or_sections]
        if sum(sections) != size or any(s < 0 for s in sections):
            raise ShapeError(f"split(): split_sizes {sections} must sum to the size of dim {d} ({size}) of a tensor "
                             f"of shape {tuple(tensor.shape)}")
        bounds, a = [], 0
        for s in sections:
            bounds.append((a, a + s))
            a += s
    return _split_views("split", tensor, d, bounds, False)


@ops.op(primitive=Split, samples=lambda make: [Sample((make(5, 3), 2)), Sample((make(6, 2), 3)), Sample((make(2, 5), 3, 1)),
                              Sample((make(2, 3), 5, 1))])
def chunk(input, chunks, dim=0):
    """Split into ``chunks`` views of ceil(size / chunks) elements (maybe fewer pieces) (``torch.chunk``).

    Shape:
        - input: at least 1-D, any dtype.
        - output: a tuple of at most ``chunks`` views along ``dim``, each ``ceil(size / chunks)`` long but the
          last.

    Raises:
        ArgumentError: ``chunks`` is not positive.
        ShapeError: ``input`` is 0-d.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.chunk``."""
    check_tensor("chunk", "input", input)
    if chunks <= 0:
        raise ArgumentError(f"chunk(): number of chunks must be greater than 0, got {chunks}")
    if input.array.ndim == 0:
        raise ShapeError("chunk(): expected a tensor with at least one dimension, got a 0-dim tensor")
    d = normalize_dims("chunk", dim, input.array.ndim)[0]
    size = input.array.shape[d]
    if not size:  # PyTorch gives `chunks` empty pieces
        return tuple(input.narrow(d, 0, 0) for _ in range(chunks))
    return split(input, -(-size // chunks), d)


@ops.op(samples=lambda make: [Sample((make(10), 3), name="uneven sections"),
                              Sample((make(3, 7), [2, 5], 1), name="indices"),
                              Sample((make(10), (2, 15, 1)), name="indices past the end and backwards")])
def tensor_split(input, indices_or_sections, dim=0):
    """Views of ``input`` split along ``dim`` into that many nearly equal parts (the first ``size % n`` one
    larger), or at the given indices, clamped like slices (``torch.tensor_split``).

    Shape:
        - input: at least 1-D, any dtype.
        - output: a tuple of views along ``dim``: n nearly equal sections, or cut at the given indices.

    Raises:
        RuntimeError: ``input`` is 0-d, or the number of sections is not positive.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.tensor_split``."""
    check_tensor("tensor_split", "input", input)
    if input.array.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = normalize_dims("tensor_split", dim, input.array.ndim)[0]
    size = input.array.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        bounds, start = [], 0
        for i in range(n):
            stop = start + size // n + (1 if i < size % n else 0)
            bounds.append((start, stop))
            start = stop
    else:
        cuts = [int(i) for i in indices_or_sections]
        bounds = list(zip([0] + cuts, cuts + [None]))
    lead = (slice(None),) * d
    return tuple(input[lead + (slice(a, b),)] for a, b in bounds)


@ops.op(primitive=Split, samples=lambda make: [Sample((make(3, 2),)), Sample((make(2, 3), 1)), Sample((make(4),)),
                              Sample((make(3, 4, noncontiguous=True), -1))])
def unbind(input, dim=0):
    """The slices along ``dim``, that dim removed, as views (``torch.unbind``).

    Shape:
        - input: ``(*1, S, *2)``, any dtype.
        - output: a tuple of S views ``(*1, *2)``.

    Raises:
        DimensionError: ``input`` is 0-d.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.unbind``."""
    check_tensor("unbind", "input", input)
    if input.array.ndim == 0:
        raise DimensionError("unbind(): dimension specified as 0 but tensor has no dimensions")
    d = normalize_dims("unbind", dim, input.array.ndim)[0]
    n = input.array.shape[d]
    if n == 1:
        return (input.squeeze(d),)
    return _split_views("unbind", input, d, list(range(n)), True)


@ops.op(primitive=View, samples=lambda make: [Sample((make(2, 6), 1, (2, 3))), Sample((make(2, 6), -1, (-1, 2))),
                              Sample((make(4, 3), 0, [2, 1, 2]))])
def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one may be -1) (``torch.unflatten``).

    Shape:
        - input: ``(*1, S, *2)``, any dtype; sizes: multiplying to S (one may be -1).
        - output: ``(*1, *sizes, *2)``, a view.

    Raises:
        DimensionError: ``input`` is 0-d.
        ShapeError: more than one size is -1, or the sizes do not multiply to the size of ``dim``.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.unflatten``."""
    check_tensor("unflatten", "input", input)
    shape = input.array.shape
    if not shape:  # PyTorch wraps the dim check's IndexError in a RuntimeError here
        raise DimensionError(f"unflatten(): dim {dim} of a 0-d tensor: it has no dimensions")
    d = normalize_dims("unflatten", dim, len(shape))[0]
    sizes = _infer_shape("unflatten", (tuple(sizes),), shape[d])
    return input.reshape(shape[:d] + sizes + shape[d + 1:])


# -- reordering and repeating -------------------------------------------------------------------------

class Flip(Primitive):
    @staticmethod
    def forward(xp, x, dims):
        return xp.flip(x, axis=dims).copy()  # PyTorch's flip is a copy; a NumPy view would alias silently

    @staticmethod
    def backward(ctx, g, dims):
        return g.flip(dims)


def _flip_errors(make):
    yield ErrorInput(Sample((make(2, 3), (3,))), IndexError, r"flip\(\): dimension out of range.*got 3")


@ops.op(primitive=Flip, samples=lambda make: [Sample((make(2, 3), (0,))), Sample((make(2, 3, 2), (0, 2))), Sample((make(4), [-1])),
                              Sample((make(3, 4, noncontiguous=True), (1,)))], errors=_flip_errors)
def flip(input, *dims):
    """Reverse the order of elements along ``dims`` (a copy) (``torch.flip``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        OutOfRangeError: ``dim`` is out of range for ``input``.

    PyTorch: ``torch.flip``."""
    check_tensor("flip", "input", input)
    if len(dims) == 1:
        dims = dims[0]
    dims = normalize_dims("flip", dims, input.array.ndim)
    if not dims:
        return apply(Clone, input)
    return apply(Flip, input, dims=dims)


class Roll(Primitive):
    @staticmethod
    def forward(xp, x, shifts, dims):
        return xp.roll(x, shifts, axis=dims)

    @staticmethod
    def backward(ctx, g, shifts, dims):
        return g.roll(tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts, dims)


@ops.op(primitive=Roll, samples=lambda make: [Sample((make(2, 3), 1)), Sample((make(2, 3), 1, 1)), Sample((make(2, 3), (1, -1), (0, 1))),
                              Sample((make(5), -7, 0)), Sample((make(3, 4, noncontiguous=True), 2, 0))])
def roll(input, shifts, dims=None):
    """Shift elements cyclically along ``dims`` (over the flattened tensor when None) (``torch.roll``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        ShapeError: ``shifts`` and ``dims`` differ in length, or several shifts come without ``dims``.
        OutOfRangeError: a dim is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.roll``."""
    check_tensor("roll", "input", input)
    if dims is None:
        if not isinstance(shifts, int):
            shifts = tuple(shifts)
            if len(shifts) != 1:
                raise ShapeError(f"roll(): shifts {shifts} needs dims of the same length when dims is None")
            shifts = shifts[0]
        return apply(Roll, input, shifts=int(shifts), dims=None)
    one = isinstance(dims, int)
    dims_t = (dims,) if one else tuple(dims)
    shifts_t = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if len(dims_t) != len(shifts_t):
        raise ShapeError(f"roll(): shifts and dimensions must align, got shifts={shifts_t} and dims={dims_t}")
    dims_t = tuple(normalize_dims("roll", d, input.array.ndim)[0] for d in dims_t)
    return apply(Roll, input, shifts=tuple(int(s) for s in shifts_t), dims=dims_t)


def repeat(input, *sizes):
    """Tile the tensor ``sizes`` times along each dim (leading new dims allowed) (``Tensor.repeat``):
    an expand of interleaved size-one dims, then one reshape (a single copy).

    Shape:
        - input: ``(*)``, any dtype; sizes: at least ``input.dim()`` non-negative counts.
        - output: each dim times its count (leading counts add dims).

    Raises:
        ShapeError: fewer counts than dims, or a negative count.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.Tensor.repeat``."""
    check_tensor("repeat", "input", input)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    sizes = tuple(int(s) for s in sizes)
    shape = input.array.shape
    if len(sizes) < len(shape):
        raise ShapeError(f"repeat(): number of dimensions of repeat dims ({len(sizes)}) can not be smaller than "
                         f"number of dimensions of tensor ({len(shape)}, shape {tuple(shape)})")
    if any(s < 0 for s in sizes):
        raise ShapeError(f"repeat(): repeats can not be negative, got {list(sizes)}")
    shape = (1,) * (len(sizes) - len(shape)) + shape
    paired = tuple(x for r, s in zip(sizes, shape) for x in (1, s))
    target = tuple(x for r, s in zip(sizes, shape) for x in (r, s))
    return input.reshape(paired).expand(target).reshape(tuple(r * s for r, s in zip(sizes, shape)))


def _repeat_errors(make):
    yield ErrorInput(Sample((make(2, 3), 2)), RuntimeError, r"repeat\(\): number of dimensions of repeat dims \(1\)")


ops.op(repeat, namespaces=("Tensor",), samples=lambda make: [
    Sample((make(2, 3), 2, 1)), Sample((make(2, 3), (1, 2, 2))), Sample((make(3), 2, 2)), Sample((make(), 3)),
    Sample((make(3, 2, noncontiguous=True), 2, 1))], errors=_repeat_errors)


@ops.op(samples=lambda make: [Sample((make(2, 3), (2, 1))), Sample((make(2, 3), (2,))), Sample((make(3), (2, 2)))])
def tile(input, dims):
    """Repeat along each dim; fewer ``dims`` than the tensor has are padded with ones (``torch.tile``).

    Shape:
        - input: ``(*)``, any dtype; dims: counts (left-padded with 1s to ``input.dim()``).
        - output: each dim times its count.

    Raises:
        ShapeError: a negative count.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.tile``."""
    check_tensor("tile", "input", input)
    dims = tuple(dims)
    pad = input.array.ndim - len(dims)
    return repeat(input, (1,) * max(pad, 0) + dims)


def _repeat_interleave_samples(make):
    yield Sample((make(3), 2), name="int")
    yield Sample((make(2, 3), 2, 1), name="int, dim")
    yield Sample((make(2, 3), 3), name="flattened")
    yield Sample((make(3, 2), make.index([1, 0, 2]), 0), name="tensor repeats")
    yield Sample((make(3, 2), make.index([2]), 0), name="one-element tensor repeats")


@ops.op(samples=_repeat_interleave_samples)
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times along ``dim`` (over the flattened tensor when None);
    ``repeat_interleave(counts)`` is ``arange(len(counts))`` repeated by counts (``torch.repeat_interleave``).

    Shape:
        - input: ``(*)``, any dtype; repeats: an int or a 1-D integer tensor (one count per element along ``dim``).
        - output: ``input`` flattened (``dim`` None) or ``dim`` lengthened to the sum of the counts.

    Raises:
        ShapeError: a repeats tensor's length is not the size of ``dim``.
        ArgumentError: a count is negative, or ``repeats`` is not a 1-D integer tensor.
        OutOfRangeError: ``dim`` is out of range for ``input``.
        TypeError: ``input`` is not a Tensor.
        DeviceError: ``repeats`` is on another device than ``input``.

    PyTorch: ``torch.repeat_interleave``."""
    check_tensor("repeat_interleave", "input", input)
    if repeats is None:
        counts = input
        return _arange_repeated(counts, input.device)
    if dim is None:
        input, dim = input.reshape(-1), 0
    d = normalize_dims("repeat_interleave", dim, input.array.ndim)[0]
    shape = input.array.shape
    n = shape[d] if shape else 1
    if isinstance(repeats, Tensor):
        if repeats.device is not input.device:
            raise DeviceError(f"repeat_interleave(): repeats is on {repeats.device} but input is on {input.device}")
        if repeats.numel() == 1:
            repeats = int(repeats.item())
    if isinstance(repeats, (int, np.integer)):
        if repeats < 0:
            raise ArgumentError(f"repeat_interleave(): repeats can not be negative, got {repeats}")
        x = input.unsqueeze(d + 1)
        return x.expand(shape[:d + 1] + (int(repeats),) + shape[d + 1:]).reshape(
            shape[:d] + (n * int(repeats),) + shape[d + 1:])
    if repeats.dim() != 1 or repeats.shape[0] != n:
        raise ShapeError(f"repeat_interleave(): repeats must have the same size as input along dim {d}: got "
                         f"repeats of shape {tuple(repeats.shape)} for input of shape {tuple(shape)}")
    return input.index_select(d, _arange_repeated(repeats, input.device))


def _arange_repeated(counts, device):
    if counts.dtype.is_floating_point or counts.array.ndim != 1:
        raise ArgumentError(f"repeat_interleave(): repeats must be a 1-D integer tensor, got shape "
                            f"{tuple(counts.shape)} and dtype {counts.dtype}")
    data = counts.array
    if data.size and int(data.min()) < 0:
        raise ArgumentError("repeat_interleave(): repeats can not be negative")
    xp = device.xp
    from ember.ops import wrap
    return wrap(xp.repeat(xp.arange(data.shape[0], dtype=xp.int64), data), device)
