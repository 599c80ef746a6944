"""The Tensor: an array of a device backend, with its dtype, device and place on the autograd tape.

This is the second layer of the core (above dtypes and devices, below autograd): what a tensor is
(data, metadata, grad bookkeeping, version counters shared with views) and printing. Methods that need
a higher layer are bound onto :class:`Tensor` by that layer, once, when ember loads: ``backward`` by
:mod:`ember.autograd.engine`, ``to`` by :mod:`ember.conversion`, ``T``/``mT`` by :mod:`ember.views`, the
constructor and ``new_*`` by :mod:`ember.creation`, every op by the ops registry. Making tensors is
:mod:`ember.creation`.
"""

from __future__ import annotations

import builtins
import weakref

import numpy as np

from . import dtypes as _dt
from . import storage as _st
from .device import device as _device, resolve as _resolve
from .hooks import RemovableHandle
from .printing import add_suffixes, format_values

__all__ = ["Tensor", "Size", "is_tensor", "numel", "wrap", "as_view", "bump_version"]

_FROM_NUMPY = _dt.FROM_NUMPY


class Size(tuple):
    """A tensor's shape: a tuple that prints as ``ember.Size([2, 3])`` (``torch.Size``)."""

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for d in self:
            n *= d
        return n

    # Slicing, concatenating and repeating a shape give a shape, as in PyTorch (``x.shape[1:]`` prints
    # as ``Size([...])`` and keeps ``numel``).
    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, times):
        return Size(tuple.__mul__(self, times))

    __rmul__ = __mul__


