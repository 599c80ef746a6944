"""``ember.utils``: helpers around training, as ``torch.utils``; ``ember.utils.data`` holds data loading."""

from . import data  # noqa: F401

__all__ = ["data"]


def __getattr__(name):
    # ``ember.utils.checkpoint`` and ``_pytree`` load on first use.
    if name in ("checkpoint", "_pytree"):
        from importlib import import_module
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'ember.utils' has no attribute {name!r}")
