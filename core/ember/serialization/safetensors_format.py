"""Reading safetensors files, and checkpoints written by earlier ember versions (safetensors + JSON structure).

A safetensors file is an 8-byte little-endian header size, a JSON header naming each tensor's dtype,
shape and byte range, then the bytes. The header size and every byte range are checked against the
file's size before the data is read. Earlier ``ember.save`` kept the object's structure (dicts,
lists, numbers) as JSON in the header's metadata; such files still load as they were saved.
"""

from __future__ import annotations

import json
import struct
from collections import OrderedDict

import numpy as np

from .errors import CheckpointError

__all__ = ["looks_like_safetensors", "load_safetensors"]

FORMAT = "ember.checkpoint/1"
_FORMAT_KEY = "format"
_STRUCTURE_KEY = "ember.structure"
_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
           "U8": "u1", "BOOL": "?", "BF16": "<u2", "U16": "<u2", "U32": "<u4", "U64": "<u8"}


def looks_like_safetensors(head: bytes, size: int) -> bool:
    """Whether the first bytes of a file of ``size`` bytes start a safetensors header (its sizes are
    checked when it is read)."""
    return len(head) >= 9 and head[8:9] == b"{"


def _header(source) -> tuple[dict, int]:
    name = source.name
    if source.size < 8:
        raise CheckpointError(f"{name} is not a checkpoint: {source.size} bytes is too short for any format")
    (size,) = struct.unpack("<Q", source.read_exact(8, "the safetensors header size"))
    if size > source.size - 8:
        raise CheckpointError(f"{name} is not a readable safetensors file: its header claims {size} bytes but the "
                              f"file has {source.size - 8} after the size field; it is truncated or not a checkpoint")
    try:
        header = json.loads(source.read_exact(size, "the safetensors header"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise CheckpointError(f"{name} is not a readable safetensors file: its header is not JSON; it is "
                              f"corrupt or not a checkpoint") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{name} is not a readable safetensors file: its header is not a JSON object")
    return header, 8 + size


def _arrays(source, header: dict, data_start: int) -> dict:
    name = source.name
    data_size = source.size - data_start
    arrays = {}
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        try:
            dtype = np.dtype(_DTYPES[entry["dtype"]])
            shape = tuple(int(d) for d in entry["shape"])
            begin, end = (int(x) for x in entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise CheckpointError(f"{name}: safetensors entry {key!r:.60} is malformed (dtype, shape and "
                                  f"data_offsets expected)") from None
        count = int(np.prod(shape, dtype=object)) if shape else 1
        if min(shape, default=0) < 0 or not 0 <= begin <= end <= data_size or (end - begin) != count * dtype.itemsize:
            raise CheckpointError(f"{name}: safetensors entry {key!r:.60} (shape {shape}, bytes {begin}..{end}) does "
                                  f"not fit the {data_size} data bytes of the file; it is corrupt or truncated")
        source.seek(data_start + begin)
        buffer = bytearray(end - begin)
        source.read_into(memoryview(buffer), f"tensor {key!r:.60}")
        array = np.frombuffer(buffer, dtype=dtype).reshape(shape)
        if entry["dtype"] == "BF16":
            from .torch_objects import _to_ember_array
            array = _to_ember_array(array.reshape(-1), "bfloat16", name).reshape(shape)
        arrays[key] = array.astype(array.dtype.newbyteorder("=")) if not array.dtype.isnative else array
    return arrays


def load_safetensors(source, map_location):
    """The object in a safetensors file: ember's saved structure, or a dict name -> tensor in file order."""
    header, data_start = _header(source)
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise CheckpointError(f"{source.name}: the safetensors metadata is not a JSON object")
    arrays = _arrays(source, header, data_start)
    mapper = _location_mapper(map_location)
    if metadata.get(_FORMAT_KEY) != FORMAT or _STRUCTURE_KEY not in metadata:
        order = sorted(arrays, key=lambda k: header[k]["data_offsets"][0])
        return {k: mapper(_tensor(arrays[k], source.name), "cpu") for k in order}
    try:
        structure = json.loads(metadata[_STRUCTURE_KEY])
        return _decode(structure, arrays, mapper, {}, source.name)
    except CheckpointError:
        raise
    except RecursionError:
        raise CheckpointError(f"{source.name}: the checkpoint's structure metadata nests too deeply") from None
    except Exception as exc:
        raise CheckpointError(f"{source.name}: the checkpoint's structure metadata is malformed "
                              f"({type(exc).__name__}: {str(exc)[:100]})") from None


def _tensor(array, name):
    from .. import dtypes
    from ..creation import from_numpy
    if array.dtype not in dtypes.FROM_NUMPY:
        raise CheckpointError(f"{name}: a tensor has dtype {array.dtype}, which ember does not support")
    return from_numpy(array)


def _location_mapper(map_location):
    from ..device import device as ember_device
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
    """Earlier ember's JSON structure back to objects (its tensors from ``arrays``)."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(v, arrays, mapper, cache, name) for v in node]
    if not isinstance(node, dict):
        raise CheckpointError(f"{name}: unknown entry in the checkpoint's structure: {type(node).__name__}")
    if "tensor" in node or "ndarray" in node:
        key = node.get("tensor", node.get("ndarray"))
        if not isinstance(key, str) or key not in arrays:
            raise CheckpointError(f"{name}: the structure names a tensor {key!r:.60} that the file does not hold")
        if "ndarray" in node:
            return np.array(arrays[key])
        cache_key = (key, "parameter" in node)
        if cache_key in cache:
            return cache[cache_key]
        device = node.get("device", "cpu")
        if not isinstance(device, str):
            raise CheckpointError(f"{name}: tensor {key!r:.60} has a device that is not a string")
        t = mapper(_tensor(arrays[key], name), device)
        if "parameter" in node:
            from ..nn.parameter import Parameter
            t = Parameter(t, requires_grad=bool(node["parameter"]) and t.dtype.is_floating_point)
        elif node.get("requires_grad") is True and t.dtype.is_floating_point:
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
        from .. import dtypes
        return dtypes.as_dtype(node["dtype"])
    if "device" in node:
        from ..device import device as ember_device
        return ember_device(node["device"])
    raise CheckpointError(f"{name}: unknown entry in the checkpoint's structure: {json.dumps(node)[:80]}")
