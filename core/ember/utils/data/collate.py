"""Merging samples into a batch (``default_collate``) and converting unbatched samples (``default_convert``).

Both follow ``torch.utils.data``'s rules type for type, containers included: a batch of tuples comes
back as a list of fields, and each field of strings as the tuple that transposing made; dicts, lists
and their subclasses keep their type; namedtuples stay namedtuples. ``collate`` with a
``collate_fn_map`` is the extension point PyTorch offers (``torch.utils.data._utils.collate``).
"""

from __future__ import annotations

import collections.abc as abc
import copy
import re

import numpy as np

from ... import dtypes
from ...creation import as_tensor, from_numpy, tensor
from ...tensor import Tensor, wrap

__all__ = ["default_collate", "default_convert", "collate", "default_collate_fn_map", "collate_tensor_fn",
           "collate_numpy_array_fn", "collate_numpy_scalar_fn", "collate_float_fn", "collate_int_fn",
           "collate_str_fn"]

# numpy dtypes that hold strings or objects: they cannot become tensors.
_STRING_OR_OBJECT = re.compile("[SaUO]")
_UNSUPPORTED = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _unequal_sizes(shapes, what: str, show) -> str:
    first = shapes[0]
    entry = next(i for i, s in enumerate(shapes) if s != first)
    return (f"default_collate: stack expects each {what} to be equal size, but got {show(first)} at entry 0 "
            f"and {show(shapes[entry])} at entry {entry}")


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Stack same-shaped tensors along a new first dimension (recorded by autograd when one requires grad)."""
    first = batch[0]
    strangers = [i for i, t in enumerate(batch) if not isinstance(t, Tensor)]
    if strangers:
        raise TypeError(f"default_collate: expected Tensor as element {strangers[0]} of the batch, but got "
                        f"{type(batch[strangers[0]]).__name__}")
    devices = sorted({str(t.device) for t in batch})
    if len(devices) > 1:
        raise RuntimeError(f"default_collate: expected all tensors of the batch on one device, got {devices}")
    shapes = [tuple(t.shape) for t in batch]
    if any(s != shapes[0] for s in shapes):
        raise RuntimeError(_unequal_sizes(shapes, "tensor", lambda s: list(s)))
    if any(t.requires_grad for t in batch):
        import ember
        return ember.stack(list(batch))
    return wrap(first.device.xp.stack([t._data for t in batch]), first.device)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """numpy arrays become tensors, then stack; arrays of strings or objects are a TypeError."""
    elem = batch[0]
    if _STRING_OR_OBJECT.search(elem.dtype.str) is not None:
        raise TypeError(_UNSUPPORTED.format(elem.dtype))
    shapes = [np.shape(a) for a in batch]
    if any(s != shapes[0] for s in shapes):
        raise RuntimeError(_unequal_sizes(shapes, "numpy array", lambda s: f"shape {s}"))
    return collate([from_numpy(np.asarray(b)) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """numpy scalars become one tensor of their dtype (``torch.as_tensor(batch)``)."""
    return as_tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    """Python floats become a float64 tensor, as in PyTorch (not the default dtype)."""
    return tensor(list(batch), dtype=dtypes.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    """Python ints become an int64 tensor; bools (a subclass of int) a bool tensor."""
    return tensor(list(batch))


def collate_str_fn(batch, *, collate_fn_map=None):
    """Strings and bytes are left as they are: the batch itself (a list, or a tuple inside a sequence)."""
    return batch


def collate(batch, *, collate_fn_map=None):
    """Collate ``batch`` (a sequence of samples) by the type of its first sample.

    ``collate_fn_map`` maps a type (or a tuple of types) to a function ``fn(batch, *, collate_fn_map)``;
    the exact type is looked up first, then each key in order with ``isinstance``. Containers are
    collated field by field: mappings keep their type, namedtuples stay namedtuples, tuples become lists
    (as in PyTorch), other sequences keep their type where it can be rebuilt. Errors: RuntimeError for
    sequences of unequal length, TypeError for an element type nothing handles.
    """
    elem = batch[0]
    if collate_fn_map is not None:
        fn = collate_fn_map.get(type(elem))
        if fn is not None:
            return fn(batch, collate_fn_map=collate_fn_map)
        for kind, fn in collate_fn_map.items():
            if isinstance(elem, kind):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, abc.Mapping):
        fields = {key: collate([sample[key] for sample in batch], collate_fn_map=collate_fn_map) for key in elem}
        return _rebuild_mapping(elem, fields)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            sizes = [len(sample) for sample in batch]
            raise RuntimeError(f"default_collate: each element in list of batch should be of equal size; got "
                               f"sizes {sizes}")
        fields = [collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # PyTorch returns a list here, for backwards compatibility
        return _rebuild_sequence(elem, fields)
    raise TypeError(_UNSUPPORTED.format(type(elem)))


def _rebuild_mapping(elem, fields: dict):
    """``fields`` in a mapping of ``elem``'s type: a copy of ``elem`` when it is mutable, else built from a
    dict; a plain dict when the type cannot be built that way."""
    try:
        if isinstance(elem, abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(fields)
            return clone
        return type(elem)(fields)
    except TypeError:
        return fields


def _rebuild_sequence(elem, fields: list):
    try:
        if isinstance(elem, abc.MutableSequence):
            clone = copy.copy(elem)
            for i, value in enumerate(fields):
                clone[i] = value
            return clone
        return type(elem)(fields)
    except TypeError:
        return fields


default_collate_fn_map: dict = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Put a list of samples together into a batch (``torch.utils.data.default_collate``).

    Tensors and numpy arrays are stacked along a new first dimension (shapes must agree: a RuntimeError
    names the first two that differ); numpy scalars become a tensor of their dtype; Python floats a
    float64 tensor, ints an int64 tensor, bools a bool tensor; strings and bytes are left as they are.
    Containers are collated field by field, as :func:`collate` says.
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data):
    """What the DataLoader does to each sample when automatic batching is off (``torch.utils.data.default_convert``):
    numpy arrays and scalars become tensors (arrays of strings or objects stay as they are), containers
    are converted element by element (tuples become lists, as in PyTorch), anything else is unchanged."""
    kind = type(data)
    if isinstance(data, Tensor):
        return data
    if kind.__module__ == "numpy" and kind.__name__ not in ("str_", "bytes_", "string_"):
        if kind is np.ndarray and _STRING_OR_OBJECT.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return kind(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data
