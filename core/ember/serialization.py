"""``ember.save`` / ``ember.load``: checkpoints as safetensors files, never pickles.

A checkpoint is one safetensors file: every tensor (and numpy array) of the object is a named entry,
and the structure around them (dicts, lists, tuples, numbers, strings, None) is JSON in the file's
metadata. A flat dict of tensors (a ``state_dict``) keeps its keys as the entry names, so PyTorch's
``safetensors.torch.load_file`` reads ember's state_dicts and ``ember.load`` reads PyTorch's.

Loading parses JSON and raw tensor bytes only: no code from the file ever runs, which is why a pickle
(what ``torch.save`` writes) is refused instead of read. Saving to a path is atomic: the bytes go to a
temporary file in the same directory, are fsynced, and replace the target in one rename, so a crash
mid-save leaves the previous checkpoint as it was.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from collections import OrderedDict

import numpy as np

__all__ = ["save", "load", "CheckpointError"]

FORMAT = "ember.checkpoint/1"
_FORMAT_KEY = "format"
_STRUCTURE_KEY = "ember.structure"


class CheckpointError(ValueError):
    """A file that ``ember.load`` will not or cannot read: a pickle, a corrupt or truncated file."""


# -- saving ---------------------------------------------------------------------------------------

def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True) -> None:
    """Write ``obj`` (tensors, state_dicts, optimizer state_dicts, and dicts/lists/tuples of them with
    numbers, strings and None) to the path or binary file ``f`` (``torch.save``; the pickle arguments
    are accepted for compatibility and ignored: nothing is pickled). Anything else is a TypeError."""
    data = dumps(obj)
    if hasattr(f, "write"):
        f.write(data)
        return
    _write_atomic(os.fspath(f), data)


def dumps(obj) -> bytes:
    """The bytes ``save`` writes."""
    import safetensors.numpy
    arrays: dict[str, np.ndarray] = {}
    seen: dict[int, str] = {}
    flat_state_dict = isinstance(obj, dict) and all(isinstance(k, str) for k in obj)
    structure = _encode(obj, "", arrays, seen, flat_state_dict, "obj")
    metadata = {_FORMAT_KEY: FORMAT, _STRUCTURE_KEY: json.dumps(structure, allow_nan=True)}
    return safetensors.numpy.save(arrays, metadata=metadata)


def _encode(value, path, arrays, seen, flat, where):
    """JSON for ``value``, with its tensors moved into ``arrays`` under dotted-path names."""
    from .tensor import Tensor
    from .dtypes import dtype as ember_dtype
    from .device import device as ember_device
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return {"float": repr(value)} if value != value or value in (float("inf"), float("-inf")) else value
    if isinstance(value, Tensor):
        return _encode_array(value, path, arrays, seen, where)
    if isinstance(value, np.ndarray):
        return _encode_array(value, path, arrays, seen, where)
    if isinstance(value, np.generic):
        return _encode(value.item(), path, arrays, seen, flat, where)
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if not (k is None or isinstance(k, (str, int, float, bool))):
                raise TypeError(f"ember.save: dict keys must be strings, numbers or None; {where} has a key of "
                                f"type {type(k).__name__}")
            child = k if (flat and not path) else (f"{path}.{k}" if path else str(k))
            items.append([k, _encode(v, child, arrays, seen, False, f"{where}[{k!r}]")])
        return {"dict": items, "ordered": isinstance(value, OrderedDict)}
    if isinstance(value, (list, tuple)):
        if hasattr(value, "_fields"):
            raise TypeError(f"ember.save: can't store the named tuple {type(value).__name__} at {where}; "
                            f"convert it to a tuple or dict (ember.save never pickles)")
        children = [_encode(v, f"{path}.{i}" if path else str(i), arrays, seen, False, f"{where}[{i}]")
                    for i, v in enumerate(value)]
        return {"list" if isinstance(value, list) else "tuple": children}
    if isinstance(value, ember_dtype):
        return {"dtype": str(value).replace("ember.", "")}
    if isinstance(value, ember_device):
        return {"device": str(value)}
    raise TypeError(f"ember.save: can't store an object of type {type(value).__name__} at {where}; checkpoints "
                    f"hold tensors, numpy arrays, numbers, strings, None and dicts/lists/tuples of them "
                    f"(ember.save never pickles)")


def _encode_array(value, path, arrays, seen, where):
    from .tensor import Tensor
    from .nn.parameter import Parameter
    key = seen.get(id(value))
    if key is None:
        if isinstance(value, Tensor):
            host = np.asarray(value.detach()._host())
        else:
            host = value
        if host.dtype.kind not in "biuf":
            raise TypeError(f"ember.save: can't store an array of dtype {host.dtype} at {where}")
        key = path or "tensor"
        while key in arrays:
            key += "_"
        arrays[key] = host if host.flags.c_contiguous else np.ascontiguousarray(host)  # keeps 0-d as 0-d
        seen[id(value)] = key
    if isinstance(value, np.ndarray):
        return {"ndarray": key}
    entry = {"tensor": key, "device": str(value.device)}
    if isinstance(value, Parameter):
        entry["parameter"] = bool(value.requires_grad)
    elif value.requires_grad:
        entry["requires_grad"] = True
    return entry


def _write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a reader sees either the old file or the new, never half."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_bytes(handle, data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _write_bytes(handle, data: bytes) -> None:
    """The write step of ``_write_atomic`` (in chunks, so a killed process leaves a partial temp file)."""
    view = memoryview(data)
    for start in range(0, len(view), 1 << 20):
        handle.write(view[start:start + (1 << 20)])


# -- loading --------------------------------------------------------------------------------------

def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Read what ``save`` wrote, or any safetensors file (``torch.load``).

    ``map_location``: None (tensors go back to the device they were saved from), a device or device
    string (all tensors go there), a dict mapping saved device strings to devices, or a callable
    ``(tensor, saved_device) -> tensor``. A file without ember's structure (e.g. written by
    ``safetensors.torch.save_file``) loads as a dict of name -> tensor in file order. Pickles are refused
    with a CheckpointError, whatever ``weights_only`` says: ember never unpickles.
    """
    if hasattr(f, "read"):
        raw, name = f.read(), getattr(f, "name", "<file>")
    else:
        name = os.fspath(f)
        with open(name, "rb") as handle:
            raw = handle.read()
    return loads(raw, map_location, name=name)


