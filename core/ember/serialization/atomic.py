"""Writing a file so that readers see the old version or the new one, never half of one.

The bytes go to a temporary file beside the target, named ``.<target>.<pid>.<random>.tmp``; it is
fsynced and renamed over the target. A process killed mid-write leaves its temporary behind: the
next save of the same target removes temporaries whose writing process is gone. The new file gets
the mode ``open(path, "w")`` would give: the existing file's, or 0666 less the umask (``torch.save``'s).
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading

__all__ = ["write_atomic"]

_active: set = set()
_active_lock = threading.Lock()


def write_atomic(path: str, write) -> None:
    """Call ``write(handle)`` on a temporary file, then atomically replace ``path`` with it."""
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"ember.save: {path} is a directory")
    _remove_dead_temporaries(directory, base)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{base}.{os.getpid()}.", suffix=".tmp")
    with _active_lock:
        _active.add(tmp)
    try:
        if hasattr(os, "fchmod"):  # POSIX; elsewhere the temporary keeps the platform's default
            os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    finally:
        with _active_lock:
            _active.discard(tmp)
    _fsync_directory(directory)


def _mode_for(path: str) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no other way to read it; set back at once
    os.umask(mask)
    return mask


def _remove_dead_temporaries(directory: str, base: str) -> None:
    """Delete ``.<base>.<pid>.*.tmp`` left by writers that no longer run (killed mid-save)."""
    prefix = f".{base}."
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid_text = name[len(prefix):].split(".", 1)[0]
        if not pid_text.isdigit():
            continue
        full = os.path.join(directory, name)
        with _active_lock:
            if full in _active:
                continue
        if int(pid_text) != os.getpid() and _alive(int(pid_text)):
            continue
        try:
            if stat.S_ISREG(os.lstat(full).st_mode):
                os.unlink(full)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def _fsync_directory(directory: str) -> None:
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
