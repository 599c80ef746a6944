"""What PyTorch's pickles name, in ember: storage types, dtypes, and the tensor-rebuilding functions.

``torch.save`` pickles a tensor as a call ``torch._utils._rebuild_tensor_v2(storage, offset, size,
stride, requires_grad, hooks)``, where ``storage`` is a persistent id naming raw bytes stored beside
the pickle. This module maps those global names to ember objects (:data:`TORCH_GLOBALS`), holds
a loaded storage (:class:`LoadedStorage`) and builds tensors as strided numpy views over it, so
tensors that shared a storage in PyTorch share memory in ember too.
"""

from __future__ import annotations

import operator
import warnings
from collections import Counter, OrderedDict

import numpy as np

from .errors import CheckpointError

__all__ = ["StorageType", "LoadedStorage", "TORCH_GLOBALS", "resolve", "make_tensor", "storage_type", "location_of"]

# torch's typed storage classes -> the dtype of their elements (torch's own names).
STORAGE_DTYPES = {
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16",
    "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool", "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128", "UntypedStorage": "uint8",
}
# torch dtype names (and aliases) -> canonical names; numpy type of the stored bytes per canonical name.
DTYPE_ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64", "int": "int32",
                 "short": "int16", "cfloat": "complex64", "cdouble": "complex128"}
RAW_NUMPY = {"float32": "f4", "float64": "f8", "float16": "f2", "bfloat16": "u2", "int64": "i8", "int32": "i4",
             "int16": "i2", "int8": "i1", "uint8": "u1", "bool": "b1", "complex64": "c8", "complex128": "c16",
             "uint16": "u2", "uint32": "u4", "uint64": "u8"}


