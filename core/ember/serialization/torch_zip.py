"""PyTorch's zip checkpoint format (``torch.save`` since 1.6): reading it.

The archive holds one folder (any name) with ``data.pkl`` (the pickled object, tensors as persistent
ids naming storages), ``data/<key>`` (each storage's raw bytes, stored uncompressed), ``byteorder``
and ``version``. Every size the archive declares is checked against the file before anything is
allocated; storages are read straight into their arrays, or memory-mapped with ``mmap=True``.
"""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np

from .errors import CheckpointError
from .torch_objects import LoadedStorage, StorageType
from .unpickler import BytesReader, WeightsOnlyUnpickler, full_unpickler

__all__ = ["load_zip", "read_pickle"]

_MAX_DEFLATE_RATIO = 1032  # deflate cannot expand data more than this: a bigger declared size is a lie
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")


def _open_archive(source) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source.handle, "r")
    except Exception as exc:  # zipfile's errors on damaged directories are many (NotImplementedError too)
        raise CheckpointError(f"{source.name}: not a readable zip archive ({exc}); the file is truncated or "
                              f"corrupt") from None


def _find_prefix(archive: zipfile.ZipFile, name: str) -> str:
    names = archive.namelist()
    pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1] + \
              [n for n in names if n == "data.pkl"]
    if not pickles:
        if any(n.endswith("constants.pkl") for n in names):
            raise CheckpointError(f"{name} is a TorchScript archive (torch.jit.save); ember.load reads checkpoints "
                                  f"written by torch.save")
        raise CheckpointError(f"{name} is a zip archive without data.pkl, so not a checkpoint written by torch.save")
    if len(pickles) > 1:
        raise CheckpointError(f"{name}: the archive holds {len(pickles)} data.pkl records; a checkpoint has one")
    return pickles[0][:-len("data.pkl")]


def _record(archive, prefix: str, record: str, name: str, required: bool = True):
    try:
        return archive.getinfo(prefix + record)
    except KeyError:
        if required:
            raise CheckpointError(f"{name}: the archive has no record {record!r}") from None
        return None


def _check_extent(info, source) -> None:
    """The record's declared sizes fit in the file (before anything of that size is allocated)."""
    room = source.size - info.header_offset - _LOCAL_HEADER.size - len(info.filename)
    if info.compress_size > room:
        raise CheckpointError(f"{source.name}: record {info.filename} declares {info.compress_size} bytes but the "
                              f"file has {max(room, 0)} after its header; the file is truncated")
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise CheckpointError(f"{source.name}: record {info.filename} is stored but declares two sizes "
                                  f"({info.file_size} and {info.compress_size})")
    elif info.file_size > info.compress_size * _MAX_DEFLATE_RATIO + 1024:
        raise CheckpointError(f"{source.name}: record {info.filename} declares {info.file_size} bytes from "
                              f"{info.compress_size} compressed, more than compression can produce")


def _read_small(archive, info, source, limit: int | None = None) -> bytes:
    _check_extent(info, source)
    if limit is not None and info.file_size > limit:
        raise CheckpointError(f"{source.name}: record {info.filename} is {info.file_size} bytes, more than a "
                              f"{limit}-byte record can be")
    try:
        with archive.open(info) as handle:
            return handle.read()
    except Exception as exc:  # CRC mismatch, bad local header, unknown compression...
        raise CheckpointError(f"{source.name}: record {info.filename} cannot be read ({exc}); the file is "
                              f"truncated or corrupt") from None


def _data_offset(info, source) -> int:
    """Where a stored record's bytes start: after its local header, whose extra field may pad it."""
    source.seek(info.header_offset)
    header = _LOCAL_HEADER.unpack(source.read_exact(_LOCAL_HEADER.size, f"the local header of {info.filename}"))
    if header[0] != b"PK\x03\x04":
        raise CheckpointError(f"{source.name}: record {info.filename} has no local header where the directory "
                              f"says; the file is corrupt")
    name_length, extra_length = header[-2], header[-1]
    if source.read_exact(name_length, f"the local header of {info.filename}") != info.orig_filename.encode("utf-8"):
        raise CheckpointError(f"{source.name}: record {info.filename} points at the local header of another record; "
                              f"the archive is corrupt or crafted")
    start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    if start + info.file_size > source.size:
        raise CheckpointError(f"{source.name}: record {info.filename} ({info.file_size} bytes at {start}) runs past "
                              f"the end of the file ({source.size} bytes); the file is truncated")
    return start