def loads(raw: bytes, map_location=None, name: str = "<bytes>"):
    """The object in the bytes ``raw`` (see :func:`load`)."""
    import safetensors.numpy
    _refuse_pickle(raw, name)
    header = _read_header(raw, name)
    metadata = header.get("__metadata__") or {}
    try:
        arrays = safetensors.numpy.load(raw)
    except Exception as exc:
        raise CheckpointError(f"{name} is not a readable safetensors file ({exc}); it is corrupt or truncated") from None
    mapper = _location_mapper(map_location)
    if metadata.get(_FORMAT_KEY) != FORMAT or _STRUCTURE_KEY not in metadata:
        order = sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"][0])
        return {k: mapper(_tensor(arrays[k]), "cpu") for k in order}
    try:
        structure = json.loads(metadata[_STRUCTURE_KEY])
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{name}: the checkpoint's structure metadata is not valid JSON ({exc})") from None
    return _decode(structure, arrays, mapper, {}, name)


def _refuse_pickle(raw: bytes, name: str) -> None:
    why = ("ember.load never unpickles, because unpickling a file runs whatever code the file asks for. "
           "Convert it once where you trust it, e.g. in PyTorch: "
           "safetensors.torch.save_file(torch.load(path), 'model.safetensors')")
    if raw[:4] == b"PK\x03\x04":
        raise CheckpointError(f"{name} is a zip archive of pickles, as torch.save writes; {why}")
    if raw[:1] == b"\x80" and len(raw) > 1 and raw[1] <= 5:
        raise CheckpointError(f"{name} is a Python pickle; {why}")


def _read_header(raw: bytes, name: str) -> dict:
    if len(raw) < 8:
        raise CheckpointError(f"{name} is not a checkpoint: {len(raw)} bytes is too short for a safetensors header")
    (size,) = struct.unpack("<Q", raw[:8])
    if size > len(raw) - 8:
        raise CheckpointError(f"{name} is not a readable safetensors file: its header claims {size} bytes but the "
                              f"file has {len(raw) - 8} after the size field; it is truncated or not a checkpoint")
    try:
        header = json.loads(raw[8:8 + size])
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CheckpointError(f"{name} is not a readable safetensors file: its header is not JSON; it is "
                              f"corrupt or not a checkpoint") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{name} is not a readable safetensors file: its header is not a JSON object")
    return header


def _tensor(array):
    from .tensor import from_numpy
    return from_numpy(np.array(array))  # own, writable memory


def _location_mapper(map_location):
    from .device import device as ember_device
    if map_location is None:
        return lambda t, saved: t if saved == "cpu" else t.to(saved)
    if callable(map_location) and not isinstance(map_location, (str, ember_device)):
        def call(t, saved):
            out = map_location(t, saved)
            return t if out is None else out
        return call
    if isinstance(map_location, dict):
        return lambda t, saved: t.to(map_location.get(saved, saved)) if map_location.get(saved, saved) != "cpu" else t
    target = ember_device(map_location)
    return lambda t, saved: t if target.type == "cpu" else t.to(target)


def _decode(node, arrays, mapper, cache, name):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):  # not produced by save; tolerate hand-written metadata
        return [_decode(v, arrays, mapper, cache, name) for v in node]
    if "tensor" in node or "ndarray" in node:
        key = node.get("tensor", node.get("ndarray"))
        if key not in arrays:
            raise CheckpointError(f"{name}: the structure names a tensor {key!r} that the file does not hold")
        if "ndarray" in node:
            return np.array(arrays[key])
        cache_key = (key, "parameter" in node)
        if cache_key in cache:
            return cache[cache_key]
        t = mapper(_tensor(arrays[key]), node.get("device", "cpu"))
        if "parameter" in node:
            from .nn.parameter import Parameter
            t = Parameter(t, requires_grad=node["parameter"])
        elif node.get("requires_grad"):
            t.requires_grad_(True)
        cache[cache_key] = t
        return t
    if "dict" in node:
        kind = OrderedDict if node.get("ordered") else dict
        return kind((k, _decode(v, arrays, mapper, cache, name)) for k, v in node["dict"])
    if "list" in node:
        return [_decode(v, arrays, mapper, cache, name) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, arrays, mapper, cache, name) for v in node["tuple"])
    if "float" in node:
        return float(node["float"])
    if "dtype" in node:
        from . import dtypes
        return dtypes.as_dtype(node["dtype"])
    if "device" in node:
        from .device import device as ember_device
        return ember_device(node["device"])
    raise CheckpointError(f"{name}: unknown entry in the checkpoint's structure: {json.dumps(node)[:80]}")
