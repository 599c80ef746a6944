"""Merging samples into a batch (``default_collate``) and converting unbatched samples (``default_convert``)."""

from __future__ import annotations

import collections.abc as abc

import numpy as np

__all__ = ["default_collate", "default_convert"]


def _stack(tensors):
    """Stack same-shaped tensors along a new first dimension, on their backend, outside autograd."""
    from ...tensor import Tensor, wrap
    first = tensors[0]
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, but got shapes "
                           f"{sorted(shapes)}")
    if any(t.device != first.device for t in tensors) or not all(isinstance(t, Tensor) for t in tensors):
        raise RuntimeError("default_collate: all tensors in a batch must be ember Tensors on one device")
    if any(t.requires_grad for t in tensors):
        import ember
        if hasattr(ember, "stack"):
            return ember.stack(tensors)
    xp = first.device.xp
    return wrap(xp.stack([t._data for t in tensors]), first.device)


def default_collate(batch):
    """Tensors and numpy arrays are stacked, Python numbers become a tensor (float64 for floats, int64 for
    ints), strings stay a list, and dicts, tuples and lists are collated field by field (tuples come back
    as lists, as in PyTorch)."""
    from ...tensor import Tensor, from_numpy, tensor
    from ... import dtypes
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "USO":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                            f"lists; found a numpy array of dtype {elem.dtype}")
        return from_numpy(np.stack(batch))
    if isinstance(elem, np.generic):
        return tensor(np.array(batch))
    if isinstance(elem, bool):
        return tensor(batch, dtype=dtypes.bool)
    if isinstance(elem, float):
        return tensor(batch, dtype=dtypes.float64)
    if isinstance(elem, int):
        return tensor(batch, dtype=dtypes.int64)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, abc.Mapping):
        try:
            return type(elem)({key: default_collate([d[key] for d in batch]) for key in elem})
        except TypeError:
            return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                    f"found {type(elem).__name__}")


def default_convert(data):
    """What the DataLoader does to samples when automatic batching is off: numpy arrays become tensors."""
    from ...tensor import Tensor, from_numpy, tensor
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray) and data.dtype.kind not in "USO":
        return from_numpy(data)
    if isinstance(data, np.generic):
        return tensor(data)
    if isinstance(data, abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data
