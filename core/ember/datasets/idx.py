"""Reading IDX files (the format of MNIST and Fashion-MNIST), raw or gzipped, with errors that say what is wrong."""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

__all__ = ["read_idx", "write_idx", "IDXFormatError"]

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


class IDXFormatError(ValueError):
    """A file that is not a well-formed IDX file (bad header, truncated, corrupt gzip stream)."""


def read_idx(path) -> np.ndarray:
    """The array stored in the IDX file ``path`` (``.gz`` is decompressed); IDXFormatError if malformed."""
    path = os.fspath(path)
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            with open(path, "rb") as f:
                raw = f.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise IDXFormatError(f"{path} is not a readable gzip file ({exc}); re-download or unpack it") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise IDXFormatError(f"{path} is not an IDX file: its header is {raw[:4].hex() or 'empty'}, expected "
                             f"0000 followed by a type code and the number of dimensions")
    dtype, ndim = np.dtype(_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXFormatError(f"{path} is truncated: {len(raw)} bytes, the header alone needs {header}")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, 4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise IDXFormatError(f"{path} holds {len(raw)} bytes but its header (shape {shape}, {dtype}) says "
                             f"{expected}; the file is truncated or corrupt")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file (gzipped when ``path`` ends in ``.gz``); used to make test data."""
    array = np.asarray(array)
    code = {np.dtype(v).newbyteorder(">") if np.dtype(v).itemsize > 1 else np.dtype(v): k
            for k, v in _TYPES.items()}
    big = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    if big not in code:
        raise TypeError(f"write_idx: dtype {array.dtype} has no IDX type code")
    body = bytes([0, 0, code[big], array.ndim]) + np.asarray(array.shape, ">u4").tobytes() + array.astype(big).tobytes()
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(body)
