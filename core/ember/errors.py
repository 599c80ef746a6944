"""ember's exception types: each subclasses the built-in exceptions that PyTorch code already catches.

They sit at the bottom of the core, so every layer (tensors, factories, ops, plugins) raises the same
types; ``ember.ops`` re-exports them for plugin authors.
"""

from __future__ import annotations

__all__ = ["ShapeError", "DimensionError", "DTypeError", "ArgumentError", "OutOfRangeError", "LinAlgError"]


class ShapeError(RuntimeError):
    """Tensor shapes do not fit an op (PyTorch raises RuntimeError here, so this is one)."""


class DimensionError(ShapeError, IndexError, ValueError):
    """A tensor has too few (or too many) dimensions for an op. PyTorch raises IndexError for a 0-d tensor
    ("Dimension specified as 0 but tensor has no dimensions"), RuntimeError ("Expected 3D or 4D input")
    or ValueError depending on the op: this is all three."""


class DTypeError(TypeError, NotImplementedError):
    """A tensor's dtype is not one the op accepts. PyTorch raises RuntimeError here, or its subclass
    NotImplementedError where no kernel exists for the dtype; Python code expects TypeError: this is all
    three."""


class ArgumentError(ValueError, RuntimeError):
    """An argument has a value the op does not accept (PyTorch raises RuntimeError, Python code expects
    ValueError: this is both)."""


class OutOfRangeError(IndexError, RuntimeError):
    """An index or a dim is out of range (PyTorch raises IndexError or RuntimeError depending on the op:
    this is both)."""


class LinAlgError(RuntimeError):
    """A LAPACK routine failed on the values of its input: a matrix that is not positive-definite for
    ``cholesky``, an eigen or singular value iteration that does not converge on NaN or infinities
    (``torch.linalg.LinAlgError``, a RuntimeError)."""
