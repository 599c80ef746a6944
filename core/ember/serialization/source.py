"""A bounded reader over a checkpoint file: every read is checked against the bytes really there.

Checkpoint formats declare sizes (a string's length, a storage's element count) before the data. A
crafted file can declare terabytes; reading what it declares would exhaust memory before anything
noticed. :class:`Source` knows the file's size up front and refuses a read that goes past its end,
naming the file and what was being read, so no allocation is ever larger than the file itself.
"""

from __future__ import annotations

import os
import stat

from .errors import CheckpointError

__all__ = ["Source", "open_source"]

_CHUNK = 1 << 24


class Source:
    """A seekable binary file with a known size; ``name`` is used in every error message."""

    def __init__(self, handle, name: str, owned: bool):
        self.handle, self.name, self.owned = handle, name, owned
        self.start = handle.tell()
        end = handle.seek(0, os.SEEK_END)
        handle.seek(self.start)
        self.size = end - self.start

    def tell(self) -> int:
        return self.handle.tell() - self.start

    def seek(self, position: int) -> None:
        self.handle.seek(self.start + position)

    def remaining(self) -> int:
        return self.size - self.tell()

    def read_exact(self, n: int, what: str) -> bytes:
        """Exactly ``n`` bytes, or a CheckpointError saying that ``what`` runs past the end of the file."""
        if n < 0 or n > self.remaining():
            raise CheckpointError(f"{self.name}: {what} declares {n} bytes but only {max(self.remaining(), 0)} "
                                  f"remain in the file; it is truncated or corrupt")
        data = self.handle.read(n)
        if len(data) != n:
            raise CheckpointError(f"{self.name}: {what} is cut short ({len(data)} of {n} bytes); the file is truncated")
        return data

    def readline(self, what: str, limit: int = 1 << 16) -> bytes:
        """One line (with its newline) of at most ``limit`` bytes; a CheckpointError when there is none."""
        start = self.tell()
        chunk = self.handle.read(min(limit, max(self.remaining(), 0)))
        end = chunk.find(b"\n")
        if end < 0:
            raise CheckpointError(f"{self.name}: {what} has no end of line; the file is truncated or corrupt")
        self.seek(start + end + 1)
        return chunk[:end + 1]

    def read_into(self, buffer: memoryview, what: str) -> None:
        """Fill ``buffer`` from the file, in chunks (no second copy of a large storage)."""
        if buffer.nbytes > self.remaining():
            raise CheckpointError(f"{self.name}: {what} declares {buffer.nbytes} bytes but only "
                                  f"{max(self.remaining(), 0)} remain in the file; it is truncated or corrupt")
        done = 0
        while done < buffer.nbytes:
            got = self.handle.readinto(buffer[done:done + _CHUNK])
            if not got:
                raise CheckpointError(f"{self.name}: {what} is cut short; the file is truncated")
            done += got

    def close(self) -> None:
        if self.owned:
            self.handle.close()


def open_source(f) -> Source:
    """A :class:`Source` for a path or a seekable binary file object (``torch.load`` accepts both)."""
    if hasattr(f, "read"):
        name = str(getattr(f, "name", "<file object>"))
        if not (hasattr(f, "seek") and getattr(f, "seekable", lambda: True)()):
            raise CheckpointError(f"{name}: ember.load needs a seekable file (as torch.load does); read the "
                                  f"stream into io.BytesIO first")
        return Source(f, name, owned=False)
    name = os.fspath(f)
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    try:
        mode = os.stat(name).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{name}: no such checkpoint file") from None
    if stat.S_ISDIR(mode):
        raise CheckpointError(f"{name} is a directory, not a checkpoint file")
    if not stat.S_ISREG(mode):
        raise CheckpointError(f"{name} is not a regular file (a device, pipe or socket), so it cannot be a "
                              f"checkpoint")
    return Source(open(name, "rb"), name, owned=True)
