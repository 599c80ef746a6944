"""The views the core itself needs: ``Tensor.T``, ``mT``, ``H``, ``mH`` and ``adjoint``, from two
primitives, :class:`Permute` and :class:`Transpose`, that the ops plugin builds on too.

A view shares its input's memory and version counter (an in-place change through either is seen by
autograd's saved-tensor check), and keeps the input alive as ``_base``.
"""

from __future__ import annotations

from .primitive import Primitive, apply
from .tensor import Tensor, as_view

__all__ = ["Permute", "Transpose", "permute_view", "transpose_view"]


class Permute(Primitive):
    """Dimensions reordered by ``dims`` (a tuple of non-negative ints, one per dimension)."""

    @staticmethod
    def forward(xp, x, dims):
        return xp.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad, dims):
        inverse = [0] * len(dims)
        for position, dim in enumerate(dims):
            inverse[dim] = position
        return permute_view(grad, tuple(inverse))


class Transpose(Primitive):
    """Two dimensions (non-negative ints) swapped."""

    @staticmethod
    def forward(xp, x, dim0, dim1):
        return xp.swapaxes(x, dim0, dim1)

    @staticmethod
    def backward(ctx, grad, dim0, dim1):
        return transpose_view(grad, dim0, dim1)


def permute_view(x: Tensor, dims: tuple) -> Tensor:
    """``x`` with its dimensions reordered (checked ``dims``), as a view of ``x``."""
    return _as_view_of(apply(Permute, x, dims=dims), x)


def transpose_view(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """``x`` with dimensions ``dim0`` and ``dim1`` (non-negative) swapped, as a view of ``x``."""
    return _as_view_of(apply(Transpose, x, dim0=dim0, dim1=dim1), x)


def _as_view_of(result: Tensor, source: Tensor) -> Tensor:
    data, base = result._data, source._data
    if (data.base if data.base is not None else data) is (base.base if base.base is not None else base):
        as_view(result, source)
    return result


def _matrix_transpose(x: Tensor, what: str) -> Tensor:
    ndim = x._data.ndim
    if ndim < 2:
        raise RuntimeError(f"tensor.{what} is only supported on matrices or batches of matrices. Got {ndim}-D tensor.")
    return transpose_view(x, ndim - 2, ndim - 1)


def _T(self) -> Tensor:
    """All dimensions reversed (a view) (``Tensor.T``)."""
    return permute_view(self, tuple(range(self._data.ndim - 1, -1, -1)))


def _mT(self) -> Tensor:
    """The last two dimensions transposed (a view) (``Tensor.mT``); needs at least 2 dimensions."""
    return _matrix_transpose(self, "mT")


def _mH(self) -> Tensor:
    """The conjugate transpose of the last two dims: the transpose, for ember's real dtypes (``Tensor.mH``)."""
    return _matrix_transpose(self, "mH")


def _H(self) -> Tensor:
    """The conjugate transpose of a matrix: its transpose, for ember's real dtypes (``Tensor.H``)."""
    ndim = self._data.ndim
    if ndim != 2:
        hint = " For batches of matrices, consider using tensor.mH" if ndim > 2 else ""
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {ndim}-D tensor.{hint}")
    return transpose_view(self, 0, 1)


def _adjoint(self) -> Tensor:
    """``self.mH`` (``Tensor.adjoint``)."""
    return _matrix_transpose(self, "adjoint()")


# bound here: the tensor layer sits below primitives
Tensor.T, Tensor.mT, Tensor.mH, Tensor.H = property(_T), property(_mT), property(_mH), property(_H)
_adjoint.__name__ = _adjoint.__qualname__ = "adjoint"
Tensor.adjoint = _adjoint
