"""Lookup tables: ``embedding`` (rows of a weight matrix picked by index, ``padding_idx`` row frozen,
optional ``max_norm`` renormalisation) and ``one_hot``.

The gather and its gradient (a scatter-add into the table) are each other's adjoints, so the pair
gives derivatives of any order.
"""

from __future__ import annotations

from ember import dtypes
from ember.autograd.grad_mode import no_grad
from ember.ops import (ArgumentError, DTypeError, DimensionError, ErrorInput, OpTable, OutOfRangeError, Primitive,
                       Sample, ShapeError, apply, check_tensor)
from ember.ops import bump_version, wrap

from .shape import cat

ops = OpTable()


class Embedding(Primitive):
    """Rows ``weight[indices]``; with ``mask_padding`` the rows picked by ``padding_idx`` read as zero."""

    save_inputs = True

    @staticmethod
    def forward(xp, weight, indices, padding_idx, mask_padding):
        out = weight[indices]
        if mask_padding and padding_idx is not None:
            out = out * (indices != padding_idx)[..., None]
        return out

    @staticmethod
    def backward(ctx, g, padding_idx, mask_padding):
        rows = ctx.input_shapes[0][0]
        return apply(EmbeddingDenseBackward, g, ctx.inputs[1], rows=rows, padding_idx=padding_idx), None


class EmbeddingDenseBackward(Primitive):
    """``g`` rows summed into a zero table at ``indices``; the ``padding_idx`` row gets nothing."""

    save_inputs = True

    @staticmethod
    def forward(xp, g, indices, rows, padding_idx):
        dim = g.shape[-1]
        out = xp.zeros((rows, dim), dtype=g.dtype)
        xp.add.at(out, indices.ravel(), g.reshape(-1, dim))
        if padding_idx is not None:
            out[padding_idx] = 0
        return out

    @staticmethod
    def backward(ctx, gg, rows, padding_idx):
        return apply(Embedding, gg, ctx.inputs[1], padding_idx=padding_idx, mask_padding=True), None


def _check_indices(op, input, limit):
    check_tensor(op, "input", input)
    if input.dtype.is_floating_point or input.dtype is dtypes.bool:
        raise DTypeError(f"{op}(): expected input of an integer dtype (Long or Int), got {input.dtype}")
    data = input.array
    if data.size and (int(data.min()) < 0 or (limit is not None and int(data.max()) >= limit)):
        raise OutOfRangeError(f"{op}(): index out of range in self: indices must be in [0, {limit}), got values from "
                         f"{int(data.min())} to {int(data.max())}")


def _renorm(weight, indices, max_norm, norm_type):
    """Scale the referenced rows of ``weight`` in place so their ``norm_type``-norm is at most ``max_norm``."""
    with no_grad():
        xp = weight.device.xp
        w = weight.array
        rows = xp.unique(indices.array.ravel())
        norms = (xp.abs(w[rows]) ** norm_type).sum(-1) ** (1.0 / norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
        w[rows] *= scale[:, None]
        bump_version(weight)


def _embedding_samples(make):
    yield Sample((make.index([[0, 2, 1], [3, 2, 2]]), make(4, 3)), name="2-D indices")
    yield Sample((make.index([1, 1, 0]), make(3, 2)), {"padding_idx": 2}, name="padding_idx, not looked up")
    yield Sample((make.index(2), make(4, 2)), name="zero-dim index")


class PaddingIndexError(ValueError, AssertionError):
    """``padding_idx`` outside ``[-num_embeddings, num_embeddings)``: PyTorch asserts, so this is an
    AssertionError as well as a ValueError."""


def _embedding_composite(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                         sparse=False):
    """The rows ``weight[input]`` (the ``padding_idx`` row detached): what :class:`Embedding` stands for."""
    if padding_idx is not None:
        p = int(padding_idx) % weight.shape[0]
        weight = cat([weight[:p], weight[p:p + 1].detach(), weight[p + 1:]])
    rows = weight.index_select(0, input.reshape(-1))
    return rows.reshape(tuple(input.shape) + (weight.shape[1],))


def _embedding_errors(make):
    yield ErrorInput(Sample((make.index([1, 7]), make(4, 2))), IndexError,
                     r"embedding\(\).*index out of range.*\[0, 4\).*7")


@ops.op(primitive=Embedding, reference=_embedding_composite, namespaces=("functional",), samples=_embedding_samples,
        errors=_embedding_errors)
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of ``weight`` (num_embeddings, dim) picked by the integer ``input``; the ``padding_idx`` row gets no
    gradient; ``max_norm`` renormalises looked-up rows of ``weight`` in place (``torch.nn.functional.embedding``;
    ``scale_grad_by_freq`` and ``sparse`` are not supported).

    Shape:
        - input: ``(*)`` indices in [0, num_embeddings), int64 or int32.
        - weight: ``(num_embeddings, embedding_dim)``, floating point.
        - output: ``(*, embedding_dim)``, the dtype of ``weight``.

    Raises:
        DimensionError: ``weight`` is not 2-D.
        OutOfRangeError: an index is out of range.
        PaddingIndexError: ``padding_idx`` is outside [-num_embeddings, num_embeddings) (a ValueError and an
            AssertionError).
        NotImplementedError: ``scale_grad_by_freq`` or ``sparse`` is set.
        DTypeError: ``input`` is not an integer dtype.
        TypeError: ``input`` or ``weight`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.embedding``."""
    check_tensor("embedding", "weight", weight)
    if weight.array.ndim != 2:
        raise DimensionError(f"embedding(): weight must be 2-D (num_embeddings, embedding_dim), got shape "
                             f"{tuple(weight.shape)}")
    rows = weight.shape[0]
    _check_indices("embedding", input, rows)
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding(): scale_grad_by_freq and sparse gradients are not supported by ember")
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise PaddingIndexError(f"embedding(): padding_idx must be within num_embeddings ({rows}), got "
                                    f"{padding_idx}")
        padding_idx = int(padding_idx) % rows
    if max_norm is not None:
        _renorm(weight, input, float(max_norm), float(norm_type))
    return apply(Embedding, weight, input, padding_idx=padding_idx, mask_padding=False)


@ops.op(namespaces=("functional",), differentiable=False,
        samples=lambda make: [Sample((make.index([0, 2, 1]),)), Sample((make.index([[1, 0], [3, 1]]), 5)),
                              Sample((make.index(2), 3))])
def one_hot(tensor, num_classes=-1):
    """Int64 tensor with a trailing dim of ``num_classes`` (max + 1 when -1), one at each index
    (``torch.nn.functional.one_hot``).

    Shape:
        - tensor: ``(*)`` class indices, int64.
        - output: ``(*, num_classes)``, int64; ``num_classes=-1`` takes ``tensor.max() + 1``.

    Raises:
        OutOfRangeError: an index is negative or not below ``num_classes``.
        RuntimeError: ``num_classes=-1`` with an empty tensor.
        DTypeError: ``tensor`` is not an integer dtype.
        TypeError: ``tensor`` is not a Tensor.

    PyTorch: ``torch.nn.functional.one_hot``."""
    _check_indices("one_hot", tensor, None)
    data = tensor.array
    xp = tensor.device.xp
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("one_hot(): can not infer total number of classes from an empty tensor")
        num_classes = int(data.max()) + 1
    elif data.size and int(data.max()) >= num_classes:
        raise OutOfRangeError(f"one_hot(): class values must be smaller than num_classes ({num_classes}), got "
                              f"{int(data.max())}")
    out = (data[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return wrap(out, tensor.device)