class StorageType:
    """Stands for ``torch.FloatStorage`` and the like inside a pickle: just the element dtype's name."""

    def __init__(self, name: str):
        self.name, self.dtype_name = name, STORAGE_DTYPES[name]

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class TorchDtype:
    """A torch dtype named in a pickle that ember has no dtype for (kept so that the load can say so)."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


def _ember_dtype(name: str):
    """The ember dtype called ``name`` (torch's spelling), or None when ember has none."""
    from .. import dtypes
    name = DTYPE_ALIASES.get(name, name)
    found = dtypes._BY_NAME.get(name)
    if found is None and name == "bfloat16":  # made on first use where ember has it (ml_dtypes)
        try:
            found = getattr(dtypes, "bfloat16", None)
        except ImportError:
            found = None
    return found if isinstance(found, dtypes.dtype) else None


def _torch_dtype(name: str):
    dtype = _ember_dtype(name)
    return dtype if dtype is not None else TorchDtype(DTYPE_ALIASES.get(name, name))


def storage_type(dtype) -> str:
    """The ``torch.<X>Storage`` class name for an ember dtype."""
    for storage_name, dtype_name in STORAGE_DTYPES.items():
        if dtype_name == dtype.name and storage_name != "UntypedStorage":
            return storage_name
    raise TypeError(f"ember.save: no PyTorch storage type for dtype {dtype}")


def location_of(device) -> str:
    """torch's location tag for an ember device: ``cpu``, ``cuda:0``."""
    if device.type == "cpu":
        return "cpu"
    return f"{device.type}:{device.ordinal}"


class LoadedStorage:
    """One storage of a checkpoint: a flat numpy array of its elements, its saved location, and the
    tensors viewing it (so that ``map_location`` can move or replace them together)."""

    def __init__(self, key: str, dtype_name: str, numel: int, location: str, name: str):
        self.key, self.dtype_name, self.numel, self.location, self.file = key, dtype_name, numel, location, name
        self.array: np.ndarray | None = None
        self.views: list = []

    @property
    def nbytes(self) -> int:
        return self.numel * np.dtype(RAW_NUMPY[self.dtype_name]).itemsize

    def set_bytes(self, raw, byteorder: str) -> None:
        """Take the storage's bytes (a writable buffer of ``nbytes``) in the file's ``byteorder``."""
        code = RAW_NUMPY[self.dtype_name]
        array = np.frombuffer(raw, dtype=np.dtype(code).newbyteorder("<" if byteorder == "little" else ">"))
        if not array.dtype.isnative:
            array = array.astype(array.dtype.newbyteorder("="))
        self.array = _to_ember_array(array, self.dtype_name, self.file)


def _to_ember_array(array: np.ndarray, dtype_name: str, file: str) -> np.ndarray:
    """The raw elements as the numpy dtype of the ember dtype that will hold them."""
    if dtype_name == "bfloat16":
        ember_dtype = _ember_dtype("bfloat16")
        if ember_dtype is not None:
            return array.view(ember_dtype.numpy)
        _warn_bfloat16()
        return (array.astype(np.uint32) << 16).view(np.float32)  # exact: bfloat16 is float32's top half
    return array


_warned_bfloat16 = []


def _warn_bfloat16() -> None:
    if not _warned_bfloat16:
        _warned_bfloat16.append(True)
        warnings.warn("ember.load: bfloat16 tensors are loaded as float32 (exactly: every bfloat16 value is a "
                      "float32 value), because this ember has no bfloat16 dtype", UserWarning, stacklevel=4)


def _ints(value, what: str, file: str) -> tuple:
    try:
        if not isinstance(value, (tuple, list)):
            raise TypeError
        return tuple(operator.index(v) for v in value)
    except TypeError:
        raise CheckpointError(f"{file}: a tensor's {what} must be a tuple of ints, got {_describe(value)}") from None


def _describe(value) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def make_tensor(storage, offset, size, stride, requires_grad=False, dtype_name: str | None = None):
    """A tensor viewing ``storage`` at element ``offset`` with ``size`` and ``stride`` (in elements), as
    ``torch.Tensor.set_`` does; a view that reaches outside the storage is a CheckpointError."""
    if not isinstance(storage, LoadedStorage):
        raise CheckpointError(f"<checkpoint>: a tensor's storage must be a stored storage, got {_describe(storage)}")
    file = storage.file
    if type(offset) is not int:
        raise CheckpointError(f"{file}: a tensor's storage offset must be an int, got {_describe(offset)}")
    size, stride = _ints(size, "size", file), _ints(stride, "stride", file)
    if len(size) != len(stride):
        raise CheckpointError(f"{file}: a tensor has size {size} but stride {stride} (different lengths)")
    if offset < 0 or any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise CheckpointError(f"{file}: a tensor view has a negative offset, size or stride "
                              f"(offset {offset}, size {size}, stride {stride})")
    array = storage.array
    if dtype_name is not None and dtype_name != storage.dtype_name:  # _rebuild_tensor_v3: untyped bytes
        array = _reinterpret(storage, dtype_name)
    numel = array.shape[0]
    if all(s > 0 for s in size):
        last = offset + sum((n - 1) * st for n, st in zip(size, stride))
        if last >= numel:
            raise CheckpointError(f"{file}: a tensor view (offset {offset}, size {size}, stride {stride}) reaches "
                                  f"element {last} of a storage of {numel} elements")
    elif offset > numel:
        raise CheckpointError(f"{file}: an empty tensor's offset {offset} is past its storage of {numel} elements")
    _check_dtype(array.dtype, storage, dtype_name)
    item = array.dtype.itemsize
    view = np.ndarray(size, dtype=array.dtype, buffer=array, offset=offset * item,
                      strides=tuple(s * item for s in stride)) if array.size else np.zeros(size, array.dtype)
    from ..creation import from_numpy
    tensor = from_numpy(view)
    storage.views.append((tensor, offset, size, stride))
    if requires_grad is True:
        if not tensor.dtype.is_floating_point:
            raise CheckpointError(f"{file}: a tensor of dtype {tensor.dtype} is marked requires_grad")
        tensor.requires_grad_(True)
    return tensor


def _reinterpret(storage, dtype_name: str) -> np.ndarray:
    dtype_name = DTYPE_ALIASES.get(dtype_name, dtype_name)
    if dtype_name not in RAW_NUMPY:
        raise CheckpointError(f"{storage.file}: a tensor has dtype torch.{dtype_name}, which ember cannot hold")
    raw = storage.array.view(np.uint8)
    item = np.dtype(RAW_NUMPY[dtype_name]).itemsize
    if raw.size % item:
        raise CheckpointError(f"{storage.file}: a storage of {raw.size} bytes cannot hold {dtype_name} elements")
    return _to_ember_array(raw.view("<" + RAW_NUMPY[dtype_name]), dtype_name, storage.file)


def _check_dtype(np_dtype, storage, dtype_name) -> None:
    from .. import dtypes
    if np_dtype not in dtypes.FROM_NUMPY:
        name = dtype_name or storage.dtype_name
        supported = ", ".join(sorted(d.name for d in dtypes.ALL))
        raise CheckpointError(f"{storage.file}: a tensor has dtype torch.{name}, which ember does not support "
                              f"(supported: {supported})")


# -- the functions torch._utils names ------------------------------------------------------------

def rebuild_tensor(storage, storage_offset, size, stride):
    """``torch._utils._rebuild_tensor`` (files from PyTorch < 1.0 and old views)."""
    return make_tensor(storage, storage_offset, size, stride)


def rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                      metadata=None):
    """``torch._utils._rebuild_tensor_v2``: what ``torch.save`` writes for every dense tensor."""
    return make_tensor(storage, storage_offset, size, stride, requires_grad)


def rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    """``torch._utils._rebuild_tensor_v3``: an untyped storage read as ``dtype`` (dtypes without a storage class)."""
    name = getattr(dtype, "name", None)
    if not isinstance(name, str):
        raise CheckpointError(f"{getattr(storage, 'file', '<checkpoint>')}: _rebuild_tensor_v3 needs a dtype, "
                              f"got {_describe(dtype)}")
    return make_tensor(storage, storage_offset, size, stride, requires_grad, dtype_name=name)


def rebuild_parameter(data, requires_grad, backward_hooks=None):
    """``torch._utils._rebuild_parameter``: an ``nn.Parameter`` over a rebuilt tensor."""
    from ..nn.parameter import Parameter
    from ..tensor import Tensor
    if not isinstance(data, Tensor) or not isinstance(requires_grad, bool):
        raise CheckpointError(f"<checkpoint>: _rebuild_parameter needs (tensor, bool), got "
                              f"({_describe(data)}, {_describe(requires_grad)})")
    if requires_grad and not data.dtype.is_floating_point:
        requires_grad = False  # torch only allows it for float dtypes; such a file is nonsensical, keep the data
    return Parameter(data, requires_grad=requires_grad)


def rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    """``torch._utils._rebuild_parameter_with_state``: a Parameter plus plain Python attributes."""
    param = rebuild_parameter(data, requires_grad, backward_hooks)
    _set_public_state(param, state)
    return param


