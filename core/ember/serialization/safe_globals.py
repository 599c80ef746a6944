"""The user's additions to the ``weights_only`` allow-list (``torch.serialization.add_safe_globals``).

An entry is a class or function, found in a pickle under ``f"{obj.__module__}.{obj.__qualname__}"``,
or a pair ``(obj, "module.name")`` for an object pickled under another name.
"""

from __future__ import annotations

import threading

__all__ = ["add_safe_globals", "safe_globals", "get_safe_globals", "clear_safe_globals", "user_allowed"]

_lock = threading.Lock()
_marked: list = []


def add_safe_globals(safe_globals: list) -> None:
    """Allow these classes/functions in ``ember.load(weights_only=True)`` (``torch.serialization.add_safe_globals``)."""
    with _lock:
        for entry in safe_globals:
            _check_entry(entry)
            if entry not in _marked:
                _marked.append(entry)


def get_safe_globals() -> list:
    """The entries added with :func:`add_safe_globals` (``torch.serialization.get_safe_globals``)."""
    with _lock:
        return list(_marked)


def clear_safe_globals() -> None:
    """Forget every entry added with :func:`add_safe_globals` (``torch.serialization.clear_safe_globals``)."""
    with _lock:
        _marked.clear()


class safe_globals:  # noqa: N801 - PyTorch's name
    """``with safe_globals([Cls]):`` allows ``Cls`` for the block only (``torch.serialization.safe_globals``)."""

    def __init__(self, safe_globals: list):
        self.safe_globals = list(safe_globals)
        self._added: list = []

    def __enter__(self):
        with _lock:
            for entry in self.safe_globals:
                _check_entry(entry)
                if entry not in _marked:
                    _marked.append(entry)
                    self._added.append(entry)
        return self

    def __exit__(self, *exc_info):
        with _lock:
            for entry in self._added:
                if entry in _marked:
                    _marked.remove(entry)
        self._added = []
        return False


def _check_entry(entry) -> None:
    if isinstance(entry, tuple):
        if len(entry) != 2:
            raise ValueError(f"add_safe_globals: expected (global, 'module.name'), got a tuple of length {len(entry)}")
        if not isinstance(entry[1], str):
            raise TypeError(f"add_safe_globals: the second item of {entry!r} must be the full name as a str, "
                            f"got {type(entry[1]).__name__}")
    elif not (hasattr(entry, "__module__") and hasattr(entry, "__qualname__")):
        raise TypeError(f"add_safe_globals: expected classes or functions (or (obj, 'module.name') pairs), "
                        f"got {entry!r}")


def user_allowed() -> dict:
    """``"module.name" -> object`` for every entry added by the user."""
    allowed = {}
    for entry in get_safe_globals():
        if isinstance(entry, tuple):
            allowed[entry[1]] = entry[0]
        else:
            allowed[f"{entry.__module__}.{entry.__qualname__}"] = entry
    return allowed
