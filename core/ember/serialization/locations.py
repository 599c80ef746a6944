"""``map_location``: where the tensors of a loaded checkpoint end up (``torch.load``'s rules).

Applied per storage after its bytes are in memory: None restores each storage to the device it was
saved from; a device or string sends everything there; a dict maps saved locations to new ones; a
callable gets ``(storage, location)`` (the storage as a flat tensor) and returns the storage to use,
or None for the default.
"""

from __future__ import annotations

import numpy as np

from .errors import CheckpointError

__all__ = ["apply_map_location"]


def apply_map_location(storages, map_location, name: str) -> None:
    """Move or replace each storage's tensors as ``map_location`` says (see the module docstring)."""
    from ..device import device as ember_device
    for storage in storages:
        if not storage.views:
            continue
        if map_location is None:
            _move(storage, storage.location, name)
        elif isinstance(map_location, dict):
            _move(storage, map_location.get(storage.location, storage.location), name)
        elif isinstance(map_location, (str, bytes, ember_device)):
            _move(storage, map_location.decode() if isinstance(map_location, bytes) else map_location, name)
        elif callable(map_location):
            _call(storage, map_location, name)
        else:
            raise TypeError(f"ember.load: map_location must be None, a device, a string, a dict or a callable, "
                            f"got {type(map_location).__name__}")


def _move(storage, target, name: str) -> None:
    from ..device import device as ember_device
    if isinstance(target, ember_device):
        device = target
    else:
        if not isinstance(target, str):
            raise CheckpointError(f"{name}: a storage's location must be a string, got {type(target).__name__}")
        try:
            device = ember_device(target)
        except Exception as exc:
            raise CheckpointError(f"{name}: storage {storage.key} was saved on {target!r}, which is not a device "
                                  f"ember knows ({exc}); pass map_location='cpu'") from None
    if device.type == "cpu":
        return
    try:
        from ..device import resolve
        resolve(device)
    except Exception as exc:
        raise CheckpointError(f"{name}: attempting to restore storage {storage.key} on {device}, which is not "
                              f"available here ({exc}); on a CPU-only machine pass map_location='cpu'") from None
    for tensor, *_ in storage.views:
        moved = tensor.to(device)
        tensor._data, tensor._device = moved._data, moved._device


def _call(storage, map_location, name: str) -> None:
    from ..creation import from_numpy
    from ..tensor import Tensor
    flat = from_numpy(storage.array)
    result = map_location(flat, storage.location)
    if result is None:
        _move(storage, storage.location, name)
        return
    if not isinstance(result, Tensor):
        raise TypeError(f"ember.load: map_location returned {type(result).__name__}; expected the storage "
                        f"(a tensor) or None")
    if result.device.type != "cpu":
        _move(storage, result.device, name)
        return
    if result is flat:
        return
    array = np.ascontiguousarray(result.detach()._host()).reshape(-1)
    if array.shape != storage.array.shape or array.dtype != storage.array.dtype:
        raise ValueError(f"ember.load: map_location returned a storage of {array.size} {array.dtype} elements "
                         f"for one of {storage.array.size} {storage.array.dtype}")
    storage.array = array
    if not array.size:
        return
    item = array.dtype.itemsize
    for tensor, offset, size, stride in storage.views:
        tensor._data = np.ndarray(size, dtype=array.dtype, buffer=array, offset=offset * item,
                                  strides=tuple(s * item for s in stride))