def rebuild_from_type_v2(func, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2``: a tensor of a Tensor subclass (Parameter, or an allowed one)."""
    from ..tensor import Tensor
    if not callable(func) or not isinstance(args, tuple):
        raise CheckpointError(f"<checkpoint>: _rebuild_from_type_v2 needs a rebuild function and a tuple of "
                              f"arguments, got {_describe(func)}, {_describe(args)}")
    result = func(*args)
    if not (isinstance(new_type, type) and issubclass(new_type, Tensor)):
        raise CheckpointError(f"<checkpoint>: _rebuild_from_type_v2 asks for {_describe(new_type)}, not a Tensor class")
    if type(result) is not new_type:
        from ..nn.parameter import Parameter
        if new_type is Parameter:
            result = Parameter(result, requires_grad=result.requires_grad)
        elif new_type is not Tensor:
            result.__class__ = new_type
    _set_public_state(result, state)
    return result


def _set_public_state(obj, state) -> None:
    if not state:
        return
    if isinstance(state, tuple) and len(state) == 2:
        state = {**(state[0] or {}), **(state[1] or {})}
    if not isinstance(state, dict):
        raise CheckpointError(f"<checkpoint>: a tensor's state must be a dict, got {_describe(state)}")
    for key, value in state.items():
        if isinstance(key, str) and not key.startswith("_"):  # never ember's own internals
            obj.__dict__[key] = value


def _size(dims=()):
    from ..tensor import Size
    return Size(_ints(dims, "torch.Size", "<checkpoint>"))


def _device(*args):
    from ..device import device
    try:
        return device(*args)
    except Exception as exc:
        raise CheckpointError(f"<checkpoint>: a saved torch.device{args!r} is not a device ember knows ({exc})") from None


def _bytes_from_latin1(text, encoding="latin1"):
    """``_codecs.encode`` as pickle protocol 2 uses it for bytes: only the latin-1 form is allowed."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise CheckpointError(f"<checkpoint>: _codecs.encode is only allowed as encode(str, 'latin1'), got "
                              f"encode({_describe(text)}, {encoding!r})")
    return text.encode("latin1")


def _bytearray(*args):
    """``bytearray`` as pickle protocol 2 uses it (from bytes or a str), never ``bytearray(10**12)``."""
    if args and not isinstance(args[0], (bytes, str, list)):
        raise CheckpointError(f"<checkpoint>: bytearray is only allowed from bytes, got {_describe(args[0])}")
    return bytearray(*args)


def _torch_tensor_class():
    from ..tensor import Tensor
    return Tensor


def _torch_parameter_class():
    from ..nn.parameter import Parameter
    return Parameter


def _build_table() -> dict:
    table = {
        "collections.OrderedDict": OrderedDict,
        "collections.Counter": Counter,
        "torch._utils._rebuild_tensor": rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": rebuild_tensor_v3,
        "torch._utils._rebuild_parameter": rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": rebuild_from_type_v2,
        "torch.tensor._rebuild_from_type_v2": rebuild_from_type_v2,
        "torch.Size": _size,
        "torch.device": _device,
        "_codecs.encode": _bytes_from_latin1,
        "builtins.bytearray": _bytearray,
        "builtins.set": set,
        "builtins.frozenset": frozenset,
        "builtins.complex": complex,
        "__builtin__.set": set,
    }
    for name in STORAGE_DTYPES:
        table[f"torch.{name}"] = StorageType(name)
        table[f"torch.cuda.{name}"] = StorageType(name)
    table["torch.storage.UntypedStorage"] = StorageType("UntypedStorage")
    table["torch.storage.TypedStorage"] = StorageType("UntypedStorage")
    for name in list(RAW_NUMPY) + list(DTYPE_ALIASES):
        table[f"torch.{name}"] = _LazyGlobal(_torch_dtype, name)
    table["torch.Tensor"] = _LazyGlobal(lambda _: _torch_tensor_class(), None)
    table["torch._tensor.Tensor"] = table["torch.Tensor"]
    table["torch.nn.parameter.Parameter"] = _LazyGlobal(lambda _: _torch_parameter_class(), None)
    return table


class _LazyGlobal:
    """A table entry resolved on first use (ember's Tensor and dtypes import after this module)."""

    def __init__(self, make, arg):
        self.make, self.arg = make, arg


TORCH_GLOBALS = _build_table()


def resolve(full_name: str):
    """The ember object for a global a torch pickle names, or None when it is not on the list."""
    entry = TORCH_GLOBALS.get(full_name)
    if isinstance(entry, _LazyGlobal):
        return entry.make(entry.arg)
    return entry
