"""``ember.onnx``: importable so that scripts with an optional export step load; ember cannot export a
model to ONNX yet (it records no graph to translate), so :func:`export` raises a clear error."""

from __future__ import annotations

import enum

__all__ = ["export", "is_in_onnx_export", "TrainingMode", "OperatorExportTypes"]


class TrainingMode(enum.IntEnum):
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


class OperatorExportTypes(enum.IntEnum):
    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3


def export(model, args=(), f=None, *a, **kwargs):
    """Always raises NotImplementedError: ember has no ONNX exporter."""
    raise NotImplementedError(f"ember.onnx.export: ember cannot export {type(model).__name__} to ONNX (it has no "
                              f"graph tracer); save the weights with ember.save and export from PyTorch instead")


def is_in_onnx_export() -> bool:
    """False: ember never runs an ONNX export."""
    return False