class _ZipStorages:
    """``persistent_load`` for the zip format: each storage read (once) from ``data/<key>``."""

    def __init__(self, archive, prefix, source, byteorder, mmap_path):
        self.archive, self.prefix, self.source, self.byteorder = archive, prefix, source, byteorder
        self.mmap_path = mmap_path
        self.loaded: dict[str, LoadedStorage] = {}
        self.total = 0  # bytes of storages read so far: records that overlap cannot multiply the file

    def __call__(self, pid):
        name = self.source.name
        if type(pid) is not tuple or len(pid) != 5:
            raise CheckpointError(f"{name}: a persistent id must be ('storage', type, key, location, numel), got "
                                  f"{_short(pid)}")
        typename, storage_type, key, location, numel = pid
        typename = typename.decode("ascii", "replace") if isinstance(typename, bytes) else typename
        location = location.decode("ascii", "replace") if isinstance(location, bytes) else location
        if typename != "storage":
            raise CheckpointError(f"{name}: unknown persistent id kind {typename!r} (expected 'storage')")
        if not isinstance(storage_type, StorageType):
            raise CheckpointError(f"{name}: a storage's type must be a torch storage class, got {_short(storage_type)}")
        if type(key) is not str or type(location) is not str or type(numel) is not int or numel < 0:
            raise CheckpointError(f"{name}: malformed storage id (key {_short(key)}, location {_short(location)}, "
                                  f"numel {_short(numel)})")
        if key in self.loaded:
            return self.loaded[key]
        storage = LoadedStorage(key, storage_type.dtype_name, numel, location, name)
        info = _record(self.archive, self.prefix, f"data/{key}", name)
        if info.file_size != storage.nbytes:
            raise CheckpointError(f"{name}: storage {key} should hold {numel} {storage.dtype_name} elements "
                                  f"({storage.nbytes} bytes) but its record has {info.file_size} bytes")
        _check_extent(info, self.source)
        self.total += info.compress_size
        if self.total > self.source.size:
            raise CheckpointError(f"{name}: its storage records add up to {self.total} bytes, more than the file's "
                                  f"{self.source.size}; records overlap, the archive is crafted")
        storage.set_bytes(self._read(info, storage.nbytes), self.byteorder)
        self.loaded[key] = storage
        return storage

    def _read(self, info, nbytes: int):
        if info.compress_type != zipfile.ZIP_STORED:
            return bytearray(_read_small(self.archive, info, self.source))
        start = _data_offset(info, self.source)
        if self.mmap_path is not None and nbytes:
            return np.memmap(self.mmap_path, dtype=np.uint8, mode="c", offset=self.source.start + start,
                             shape=(nbytes,))
        buffer = bytearray(nbytes)
        self.source.seek(start)
        self.source.read_into(memoryview(buffer), f"storage record {info.filename}")
        return buffer


def _short(value) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"


def read_pickle(source) -> bytes:
    """The bytes of the archive's ``data.pkl``."""
    head = source.read_exact(min(4, source.size), "the file header")
    source.seek(0)
    if head != b"PK\x03\x04":
        raise CheckpointError(f"{source.name} is not a zip checkpoint (as torch.save writes since PyTorch 1.6)")
    archive = _open_archive(source)
    prefix = _find_prefix(archive, source.name)
    return _read_small(archive, _record(archive, prefix, "data.pkl", source.name), source)


def load_zip(source, *, weights_only: bool, mmap_path, encoding: str, pickle_kwargs: dict):
    """The object in a zip checkpoint and the storages it read (for ``map_location``)."""
    archive = _open_archive(source)
    prefix = _find_prefix(archive, source.name)
    byteorder_info = _record(archive, prefix, "byteorder", source.name, required=False)
    byteorder = "little"
    if byteorder_info is not None:
        byteorder = _read_small(archive, byteorder_info, source, limit=16).decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise CheckpointError(f"{source.name}: unknown byte order {byteorder!r} (expected 'little' or 'big')")
    data = _read_small(archive, _record(archive, prefix, "data.pkl", source.name), source)
    storages = _ZipStorages(archive, prefix, source, byteorder, mmap_path)
    if weights_only:
        result = WeightsOnlyUnpickler(BytesReader(data, source.name), source.name, storages, encoding).load()
    else:
        result = full_unpickler(io.BytesIO(data), source.name, storages, encoding, **pickle_kwargs).load()
    return result, list(storages.loaded.values())
