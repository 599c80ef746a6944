"""Triangles of matrices: tril and triu (the last two dims; the rest zero)."""

from __future__ import annotations

from ember.ops import DimensionError, ErrorInput, OpTable, Primitive, Sample, apply, check_tensor

ops = OpTable()


# -- triangles --------------------------------------------------------------------------------------

class Tril(Primitive):
    @staticmethod
    def forward(xp, x, diagonal):
        return xp.tril(x, diagonal)

    @staticmethod
    def backward(ctx, g, diagonal):
        return g.tril(diagonal)


class Triu(Primitive):
    @staticmethod
    def forward(xp, x, diagonal):
        return xp.triu(x, diagonal)

    @staticmethod
    def backward(ctx, g, diagonal):
        return g.triu(diagonal)


def _triangle_samples(make):
    yield Sample((make(3, 4),), name="matrix")
    yield Sample((make(3, 4), 1), name="above")
    yield Sample((make(2, 3, 3), -1), name="batched, below")
    yield Sample((make(4, 3, noncontiguous=True),), {"diagonal": 0}, name="non-contiguous")


def _triangle(op, prim, input, diagonal):
    check_tensor(op, "input", input)
    if input.array.ndim < 2:
        raise DimensionError(f"{op}(): input tensor must have at least 2 dimensions, got shape {tuple(input.shape)}")
    return apply(prim, input, diagonal=int(diagonal))


def _tril_errors(make):
    yield ErrorInput(Sample((make(3),)), RuntimeError, r"tril\(\): input tensor must have at least 2 dimensions")


@ops.op(primitive=Tril, inplace=True, samples=_triangle_samples, errors=_tril_errors)
def tril(input, diagonal=0):
    """The lower triangle (on and below ``diagonal``) of the last two dims, the rest zero (``torch.tril``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        DimensionError: ``input`` has fewer than 2 dims.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.tril``."""
    return _triangle("tril", Tril, input, diagonal)


@ops.op(primitive=Triu, inplace=True, samples=_triangle_samples)
def triu(input, diagonal=0):
    """The upper triangle (on and above ``diagonal``) of the last two dims, the rest zero (``torch.triu``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        DimensionError: ``input`` has fewer than 2 dims.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.triu``."""
    return _triangle("triu", Triu, input, diagonal)
