"""The two ways ``ember.load`` refuses a file.

``CheckpointError``: the file is not a checkpoint ember can read (corrupt, truncated, crafted, a
directory): one message naming the file and what is wrong. It is a ``RuntimeError`` (what
``torch.load`` raises for a broken archive) and a ``ValueError`` (what ember's CLI reports in one line).

``WeightsOnlyError``: a ``pickle.UnpicklingError``, as ``torch.load(weights_only=True)`` raises, for a
pickle that asks for a global (or an operation) outside the allow-list; nothing it names was run.
"""

from __future__ import annotations

import pickle

__all__ = ["CheckpointError", "WeightsOnlyError"]


class CheckpointError(RuntimeError, ValueError):
    """A file that ``ember.load`` will not or cannot read: corrupt, truncated or crafted."""


class WeightsOnlyError(pickle.UnpicklingError, CheckpointError):
    """A pickle refused by the ``weights_only`` unpickler (``pickle.UnpicklingError``, as in PyTorch)."""
