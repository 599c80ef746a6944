"""Dropout: zero elements (or whole channels) at random with probability ``p`` and scale the rest by
1 / (1 - p), drawing from the device's default generator (``ember.manual_seed`` makes it repeatable).

The mask is a constant, so the op is a product with it and differentiable to any order.
"""

from __future__ import annotations

from ember.ops import (ArgumentError, DTypeError, ErrorInput, OpTable, Sample, ShapeError, check_tensor,
                       inplace as write_back)
from ember.random import default_generator
from ember.ops import wrap

ops = OpTable()


def _check_p(op, p):
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"{op}(): dropout probability has to be between 0 and 1, but got {p}")


def _masked(op, input, p, training, inplace, mask_shape):
    """input * keep_mask / (1 - p), with the mask drawn in ``mask_shape`` (broadcast over the rest)."""
    if not training or p == 0.0:
        return input
    if p == 1.0:
        if input.dtype.is_floating_point:
            out = input * 0.0
        else:  # PyTorch keeps an integer or bool dtype when every element is dropped
            from ember import zeros_like
            out = zeros_like(input)
    elif not input.dtype.is_floating_point:
        raise DTypeError(f"{op}(): result type float can't be cast to the input's dtype {input.dtype} "
                         f"(dropout with 0 < p < 1 needs a floating input)")
    else:
        data = input.array
        stream = default_generator(input.device).stream
        keep = stream.random(mask_shape, data.dtype) >= p
        out = input * wrap(keep.astype(data.dtype) * (1.0 / (1.0 - p)), input.device)
    return write_back(input, out, op + "_") if inplace else out


def _dropout_samples(make):
    yield Sample((make(3, 4),), {"p": 0.0}, name="p=0")
    yield Sample((make(3, 4), 0.5, False), name="eval")
    yield Sample((make(2, 3),), {"p": 1.0}, name="p=1")


def _dropout_errors(make):
    yield ErrorInput(Sample((make(3),), {"p": 1.5}), ValueError, r"dropout\(\).*between 0 and 1, but got 1.5")


@ops.op(namespaces=("functional",), samples=_dropout_samples, errors=_dropout_errors)
def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the others by 1 / (1 - p); identity when not training
    (``torch.nn.functional.dropout``).

    Shape:
        - input: ``(*)``, any shape.
        - output: the shape and dtype of ``input``.

    Raises:
        ArgumentError: ``p`` is outside [0, 1].
        DTypeError: ``input`` is not floating point while ``training`` and 0 < p < 1.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.dropout``."""
    check_tensor("dropout", "input", input)
    _check_p("dropout", p)
    return _masked("dropout", input, p, training, inplace, input.array.shape)


def _feature_dropout(op, n, input, p, training, inplace):
    check_tensor(op, "input", input)
    _check_p(op, p)
    nd = input.array.ndim
    if nd not in (n + 1, n + 2):
        raise ShapeError(f"{op}(): expected {n + 1}D (unbatched) or {n + 2}D (batched) input, but got input of "
                         f"shape {tuple(input.shape)}")
    lead = 1 if nd == n + 1 else 2
    mask_shape = tuple(input.array.shape[:lead]) + (1,) * (nd - lead)
    return _masked(op, input, p, training, inplace, mask_shape)


def _feature_samples(n):
    def samples(make):
        yield Sample((make(2, 3, *([2] * n)),), {"p": 0.0}, name="batched, p=0")
        yield Sample((make(3, *([2] * n)), 0.3, False), name="unbatched, eval")
    return samples


@ops.op(namespaces=("functional",), samples=_feature_samples(1))
def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input with probability ``p`` (``torch.nn.functional.dropout1d``).

    Shape:
        - input: ``(N, C, L)`` or unbatched ``(C, L)``.
        - output: the shape and dtype of ``input``.

    Raises:
        ArgumentError: ``p`` is outside [0, 1].
        ShapeError: ``input`` is not 2-D or 3-D.
        DTypeError: ``input`` is not floating point while ``training`` and 0 < p < 1.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.dropout1d``."""
    return _feature_dropout("dropout1d", 1, input, p, training, inplace)


@ops.op(namespaces=("functional",), samples=_feature_samples(2))
def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) input with probability ``p``; 3-D input is taken as (N, C, L), as
    PyTorch does (``torch.nn.functional.dropout2d``).

    Shape:
        - input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        - output: the shape and dtype of ``input``.

    Raises:
        ArgumentError: ``p`` is outside [0, 1].
        ShapeError: ``input`` is not 3-D or 4-D.
        DTypeError: ``input`` is not floating point while ``training`` and 0 < p < 1.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.dropout2d``."""
    check_tensor("dropout2d", "input", input)
    if input.array.ndim == 2:  # PyTorch warns and drops single elements
        import warnings
        warnings.warn("dropout2d: Received a 2-D input to dropout2d, which is deprecated and will result in an error "
                      "in a future release. To retain the behavior and silence this warning, please use dropout "
                      "instead.", UserWarning, stacklevel=2)
        _check_p("dropout2d", p)
        return _masked("dropout2d", input, p, training, inplace, input.array.shape)
    if input.array.ndim == 3:
        return _feature_dropout("dropout2d", 1, input, p, training, inplace)
    return _feature_dropout("dropout2d", 2, input, p, training, inplace)


@ops.op(namespaces=("functional",), samples=_feature_samples(3))
def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input (``torch.nn.functional.dropout3d``).

    Shape:
        - input: ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)``.
        - output: the shape and dtype of ``input``.

    Raises:
        ArgumentError: ``p`` is outside [0, 1].
        ShapeError: ``input`` is not 4-D or 5-D.
        DTypeError: ``input`` is not floating point while ``training`` and 0 < p < 1.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.dropout3d``."""
    return _feature_dropout("dropout3d", 3, input, p, training, inplace)
