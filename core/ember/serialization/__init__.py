"""``ember.save`` / ``ember.load``: PyTorch's checkpoint formats, read and written without torch, safely.

``ember.load`` reads what ``torch.save`` writes (the zip format, and the legacy format of PyTorch < 1.6),
safetensors files, and checkpoints of earlier ember versions. By default (``weights_only=True``, as in
PyTorch 2.6+) the pickle inside is read by ember's own restricted unpickler, which refuses any global
a state dict does not need before it could run; ``weights_only=False`` is the explicit opt-in to a full
pickle load, for files you trust. ``ember.save`` writes PyTorch's zip format (``torch.load`` reads it),
atomically when given a path.

Every malformed file is one :class:`CheckpointError` naming the file and what is wrong; refused globals
are :class:`WeightsOnlyError`, a ``pickle.UnpicklingError`` as PyTorch raises. Sizes declared in a file
are checked against the file's size before anything of that size is allocated.
"""

from __future__ import annotations

from .errors import CheckpointError, WeightsOnlyError
from .safe_globals import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from .source import open_source
from .writer import save

__all__ = ["save", "load", "CheckpointError", "WeightsOnlyError", "add_safe_globals", "safe_globals",
           "get_safe_globals", "clear_safe_globals", "get_unsafe_globals_in_checkpoint"]

_HEAD = 512


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """The object saved in ``f`` (a path or a seekable binary file), as ``torch.load``.

    Formats: PyTorch zip (``torch.save``), PyTorch legacy (``_use_new_zipfile_serialization=False``,
    PyTorch < 1.6), safetensors, and earlier ember checkpoints. Tensors sharing a storage share memory;
    strided views keep their strides. bfloat16 tensors load as float32 when ember has no bfloat16.

    ``weights_only`` (default True; False when a ``pickle_module`` is given, as in PyTorch): only
    tensors, containers, numbers, strings, ``torch.Size``, dtypes and what :func:`add_safe_globals`
    allowed; anything else raises :class:`WeightsOnlyError` naming the global, without running it.
    ``map_location``: None (each storage back to its saved device), a device or string, a dict
    ``{saved: new}``, or a callable ``(storage, location) -> storage or None``. ``mmap=True`` maps the
    storages of a zip checkpoint from the file (copy-on-write) instead of reading them.
    ``pickle_load_args``: ``encoding`` for Python 2 strings (default ``"utf-8"``).

    Raises FileNotFoundError for a missing path, CheckpointError for anything that is not a readable
    checkpoint (a directory, a device, a truncated or crafted file).
    """
    if weights_only is None:
        weights_only = pickle_module is None
    if weights_only and pickle_module is not None:
        raise RuntimeError("ember.load: cannot load weights safely with an explicit pickle_module; pass "
                           "weights_only=False if you trust the file")
    encoding = pickle_load_args.pop("encoding", "utf-8")
    source = open_source(f)
    try:
        result, storages = _load(source, map_location, bool(weights_only), mmap, encoding, pickle_load_args)
    except (CheckpointError, MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:
        if not weights_only:  # the file's own classes ran: their errors are theirs, as in torch.load
            raise
        raise CheckpointError(f"{source.name}: cannot be read as a checkpoint ({type(exc).__name__}: "
                              f"{str(exc)[:200]})") from None
    finally:
        source.close()
    if storages is not None:
        from .locations import apply_map_location
        apply_map_location(storages, map_location, source.name)
    return result


def _load(source, map_location, weights_only, mmap, encoding, pickle_kwargs):
    """``(object, storages)``; storages is None when ``map_location`` was already applied."""
    from .safetensors_format import load_safetensors, looks_like_safetensors
    head = source.read_exact(min(_HEAD, source.size), "the file header")
    source.seek(0)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        from .torch_zip import load_zip
        mmap_path = source.name if mmap and source.owned else None
        if mmap and not source.owned:
            raise CheckpointError(f"{source.name}: mmap=True needs a path, not a file object (as torch.load)")
        result, storages = load_zip(source, weights_only=weights_only, mmap_path=mmap_path, encoding=encoding,
                                    pickle_kwargs=pickle_kwargs)
    elif head[:1] == b"\x80" and len(head) > 1 and head[1] <= 5:
        if mmap:
            raise CheckpointError(f"{source.name}: mmap=True needs the zip format; this is PyTorch's legacy "
                                  f"format (as torch.load refuses it)")
        from .torch_legacy import load_legacy
        result, storages = load_legacy(source, weights_only=weights_only, encoding=encoding,
                                       pickle_kwargs=pickle_kwargs)
    elif len(head) > 262 and head[257:262] == b"ustar":
        raise CheckpointError(f"{source.name} is a tar checkpoint of PyTorch < 0.4, which ember does not read; "
                              f"re-save it with a newer PyTorch")
    elif looks_like_safetensors(head, source.size):
        return load_safetensors(source, map_location), None
    else:
        raise CheckpointError(f"{source.name} is not a checkpoint: it is neither a PyTorch file (zip or legacy "
                              f"pickle) nor safetensors ({source.size} bytes starting {head[:8]!r})")
    return result, storages


def get_unsafe_globals_in_checkpoint(f) -> list:
    """The globals in a zip checkpoint that ``weights_only=True`` would refuse, sorted, found without
    running anything (``torch.serialization.get_unsafe_globals_in_checkpoint``)."""
    from .safe_globals import user_allowed
    from .torch_objects import resolve
    from .torch_zip import read_pickle
    from .unpickler import globals_in_pickle
    source = open_source(f)
    try:
        data = read_pickle(source)
    finally:
        source.close()
    allowed = user_allowed()
    return sorted(g for g in globals_in_pickle(data, source.name) if resolve(g) is None and g not in allowed)
