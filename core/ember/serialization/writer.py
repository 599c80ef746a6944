"""``ember.save``: PyTorch's zip format (or, on request, its legacy format), written atomically to a path.

The zip holds ``archive/data.pkl`` (the pickle, see :mod:`.pickler`), ``archive/byteorder``,
``archive/data/<key>`` for each storage (uncompressed, its bytes aligned to 64 as PyTorch aligns
them, so that ``torch.load(mmap=True)`` can map them), ``archive/version`` and
``archive/.data/serialization_id``.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import sys
import zipfile

from .atomic import write_atomic
from .pickler import TorchNamesPickler

__all__ = ["save"]

_ALIGNMENT = 64
_CHUNK = 1 << 20
_FILE_FORMAT_VERSION = "3\n"


def save(obj, f, pickle_module=pickle, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False) -> None:
    """Write ``obj`` to ``f`` (a path or a writable binary file) in PyTorch's format (``torch.save``).

    Tensors, state dicts and optimizer state dicts are readable by ``torch.load(weights_only=True)``
    and ``ember.load``; any other picklable object (a whole ``nn.Module``) is pickled as PyTorch does and
    loads with ``weights_only=False``. ``_use_new_zipfile_serialization=False`` writes the legacy format.
    To a path the write is atomic: a temporary file in the same folder, fsynced, renamed over the
    target (a crash leaves the previous file, and the next save removes the dead writer's temporary);
    the file's mode is what ``open()`` would give (the umask's, or the existing file's).
    ``pickle_module`` must be Python's ``pickle`` (others are refused: the tensor names are ember's work).
    """
    if pickle_module is not pickle:
        raise ValueError("ember.save: only Python's pickle module is supported as pickle_module")
    if not 2 <= int(pickle_protocol) <= pickle.HIGHEST_PROTOCOL:
        raise ValueError(f"ember.save: pickle_protocol must be between 2 and {pickle.HIGHEST_PROTOCOL}, "
                         f"got {pickle_protocol}")
    write = _write_zip if _use_new_zipfile_serialization else _write_legacy

    def writer(handle):
        write(obj, handle, int(pickle_protocol), not _disable_byteorder_record)

    if hasattr(f, "write"):
        writer(f)
    else:
        write_atomic(os.fspath(f), writer)


def _pickle(obj, protocol: int, legacy: bool = False):
    buffer = io.BytesIO()
    pickler = TorchNamesPickler(buffer, protocol=protocol, legacy=legacy)
    pickler.dump(obj)
    return buffer.getvalue(), pickler.storages


def _write_zip(obj, handle, protocol: int, byteorder_record: bool) -> None:
    data, storages = _pickle(obj, protocol)
    target = handle if _seekable(handle) else _Tracked(handle)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        _add(archive, "archive/data.pkl", [data])
        if byteorder_record:
            _add(archive, "archive/byteorder", [sys.byteorder.encode()])
        for key, storage in storages.items():
            _add(archive, f"archive/data/{key}", _chunks(storage.array))
        _add(archive, "archive/version", [_FILE_FORMAT_VERSION.encode()])
        _add(archive, "archive/.data/serialization_id", [_serialization_id()])


def _seekable(handle) -> bool:
    try:
        return bool(handle.seekable()) and handle.tell() >= 0
    except (AttributeError, OSError, ValueError):
        return False


class _Tracked:
    """A stream (a pipe, a socket) that knows how much was written: zipfile places records by ``tell``
    and, as it cannot seek back, writes each record's sizes after its data."""

    def __init__(self, handle):
        self.handle = handle
        self.position = 0

    def write(self, data) -> int:
        written = self.handle.write(data)
        self.position += len(data)
        return written

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        if hasattr(self.handle, "flush"):
            self.handle.flush()


def _add(archive: zipfile.ZipFile, name: str, chunks) -> None:
    """One uncompressed record whose data starts at a multiple of 64 bytes (padding in the extra field)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    chunks = list(chunks) if not isinstance(chunks, list) else chunks
    size = sum(len(c) for c in chunks)
    info.file_size = size
    header_end = archive.fp.tell() + 30 + len(name.encode("utf-8"))
    zip64 = size * 1.05 > zipfile.ZIP64_LIMIT  # zipfile's own rule for a record of known size
    if zip64:
        header_end += 20  # zipfile adds its zip64 extra field to the local header
    padding = -(header_end + 4) % _ALIGNMENT
    info.extra = b"FB" + struct.pack("<H", padding) + b"Z" * padding
    with archive.open(info, "w", force_zip64=zip64) as record:
        for chunk in chunks:
            record.write(chunk)


def _chunks(array):
    view = memoryview(array.reshape(-1).view("u1")) if array.size else memoryview(b"")
    return [view[i:i + _CHUNK] for i in range(0, len(view), _CHUNK)]


def _serialization_id() -> bytes:
    return str(int.from_bytes(os.urandom(16), "little")).zfill(40)[:40].encode()


def _write_legacy(obj, handle, protocol: int, byteorder_record: bool) -> None:
    from .torch_legacy import MAGIC_NUMBER, PROTOCOL_VERSION
    data, storages = _pickle(obj, protocol, legacy=True)
    sys_info = {"protocol_version": PROTOCOL_VERSION, "little_endian": sys.byteorder == "little",
                "type_sizes": {"short": 2, "int": 4, "long": 8}}
    for header in (MAGIC_NUMBER, PROTOCOL_VERSION, sys_info):
        pickle.dump(header, handle, protocol=protocol)
    handle.write(data)
    pickle.dump(list(storages), handle, protocol=protocol)
    for storage in storages.values():
        handle.write(struct.pack("=q", storage.array.size))
        for chunk in _chunks(storage.array):
            handle.write(chunk)
