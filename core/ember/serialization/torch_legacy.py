"""PyTorch's legacy checkpoint format (``torch.save`` before 1.6, or ``_use_new_zipfile_serialization=False``).

One stream of five pickles and then raw bytes: a magic number, a protocol version (1001), a dict of
system facts (byte order, type sizes), the object itself (tensors as persistent ids naming storages),
the list of storage keys in the order their bytes follow; then for each storage an int64 element
count and its elements. The object comes before the bytes, so storages are allocated first (their
declared sizes checked against what is left of the file) and filled once the key list is read.
"""

from __future__ import annotations

import numpy as np

from .errors import CheckpointError
from .torch_objects import RAW_NUMPY, LoadedStorage, StorageType
from .unpickler import WeightsOnlyUnpickler, full_unpickler

__all__ = ["load_legacy", "MAGIC_NUMBER", "PROTOCOL_VERSION"]

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001


class _LegacyStorages:
    """``persistent_load`` for the legacy format: storages allocated now, filled after the pickle."""

    def __init__(self, source, byteorder: str, full: bool):
        self.source, self.byteorder, self.full = source, byteorder, full
        self.roots: dict[str, LoadedStorage] = {}
        self.views: dict[str, LoadedStorage] = {}
        self.declared = 0

    def __call__(self, pid):
        name = self.source.name
        if type(pid) is not tuple or not pid:
            raise CheckpointError(f"{name}: a persistent id must be a tuple, got {type(pid).__name__}")
        kind = pid[0].decode("ascii", "replace") if isinstance(pid[0], bytes) else pid[0]
        if kind == "module" and self.full and len(pid) >= 2:
            return pid[1]  # a whole module pickled by old PyTorch: its class (source check skipped)
        if kind != "storage" or len(pid) != 6:
            raise CheckpointError(f"{name}: a persistent id must be ('storage', type, key, location, numel, view), "
                                  f"got {kind!r} with {len(pid)} fields")
        _, storage_type, key, location, numel, view = pid
        location = location.decode("ascii", "replace") if isinstance(location, bytes) else location
        if not isinstance(storage_type, StorageType):
            raise CheckpointError(f"{name}: a storage's type must be a torch storage class, got "
                                  f"{type(storage_type).__name__}")
        if type(key) is not str or type(location) is not str or type(numel) is not int or numel < 0:
            raise CheckpointError(f"{name}: malformed storage id (key {key!r:.40}, location {location!r:.40}, "
                                  f"numel {numel!r:.40})")
        root = self.roots.get(key)
        if root is None:
            root = LoadedStorage(key, storage_type.dtype_name, numel, location, name)
            self.declared += root.nbytes + 8
            if self.declared > self.source.remaining():
                raise CheckpointError(f"{name}: storages declare {self.declared} bytes but only "
                                      f"{self.source.remaining()} remain in the file; it is truncated or corrupt")
            root.set_bytes(bytearray(root.nbytes), self.byteorder)
            self.roots[key] = root
        if view is None:
            return root
        return self._view(root, view)

    def _view(self, root, view):
        name = self.source.name
        if type(view) is not tuple or len(view) != 3:
            raise CheckpointError(f"{name}: a storage view must be (key, offset, size), got {type(view).__name__}")
        view_key, offset, size = view
        if type(offset) is not int or type(size) is not int or offset < 0 or size < 0 or offset + size > root.numel:
            raise CheckpointError(f"{name}: storage view {view_key!r:.40} (offset {offset!r:.20}, size {size!r:.20}) "
                                  f"lies outside storage {root.key} of {root.numel} elements")
        if view_key not in self.views:
            part = LoadedStorage(str(view_key), root.dtype_name, size, root.location, name)
            part.array = root.array[offset:offset + size]
            self.views[view_key] = part
        return self.views[view_key]

    def fill(self, keys) -> None:
        """Read each storage's bytes, in the order of ``keys`` (the list pickled after the object)."""
        name = self.source.name
        if type(keys) is not list or any(type(k) is not str for k in keys):
            raise CheckpointError(f"{name}: the storage key list must be a list of strings, got {type(keys).__name__}")
        if sorted(keys) != sorted(self.roots):
            missing = sorted(set(self.roots) - set(keys))[:3]
            extra = sorted(set(keys) - set(self.roots))[:3]
            raise CheckpointError(f"{name}: the storage key list does not match the storages the object uses "
                                  f"(without data: {missing}, unused: {extra})")
        count_format = "<q" if self.byteorder == "little" else ">q"
        for key in keys:
            storage = self.roots[key]
            (count,) = np.frombuffer(self.source.read_exact(8, f"the size of storage {key}"), count_format)
            if int(count) != storage.numel:
                raise CheckpointError(f"{name}: storage {key} holds {int(count)} elements but the object declared "
                                      f"{storage.numel}")
            self._read(storage)

    def _read(self, storage) -> None:
        raw_dtype = np.dtype(RAW_NUMPY[storage.dtype_name])
        if storage.array.dtype == raw_dtype and self.byteorder == _native():
            self.source.read_into(memoryview(storage.array).cast("B"), f"the data of storage {storage.key}")
            return
        raw = self.source.read_exact(storage.nbytes, f"the data of storage {storage.key}")
        scratch = LoadedStorage(storage.key, storage.dtype_name, storage.numel, storage.location, storage.file)
        scratch.set_bytes(raw, self.byteorder)
        storage.array[...] = scratch.array


def _native() -> str:
    import sys
    return sys.byteorder


def _small_pickle(source, what: str, encoding: str):
    return WeightsOnlyUnpickler(source, source.name, None, encoding).load()


def load_legacy(source, *, weights_only: bool, encoding: str, pickle_kwargs: dict):
    """The object in a legacy checkpoint and its storages (for ``map_location``)."""
    name = source.name
    try:
        magic = _small_pickle(source, "magic number", encoding)
    except CheckpointError:
        magic = None
    if magic != MAGIC_NUMBER:
        raise CheckpointError(f"{name} is a pickle but not a PyTorch checkpoint (no legacy magic number); "
                              f"ember.load reads torch.save files and safetensors")
    version = _small_pickle(source, "protocol version", encoding)
    if version != PROTOCOL_VERSION:
        raise CheckpointError(f"{name}: unknown legacy protocol version {version!r:.40} (expected {PROTOCOL_VERSION})")
    info = _small_pickle(source, "system info", encoding)
    if not isinstance(info, dict) or not isinstance(info.get("little_endian", True), bool):
        raise CheckpointError(f"{name}: the legacy header's system info is not a dict with little_endian")
    byteorder = "little" if info.get("little_endian", True) else "big"
    storages = _LegacyStorages(source, byteorder, full=not weights_only)
    if weights_only:
        result = WeightsOnlyUnpickler(source, name, storages, encoding).load()
    else:
        unpickler = full_unpickler(_FileView(source), name, storages, encoding, **pickle_kwargs)
        result = unpickler.load()
    keys = _small_pickle(source, "storage keys", encoding)
    storages.fill(keys)
    return result, list(storages.roots.values()) + list(storages.views.values())


class _FileView:
    """``read``/``readline`` of the Source's handle, for Python's own unpickler."""

    def __init__(self, source):
        self.read, self.readline = source.handle.read, source.handle.readline
