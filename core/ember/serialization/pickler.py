"""Pickling for ``ember.save``: ember's tensors, dtypes and devices under PyTorch's names.

A tensor is pickled as ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
hooks)``, its storage as a persistent id ``('storage', torch.FloatStorage, key, location, numel)``,
exactly as ``torch.save`` does, so ``torch.load`` (``weights_only=True`` included) reads ember's files.
Tensors that view one numpy buffer share one storage (views keep their offset and strides). Any other
object is pickled by Python's rules, like ``torch.save`` does (a whole ``nn.Module``, an optimizer).

Python's pickler writes a global only after importing it to check the name; torch need not be
installed, so this pickler writes PyTorch's names itself (:meth:`TorchNamesPickler.save_global`).
"""

from __future__ import annotations

import pickle
from collections import OrderedDict

import numpy as np

from .torch_objects import location_of, storage_type

__all__ = ["TorchNamesPickler", "SavedStorage"]


class TorchName:
    """A PyTorch global that ember writes by name (``torch._utils._rebuild_tensor_v2``)."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle requires reduce functions to be callable; never called here
        raise RuntimeError(f"{self.module}.{self.name} is a name for torch.load, not a function")


REBUILD_TENSOR_V2 = TorchName("torch._utils", "_rebuild_tensor_v2")
REBUILD_PARAMETER = TorchName("torch._utils", "_rebuild_parameter")
REBUILD_FROM_TYPE_V2 = TorchName("torch._tensor", "_rebuild_from_type_v2")
TORCH_SIZE = TorchName("torch", "Size")
TORCH_DEVICE = TorchName("torch", "device")
_STORAGE_TYPES: dict[str, TorchName] = {}


class SavedStorage:
    """One storage being saved: a contiguous numpy array (its bytes go to ``data/<key>``) and its location."""

    def __init__(self, key: str, array: np.ndarray, location: str):
        self.key, self.array, self.location = key, array, location


class TorchNamesPickler(pickle._Pickler):
    """The pickler of ``ember.save``; ``storages`` collects the storages the object refers to.

    ``legacy=True`` writes the persistent ids of PyTorch's legacy format (with a view field).
    """

    def __init__(self, file, protocol: int = 2, legacy: bool = False):
        super().__init__(file, protocol=protocol)
        self.legacy = legacy
        self.storages: dict[str, SavedStorage] = {}
        self._by_buffer: dict[tuple, SavedStorage] = {}

    # -- what ember objects become -----------------------------------------------------------------
    def reducer_override(self, obj):
        from ..device import device as ember_device
        from ..dtypes import dtype as ember_dtype
        from ..nn.parameter import Parameter
        from ..tensor import Size, Tensor
        if isinstance(obj, TorchName):
            return obj.name  # a string: pickle hands it to save_global, which writes the torch name
        if isinstance(obj, Tensor):
            if type(obj) is Parameter:
                return REBUILD_PARAMETER, (Tensor.detach(obj), obj.requires_grad, OrderedDict())
            args = self._tensor_args(obj)
            if type(obj) is Tensor:
                return REBUILD_TENSOR_V2, args
            state = {k: v for k, v in obj.__dict__.items() if not k.startswith("_")}
            return REBUILD_FROM_TYPE_V2, (REBUILD_TENSOR_V2, type(obj), args, state)
        if isinstance(obj, ember_dtype):
            return obj.name  # a global: written as torch.<name> by save_global
        if isinstance(obj, Size):
            return TORCH_SIZE, (tuple(obj),)
        if isinstance(obj, ember_device):
            return TORCH_DEVICE, ((obj.type,) if obj.index is None else (obj.type, obj.index))
        return NotImplemented

    def save_global(self, obj, name=None):
        from ..dtypes import dtype as ember_dtype
        if isinstance(obj, TorchName):
            self._write_global(obj, obj.module, obj.name)
        elif isinstance(obj, ember_dtype):
            self._write_global(obj, "torch", obj.name)
        else:
            super().save_global(obj, name)

    def _write_global(self, obj, module: str, name: str) -> None:
        if self.proto >= 4:
            self.save(module)
            self.save(name)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode("utf-8"))
        self.memoize(obj)

    def persistent_id(self, obj):
        if isinstance(obj, SavedStorage):
            kind = _STORAGE_TYPES.setdefault(storage_type(_dtype_of(obj.array)),
                                             TorchName("torch", storage_type(_dtype_of(obj.array))))
            pid = ("storage", kind, obj.key, obj.location, int(obj.array.size))
            return pid + (None,) if self.legacy else pid
        return None

    # -- storages ----------------------------------------------------------------------------------
    def _tensor_args(self, tensor) -> tuple:
        """``(storage, offset, size, stride, requires_grad, hooks)`` for ``_rebuild_tensor_v2``."""
        data = tensor.detach()._host()
        location = location_of(tensor.device)
        storage, offset, strides = self._storage_for(np.asarray(data), location)
        return storage, offset, tuple(data.shape), strides, bool(tensor.requires_grad), OrderedDict()

    def _storage_for(self, array: np.ndarray, location: str):
        root = array
        while isinstance(root.base, np.ndarray):
            root = root.base
        shared = _view_into(array, root)
        if shared is None:  # negative or odd strides, another dtype: save this tensor's own copy
            root = np.ascontiguousarray(array).reshape(-1)
            offset, strides = 0, _contiguous_strides(array.shape)
        else:
            offset, strides = shared
        key = (root.__array_interface__["data"][0], root.nbytes, root.dtype.str, location)
        storage = self._by_buffer.get(key)
        if storage is None:
            flat = root.reshape(-1) if root.flags.c_contiguous else np.ascontiguousarray(root).reshape(-1)
            storage = SavedStorage(str(len(self.storages)), flat, location)
            self.storages[storage.key] = storage
            self._by_buffer[key] = storage
        return storage, offset, strides


def _dtype_of(array):
    from ..dtypes import from_numpy_dtype
    return from_numpy_dtype(array.dtype)


def _contiguous_strides(shape) -> tuple:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _view_into(array: np.ndarray, root: np.ndarray):
    """``(offset, strides)`` in elements of ``array`` inside the C-contiguous ``root``, or None."""
    if root is array:
        return (0, _contiguous_strides(array.shape)) if array.flags.c_contiguous else None
    item = array.dtype.itemsize
    if root.dtype != array.dtype or not root.flags.c_contiguous or array.size == 0:
        return None
    if any(s < 0 or s % item for s in array.strides):
        return None
    delta = array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    if delta < 0 or delta % item:
        return None
    offset = delta // item
    last = offset + sum((n - 1) * (s // item) for n, s in zip(array.shape, array.strides))
    if last >= root.size:
        return None
    return offset, tuple(s // item for s in array.strides)
