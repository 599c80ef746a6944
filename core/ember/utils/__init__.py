"""``ember.utils``: helpers around training, as ``torch.utils``; ``ember.utils.data`` holds data loading."""

from . import data  # noqa: F401

__all__ = ["data"]