class Tensor:
    """An n-dimensional array on a device, with autograd (``torch.Tensor``).

    ``_data`` is the backend array, ``_node`` the tape node that produced it (None for leaves),
    ``_version_counter`` a one-element list shared with views, bumped by in-place ops. Plugins read the backend
    array as :attr:`array` (the same slot under a public name; see :mod:`ember.ops`).
    """

    __slots__ = ("_data", "_dtype", "_device", "_requires_grad", "_node", "__dict__", "__weakref__")

    # Rarely set state lives in the instance dict, defaulting to these class attributes, so that
    # making a tensor (on every op) sets five slots and nothing more.
    _grad = None
    _output_nr = 0
    _version_counter = None
    _hooks = None
    _post_accumulate_hooks = None
    _base = None
    _retains_grad = False
    _pinned = False  # set by pin_memory

    __array_ufunc__ = None  # numpy defers to Tensor's reflected operators: ndarray + Tensor -> Tensor
    __array_priority__ = 1000
    __hash__ = object.__hash__

    def type_as(self, other: "Tensor") -> "Tensor":
        """This tensor cast to ``other``'s dtype; ``self`` itself when they already agree
        (``torch.Tensor.type_as``)."""
        return self.to(other._dtype)

    def get_device(self) -> int:
        """The device index; -1 on the CPU (``Tensor.get_device``)."""
        return -1 if self._device.type == "cpu" else self._device.ordinal

    # -- metadata -----------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        """The shape as an :class:`ember.Size` (``torch.Tensor.shape``)."""
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape, or the length of dimension ``dim`` (negative dims count from the end; IndexError when out of
        range) (``torch.Tensor.size``)."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    @property
    def dtype(self) -> _dt.dtype:
        """The element type, an :class:`ember.dtype` (``torch.Tensor.dtype``)."""
        return self._dtype

    @property
    def device(self) -> _device:
        """The device the data lives on, an :class:`ember.device` (``torch.Tensor.device``)."""
        return self._device

    @property
    def ndim(self) -> int:
        """The number of dimensions (``torch.Tensor.ndim``)."""
        return self._data.ndim

    def dim(self) -> int:
        """The number of dimensions (``torch.Tensor.dim``; ``ndimension`` is the same method)."""
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        """The number of elements, the product of the shape (``torch.Tensor.numel``; ``nelement`` is the same
        method)."""
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element of this tensor's dtype (``torch.Tensor.element_size``)."""
        return self._dtype.itemsize

    @property
    def itemsize(self) -> int:
        """Bytes per element of this tensor's dtype (``torch.Tensor.itemsize``)."""
        return self._dtype.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes the elements take: ``numel() * element_size()`` (``torch.Tensor.nbytes``)."""
        return int(self._data.nbytes)

    def is_floating_point(self) -> bool:
        """Whether the dtype is a floating point one (``torch.Tensor.is_floating_point``)."""
        return self._dtype.is_floating_point

    def is_contiguous(self, memory_format=_st.contiguous_format) -> bool:
        """Whether the elements lie in memory in row-major order (or the order ``memory_format`` names:
        ``ember.channels_last``...), ignoring dims of size one (``Tensor.is_contiguous``)."""
        if memory_format is _st.contiguous_format:
            return bool(self._data.flags.c_contiguous)
        return _st.is_contiguous_as(self._data.shape, _st.strides_of(self._data), memory_format)

    def stride(self, dim: int | None = None):
        """Steps in elements between neighbours along each dim, or along ``dim`` (``Tensor.stride``)."""
        strides = _st.strides_of(self._data)
        if dim is None:
            return strides
        return strides[_wrap_dim(dim, self._data.ndim, "stride")]

    def storage_offset(self) -> int:
        """Where this tensor's first element lies in its storage, in elements (``Tensor.storage_offset``)."""
        return _st.storage_offset(self._data)

    def data_ptr(self) -> int:
        """The address of the first element (``Tensor.data_ptr``); views of one tensor differ by their
        storage offset times the element size."""
        return _st.address(self._data)

    def _is_view(self) -> builtins.bool:
        """Whether this tensor is a view of another (``Tensor._is_view``; ``_base`` is that tensor)."""
        return self._base is not None

    def untyped_storage(self) -> _st.UntypedStorage:
        """The memory this tensor and its views share (``Tensor.untyped_storage``)."""
        return _st.UntypedStorage(_st.storage_root(self._data), self._device)

    @property
    def is_cuda(self) -> bool:
        """Whether the tensor lives on a CUDA device (``torch.Tensor.is_cuda``)."""
        return self._device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        """Whether the tensor lives on the CPU (``torch.Tensor.is_cpu``)."""
        return self._device.type == "cpu"

    @property
    def _version(self) -> int:
        return 0 if self._version_counter is None else self._version_counter[0]

    # -- autograd state -----------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether autograd records ops on this tensor (``torch.Tensor.requires_grad``). Setting it on a non-leaf
        is a RuntimeError, as in PyTorch; use ``detach()``."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag) -> None:
        if self._node is not None:  # unlike requires_grad_(True), the setter refuses any non-leaf (as PyTorch)
            raise RuntimeError("you can only change requires_grad flags of leaf variables; this tensor was "
                               f"computed by '{self._node.name}'. Use detach() to get a leaf.")
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set whether autograd records ops on this leaf (``torch.Tensor.requires_grad_``).

        Raises RuntimeError to turn it off on a non-leaf, or to turn it on for a non-floating dtype."""
        requires_grad = builtins.bool(requires_grad)
        if self._node is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "requires_grad_: you can only change requires_grad flags of leaf tensors; this tensor was "
                f"computed by '{self._node.name}'. Use detach() to get a tensor that does not require grad.")
        if requires_grad and not self._dtype.is_floating_point:
            raise RuntimeError(f"requires_grad_: only tensors of floating point dtype can require gradients, "
                               f"got dtype {self._dtype}")
        self._requires_grad = requires_grad
        return self

    @property
    def grad(self) -> "Tensor | None":
        """The gradient accumulated by backward, None until then (``torch.Tensor.grad``). Assigning checks the
        value: TypeError for a non-tensor or another dtype, RuntimeError for another device or shape."""
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got {type(value).__name__}")
            if value._dtype is not self._dtype:
                raise TypeError(f"assigned grad has data of a different type ({value._dtype}) than the tensor "
                                f"({self._dtype})")
            if value._device is not self._device:
                raise RuntimeError(f"assigned grad has data located on a different device ({value._device}) than "
                                   f"the tensor ({self._device})")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has data of a different size: {tuple(value.shape)}, the tensor "
                                   f"has {tuple(self.shape)}")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def is_leaf(self) -> bool:
        """Whether no recorded op produced this tensor: user-made tensors and those outside the graph
        (``torch.Tensor.is_leaf``)."""
        return self._node is None

    @property
    def grad_fn(self):
        """The tape node of the op that produced this tensor, None for leaves (``torch.Tensor.grad_fn``)."""
        return self._node

    @property
    def data(self) -> "Tensor":
        """The same memory, detached from the graph, with a version counter of its own: an in-place write through
        ``.data`` is invisible to autograd (no saved-tensor check fires), as in PyTorch (``torch.Tensor.data``).
        ``detach()`` shares the counter instead."""
        return wrap(self._data, self._device)

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._data, self._dtype, self._device = value._data, value._dtype, value._device

    def detach(self) -> "Tensor":
        """A tensor sharing this one's memory and version counter, outside the graph (``torch.Tensor.detach``)."""
        out = wrap(self._data, self._device, _version_cell(self))
        return out

    def detach_(self) -> "Tensor":
        """Take this tensor out of the graph in place: it becomes a leaf that does not require grad
        (``torch.Tensor.detach_``). RuntimeError for a view of a tensor that requires grad."""
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("detach_: can't detach a view of a tensor that requires grad in place; "
                               "use detach() instead")
        self._node, self._requires_grad = None, False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (``Tensor.retain_grad``)."""
        if self._node is None:
            if not self._requires_grad:
                raise RuntimeError("retain_grad: can't retain_grad on a tensor that does not require grad")
            return
        node = self._node
        if node.retained is None:
            node.retained = {}
        node.retained[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        """Whether :meth:`retain_grad` asked backward to keep this non-leaf's ``.grad``
        (``torch.Tensor.retains_grad``)."""
        return self._retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a non-None return replaces it
        (``torch.Tensor.register_hook``). Returns a handle whose ``remove()`` undoes it; RuntimeError on a tensor
        that does not require grad."""
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        if self._node is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self._node
            if node.hooks is None:
                node.hooks = {}
            hooks = node.hooks.setdefault(self._output_nr, [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after backward has accumulated this leaf's ``.grad``
        (``Tensor.register_post_accumulate_grad_hook``); the hook returns None."""
        if self._node is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError("register_post_accumulate_grad_hook: cannot register a hook on a tensor that "
                               "does not require grad")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        self._post_accumulate_hooks.append(hook)
        return RemovableHandle(self._post_accumulate_hooks, hook)

    # -- conversions --------------------------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number (``torch.Tensor.item``); RuntimeError for any other
        number of elements."""
        if self._data.size != 1:
            raise RuntimeError(f"item: a Tensor with {self._data.size} elements cannot be converted to a "
                               f"Python scalar (shape {tuple(self._data.shape)})")
        return self._data.item()

    def tolist(self):
        """The values as nested Python lists of numbers (a number for a 0-d tensor) (``torch.Tensor.tolist``)."""
        return self._host().tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a numpy array, sharing memory on the CPU (``Tensor.numpy``)."""
        if force:
            return np.array(self._host()) if self._device.type != "cpu" else self._host()
        if self._requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; use "
                               "tensor.detach().numpy() instead")
        if self._device.type != "cpu":
            raise TypeError(f"numpy: can't convert a {self._device} tensor to numpy; use Tensor.cpu() first")
        return self._data

    def _host(self) -> np.ndarray:
        if self._device.type == "cpu":
            return self._data
        return self._device.backend.to_host(self._data)

    def __array__(self, dtype=None, copy=None):
        """The data as a numpy array on the host, cast to ``dtype`` if given: ``np.asarray(t)``
        (``torch.Tensor.__array__``)."""
        host = self._host()
        return host if dtype is None else host.astype(dtype)

    def __bool__(self) -> builtins.bool:
        """``bool(t)`` of a one-element tensor; RuntimeError (ambiguous) for any other number of elements
        (``torch.Tensor.__bool__``)."""
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of a Tensor with {self._data.size} elements is ambiguous")
        return builtins.bool(self._data.item())

    def __float__(self) -> builtins.float:
        """``float(t)`` of a one-element tensor; RuntimeError otherwise (``torch.Tensor.__float__``)."""
        return builtins.float(self.item())

    def __int__(self) -> builtins.int:
        """``int(t)`` of a one-element tensor, truncating floats; RuntimeError otherwise
        (``torch.Tensor.__int__``)."""
        return builtins.int(self.item())

    def __index__(self) -> builtins.int:
        """The tensor as an index (``range(t)``, ``seq[t]``): TypeError unless it is a one-element integer or bool
        tensor (``torch.Tensor.__index__``)."""
        if self._dtype.is_floating_point or self._data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index, got "
                            f"dtype {self._dtype} and shape {tuple(self._data.shape)}")
        return builtins.int(self.item())

    def __complex__(self):
        """``complex(t)`` of a one-element tensor; RuntimeError otherwise (``torch.Tensor.__complex__``)."""
        return complex(self.item())

    def __len__(self) -> int:
        """The length of the first dimension; TypeError for a 0-d tensor (``torch.Tensor.__len__``)."""
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        """Iterate over the first dimension, one sub-tensor (a view) per index; TypeError for a 0-d tensor
        (``torch.Tensor.__iter__``)."""
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __format__(self, spec: str) -> str:
        """``format(t, spec)``: a 0-d tensor formats as its number, others as their repr
        (``torch.Tensor.__format__``)."""
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __reduce_ex__(self, protocol):
        """Pickle support: the data copied to the host, the device name and ``requires_grad``; the graph is not
        pickled (``torch.Tensor.__reduce_ex__``)."""
        return (_rebuild, (self._host().copy(), str(self._device), self._requires_grad))

    def __repr__(self) -> str:
        """``tensor([...])`` as PyTorch prints it, with device, dtype and grad suffixes where they differ from the
        defaults (``torch.Tensor.__repr__``)."""
        return _format(self)

    def type(self, dtype=None):
        if dtype is None:
            return f"ember.{_TYPE_NAMES[self._dtype]}"
        return self.to(dtype)

    def cpu(self) -> "Tensor":
        """This tensor on the CPU; ``self`` itself when it is there already (``torch.Tensor.cpu``)."""
        return self.to("cpu")

    def cuda(self, device=None) -> "Tensor":
        """This tensor on CUDA device ``device`` (the current one by default); an error naming the reason when CUDA
        is unavailable (DeviceError) (``torch.Tensor.cuda``)."""
        return self.to(_device("cuda", device) if isinstance(device, builtins.int) else (device or "cuda"))

    def pin_memory(self, device=None) -> "Tensor":
        """A copy of this CPU tensor in page-locked host memory, which the GPU copies from faster
        (``Tensor.pin_memory``). Needs CUDA (CuPy's pinned allocator); without it a RuntimeError, as in
        PyTorch."""
        from . import cuda
        if self._device.type != "cpu":
            raise RuntimeError(f"pin_memory: cannot pin a tensor on {self._device}; only CPU tensors can be pinned")
        if not cuda.is_available():
            raise RuntimeError(f"Cannot access accelerator device when none is available "
                               f"(pin_memory needs CUDA: {cuda.unavailable_reason()})")
        if self._pinned:
            return self
        import cupyx
        pinned = cupyx.empty_pinned(self._data.shape, self._data.dtype)
        pinned[...] = self._data
        out = wrap(pinned, self._device)
        out._pinned = True
        return out

    def is_pinned(self, device=None) -> bool:
        """Whether the data lives in page-locked host memory (made by :meth:`pin_memory`)
        (``torch.Tensor.is_pinned``)."""
        return self._pinned

    def float(self):
        """This tensor as float32 (``torch.Tensor.float``); ``self`` if it is already."""
        return self.to(_dt.float32)

    def double(self):
        """This tensor as float64 (``torch.Tensor.double``); ``self`` if it is already."""
        return self.to(_dt.float64)

    def half(self):
        """This tensor as float16 (``torch.Tensor.half``); ``self`` if it is already."""
        return self.to(_dt.float16)

    def long(self):
        """This tensor as int64, floats truncated towards zero (``torch.Tensor.long``); ``self`` if it is already."""
        return self.to(_dt.int64)

    def int(self):
        """This tensor as int32, floats truncated towards zero (``torch.Tensor.int``); ``self`` if it is already."""
        return self.to(_dt.int32)

    def short(self):
        """This tensor as int16, floats truncated towards zero (``torch.Tensor.short``); ``self`` if it is already."""
        return self.to(_dt.int16)

    def char(self):
        """This tensor as int8, floats truncated towards zero (``torch.Tensor.char``); ``self`` if it is already."""
        return self.to(_dt.int8)

    def byte(self):
        """This tensor as uint8 (``torch.Tensor.byte``); ``self`` if it is already."""
        return self.to(_dt.uint8)

    def bool(self):
        """This tensor as bool, nonzero values True (``torch.Tensor.bool``); ``self`` if it is already."""
        return self.to(_dt.bool)


# The backend array under its public name, for op, optimizer and device plugins (``ember.ops``
# documents it): the very slot descriptor of ``_data``, so ``x.array`` costs what ``x._data`` does
# (no property call on the per-op hot path). Assigning it replaces the tensor's elements; an array of
# the tensor's own dtype and device only, followed by ``ember.ops.bump_version(x)``.
Tensor.array = Tensor.__dict__["_data"]


_TYPE_NAMES = {_dt.float32: "FloatTensor", _dt.float64: "DoubleTensor", _dt.float16: "HalfTensor",
               _dt.int64: "LongTensor", _dt.int32: "IntTensor", _dt.int16: "ShortTensor",
               _dt.int8: "CharTensor", _dt.uint8: "ByteTensor", _dt.bool: "BoolTensor"}

_new = object.__new__


def wrap(data, device, version_counter=None) -> Tensor:
    """A new leaf tensor over a backend array (no copy). The hot path: five slot writes."""
    t = _new(Tensor)
    t._data = data
    try:
        t._dtype = _FROM_NUMPY[data.dtype]
    except (KeyError, AttributeError):
        data = t._data = _as_backend_array(data, device)
        t._dtype = _dt.from_numpy_dtype(data.dtype)
    if data.__class__ is not _ndarray and isinstance(data, np.generic):
        t._data = device.xp.asarray(data)  # numpy returns scalars from 0-d operations; tensors hold arrays
    t._device = device
    t._requires_grad = False
    t._node = None
    if version_counter is not None:
        t._version_counter = version_counter
    return t


_ndarray = np.ndarray


def _as_backend_array(data, device):
    xp = device.xp
    return xp.asarray(data)


def _version_cell(t: Tensor) -> list:
    """``t``'s version counter (a one-element list shared with its views), made on first need."""
    cell = t._version_counter
    if cell is None:
        cell = t._version_counter = [0]
    return cell


def bump_version(t: Tensor) -> None:
    """Record an in-place change, so that backward through a node that saved ``t`` fails loudly."""
    _version_cell(t)[0] += 1


def as_view(view: Tensor, base: Tensor) -> Tensor:
    """Mark ``view`` as sharing ``base``'s memory: one version counter, and ``_base`` kept alive."""
    view._version_counter = _version_cell(base)
    view._base = base if base._base is None else base._base
    return view


def _rebuild(array, device, requires_grad):
    """Unpickle a tensor (the name pickles refer to: keep it)."""
    return wrap(array, _resolve("cpu")).to(device).requires_grad_(requires_grad)


def is_tensor(obj) -> builtins.bool:
    """Whether ``obj`` is an ember Tensor (``torch.is_tensor``)."""
    return isinstance(obj, Tensor)


def numel(t: Tensor) -> int:
    """The number of elements of ``input`` (``torch.numel``)."""
    return t.numel()


# -- dtype and device conversion ----------------------------------------------------------------

def _parse_to(args, kwargs):
    dev = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dev, dtype = arg._device, arg._dtype
        elif isinstance(arg, (_dt.dtype, type)) or (isinstance(arg, str) and arg in _dt._BY_NAME):
            dtype = arg
        elif isinstance(arg, (str, _device, builtins.int)) and not isinstance(arg, builtins.bool):
            dev = arg
        elif isinstance(arg, builtins.bool):
            pass  # non_blocking / copy given positionally
        else:
            raise TypeError(f"to: expected a dtype, a device or a tensor, got {type(arg).__name__}")
    return (None if dev is None else _resolve(dev)), (None if dtype is None else _dt.as_dtype(dtype)), copy


# -- printing ------------------------------------------------------------------------------------

PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def _format(t: Tensor) -> str:
    """``repr(t)`` as PyTorch prints it: the values by :mod:`ember.printing`, then device, dtype and grad suffixes."""
    host = t._host()
    prefix = "tensor("
    extras = []
    if t._device.type != "cpu":
        extras.append(f"device='{t._device}'")
    if host.size == 0:
        body = "[]"
        if host.ndim != 1:
            extras.append(f"size={tuple(host.shape)}")
    else:
        body = format_values(host, len(prefix), PRINT_OPTIONS)
    default = {_dt.get_default_dtype(), _dt.int64, _dt.bool}
    if t._dtype not in default:
        extras.append(f"dtype={t._dtype}")
    if t._node is not None:
        extras.append(f"grad_fn={t._node!r}")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return prefix + add_suffixes(body, extras, len(prefix), PRINT_OPTIONS["linewidth"])


def _wrap_dim(dim, ndim, op) -> int:
    n = builtins.max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n if ndim else 0


# The factories moved to :mod:`ember.creation` (one layer up); code written against their old place
# (``from ember.tensor import zeros``) still finds them.
_MOVED_TO_CREATION = frozenset({
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange", "linspace", "logspace", "eye",
    "rand", "randn", "randint", "randperm", "zeros_like", "ones_like", "full_like", "empty_like", "rand_like",
    "randn_like", "randint_like", "tril_indices", "triu_indices",
})


def __getattr__(name):
    if name in _MOVED_TO_CREATION:
        from . import creation
        return getattr(creation, name)
    raise AttributeError(f"module 'ember.tensor' has no attribute {name!r}")
