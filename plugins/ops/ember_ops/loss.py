"""Classification losses: nll_loss and cross_entropy (class indices or probabilities, weight,
ignore_index, label_smoothing, reduction), composed from log_softmax and indexing."""

from __future__ import annotations

import warnings

import numpy as np

import ember
from ember.autograd.grad_mode import is_grad_enabled
from ember.device import DeviceError
from ember.ops import (ArgumentError, DTypeError, DimensionError, ErrorInput, OpTable, OutOfRangeError, Primitive,
                       Sample, ShapeError, apply, check_tensor, float_input)
from ember.ops import wrap

from .activation import softplus
from .selection import minimum
from .similarity import pairwise_distance

ops = OpTable()

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(op, reduction, size_average=None, reduce=None):
    if size_average is not None or reduce is not None:  # PyTorch's deprecated pair
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in _REDUCTIONS:
        raise ArgumentError(f"{op}(): {reduction!r} is not a valid value for reduction; expected one of {_REDUCTIONS}")
    return reduction


def _classes_last(op, input, target):
    """(M, C) scores and (M,) targets from PyTorch's (N, C, d1, ...) / (N, d1, ...) layouts (or (C,) / ())."""
    if input.array.ndim == 0:
        raise DimensionError(f"{op}(): input must have at least 1 dimension (classes), got a 0-d tensor")
    if input.array.ndim == 1:
        if target.array.ndim != 0:
            raise ShapeError(f"{op}(): for 1-D input of shape {tuple(input.shape)} the target must be 0-d, got "
                             f"shape {tuple(target.shape)}")
        return input.unsqueeze(0), target.reshape(1), ()
    n, c = input.array.shape[:2]
    expected = (n,) + input.array.shape[2:]
    if target.array.shape != expected:
        if target.array.ndim and target.array.shape[0] != n:
            raise ArgumentError(f"{op}(): expected input batch_size ({n}) to match target batch_size "
                             f"({target.array.shape[0]})")
        raise ShapeError(f"{op}(): expected target of shape {expected} for input of shape {tuple(input.shape)}, got "
                         f"{tuple(target.shape)}")
    if input.array.ndim > 2:
        return input.movedim(1, -1).reshape(-1, c), target.reshape(-1), expected
    return input, target, expected


def _nll(op, logp, target, weight, ignore_index, reduction):
    """Negative log-likelihood of integer class targets, on (M, C) log-probabilities."""
    if target.dtype.is_floating_point or target.dtype is ember.bool:
        raise DTypeError(f"{op}(): expected target of an integer dtype (class indices), got {target.dtype}")
    if target.device is not logp.device:
        raise DeviceError(f"{op}(): target is on {target.device} but input is on {logp.device}")
    logp2, flat_target, out_shape = _classes_last(op, logp, target)
    n_classes = logp2.array.shape[1]
    t = flat_target.array  # targets are constants: plain array work, no ops on the tape
    keep = t != ignore_index
    safe = t * keep
    if t.size:
        low, high = int(safe.min()), int(safe.max())
        if low < 0 or high >= n_classes:
            bad = low if low < 0 else high
            raise OutOfRangeError(f"{op}(): target {bad} is out of bounds for {n_classes} classes")
    weights = None if weight is None else weight.array
    out = apply(NllLoss, logp2, target=safe, keep=keep, weight=weights, reduction=reduction)
    return out.reshape(out_shape) if reduction == "none" else out


class NllLoss(Primitive):
    """-w[t] * logp[i, t] for each row i of (M, C) log-probabilities, then reduced: nll_loss in one step.

    The composition (index, multiply, sum, divide) gives the same result; one primitive avoids a
    scatter-add in backward and half a dozen small ops per training step. Its gradient is a constant
    (M, C) matrix times the incoming gradient, so it is twice differentiable for free.
    """

    @staticmethod
    def _coefficients(xp, shape, dtype, target, keep, weight):
        w = keep.astype(dtype) if weight is None else weight.astype(dtype)[target] * keep
        rows = xp.arange(shape[0])
        return rows, w

    @staticmethod
    def forward(xp, logp, target, keep, weight, reduction):
        rows, w = NllLoss._coefficients(xp, logp.shape, logp.dtype, target, keep, weight)
        losses = -logp[rows, target] * w
        if reduction == "none":
            return losses
        total = losses.sum()
        return total if reduction == "sum" else total / w.sum()

    @staticmethod
    def backward(ctx, g, target, keep, weight, reduction):
        xp = g.device.xp
        shape = ctx.input_shapes[0]
        rows, w = NllLoss._coefficients(xp, shape, g.array.dtype, target, keep, weight)
        coef = xp.zeros(shape, dtype=g.array.dtype)
        coef[rows, target] = -w
        if reduction == "mean":
            coef /= w.sum()
        coef = wrap(coef, g.device)
        return (g.unsqueeze(1) if reduction == "none" else g) * coef


def _row_max(xp, x):
    """``x.max(axis=1, keepdims=True)`` of (N, C) class scores. Over many short rows numpy's reduction along
    the last axis pays per row (512 rows of 10: ~29 us), so there it is a running ``maximum`` over the C
    columns (~7 us; NaN propagates as in ``max``); few or long rows keep ``max``."""
    rows, classes = x.shape
    if xp is not np or rows < 128 or not 1 < classes <= 32:
        return x.max(axis=1, keepdims=True)
    out = x[:, 0].copy()
    for j in range(1, classes):
        xp.maximum(out, x[:, j], out=out)
    return out[:, None]


class CrossEntropyLoss(Primitive):
    """log_softmax over the classes, then the negative log-likelihood of integer targets, for (N, C) logits
    without class weights or label smoothing: cross_entropy's common case as one node (the training hot
    path), instead of a log_softmax node and an nll_loss node. ``keep`` is None when no target is
    ``ignore_index``, else the (N,) mask of the targets that count.

    Its backward, ``(softmax(x) - onehot(t)) * g`` per kept row, is written with ember ops when a graph
    is being built (so it is twice differentiable) and on the arrays otherwise.
    """

    name = "cross_entropy_loss"  # ATen's
    grad_fn = "NllLossBackward0"  # what PyTorch's loss node shows (ATen decomposes cross_entropy_loss)
    save_inputs = True

    @staticmethod
    def forward(xp, x, target, keep, reduction):
        shifted = x - _row_max(xp, x)
        # -log_softmax at the targets only: log-sum-exp minus the target's shifted logit (no (N, C) subtraction)
        losses = xp.log(xp.exp(shifted).sum(axis=1)) - shifted[xp.arange(x.shape[0]), target]
        if keep is not None:
            losses = losses * keep
        if reduction == "none":
            return losses
        total = losses.sum()
        if reduction == "sum":
            return total
        return total / (x.dtype.type(x.shape[0]) if keep is None else keep.sum(dtype=x.dtype))

    @staticmethod
    def backward(ctx, g, target, keep, reduction):
        (x,) = ctx.inputs
        xp = x.device.xp
        rows = xp.arange(x.array.shape[0])
        scale = None if keep is None else keep.astype(x.array.dtype)
        if reduction == "mean":
            count = x.array.shape[0] if keep is None else scale.sum()
            # every target ignored: PyTorch's gradient is zero (the loss, 0/0, is NaN)
            scale = 1.0 / count if scale is None else scale / count if count else scale
        if is_grad_enabled():  # create_graph: the gradient is itself differentiable
            onehot = xp.zeros(x.array.shape, dtype=x.array.dtype)
            onehot[rows, target] = 1
            diff = x.softmax(1) - wrap(onehot, x.device)
            coef = g.unsqueeze(1) if reduction == "none" else g.reshape(1, 1)
            if scale is not None:
                coef = coef * wrap(xp.asarray(scale, dtype=x.array.dtype).reshape(-1, 1), x.device)
            return diff * coef
        a = x.array
        p = a - _row_max(xp, a)
        xp.exp(p, out=p)
        p /= p.sum(axis=1, keepdims=True)
        p[rows, target] -= 1
        coef = g.array.reshape(-1, 1) if reduction == "none" else g.array
        if scale is not None:
            coef = coef * (scale.reshape(-1, 1) if reduction == "none" or keep is not None else scale)
        p *= coef
        return wrap(p, x.device)


def _cross_entropy_rows(input, target, ignore_index, reduction):
    """``cross_entropy`` of (N, C) logits and (N,) class indices as one :class:`CrossEntropyLoss` node; None when
    the general path must run (it also raises the errors, naming them as PyTorch does)."""
    x, t = input.array, target.array
    n, c = x.shape
    if t.shape != (n,) or t.dtype.kind not in "iu" or not n or not c or target.device is not input.device \
            or not input.dtype.is_floating_point:
        return None
    low, high = int(t.min()), int(t.max())
    keep = None
    if low <= ignore_index <= high or low < 0 or high >= c:
        keep = t != ignore_index
        t = t * keep
        low, high = int(t.min()), int(t.max())
        if low < 0 or high >= c:
            raise OutOfRangeError(f"cross_entropy(): target {low if low < 0 else high} is out of bounds for {c} "
                                  f"classes")
    return apply(CrossEntropyLoss, input, target=t, keep=keep, reduction=reduction)


def _check_weight(op, weight, n_classes, dtype):
    if weight is None:
        return None
    check_tensor(op, "weight", weight)
    if tuple(weight.shape) != (n_classes,):
        raise ShapeError(f"{op}(): weight tensor should be defined either for all {n_classes} classes or no "
                         f"classes but got weight tensor of shape {tuple(weight.shape)}")
    return weight.to(dtype)


def _nll_samples(make):
    yield Sample((make(4, 5).log_softmax(1), make.index([0, 4, 2, 2])), name="batch")
    yield Sample((make(4, 5).log_softmax(1), make.index([0, 4, 2, 2])), {"reduction": "sum"}, name="sum")
    yield Sample((make(4, 5).log_softmax(1), make.index([0, 4, 2, 2])), {"reduction": "none"}, name="none")
    yield Sample((make(4, 5), make.index([0, 4, -100, 2]), make(5, low=0.5, high=2.0, requires_grad=False)),
                 name="weight, ignore_index")
    yield Sample((make(2, 3, 2, 2), make.index([[[0, 1], [2, 0]], [[1, 1], [2, -100]]])), name="spatial")
    yield Sample((make(2, 3, 2), make.index([[0, 2], [1, 1]]), make(3, low=0.5, high=2.0, requires_grad=False)),
                 {"reduction": "none", "ignore_index": 1}, name="spatial, weight, none")
    yield Sample((make(5).log_softmax(0), make.index(2)), name="unbatched")


def _nll_loss_composite(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                       reduction="mean"):
    """nll_loss's definition from indexing and arithmetic: what the NllLoss primitive is checked against."""
    reduction = _reduction("nll_loss", reduction, size_average, reduce)
    logp2, flat, out_shape = _classes_last("nll_loss", input, target)
    keep = flat != ignore_index
    safe = flat * keep
    picked = logp2[ember.arange(flat.shape[0], device=input.device), safe]
    w = keep.to(input.dtype) if weight is None else weight.to(input.dtype)[safe] * keep
    losses = -(picked * w)
    if reduction == "none":
        return losses.reshape(out_shape)
    return losses.sum() if reduction == "sum" else losses.sum() / w.sum()


def _nll_loss_errors(make):
    yield ErrorInput(Sample((make(2, 5), make.index([0, 7]))), IndexError,
                     r"nll_loss\(\): target 7 is out of bounds for 5 classes")


@ops.op(primitive=NllLoss, namespaces=("functional",), samples=_nll_samples, reference=_nll_loss_composite,
        errors=_nll_loss_errors)
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of class ``target`` given log-probabilities ``input`` (``F.nll_loss``).

    Shape:
        - input: ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)``, log-probabilities, floating point.
        - target: class indices ``()``, ``(N,)`` or ``(N, d1, ..., dK)`` of an integer dtype.
        - weight: ``(C,)`` or None.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', the shape of ``target``.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ShapeError: ``target``'s shape does not fit ``input``'s, or ``weight`` is not ``(C,)``.
        OutOfRangeError: a class index is outside [0, C) and not ``ignore_index``.
        DimensionError: ``input`` is 0-d.
        DTypeError: ``input`` is not floating point, or ``target`` is not an integer dtype.
        TypeError: ``input``, ``target`` or ``weight`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.nll_loss``."""
    float_input("nll_loss", input)
    check_tensor("nll_loss", "target", target)
    if input.dim() == 0:
        raise DimensionError("nll_loss(): Expected 1 or more dimensions (got 0)")
    reduction = _reduction("nll_loss", reduction, size_average, reduce)
    c = input.shape[1] if input.dim() > 1 else input.shape[0]
    weight = _check_weight("nll_loss", weight, c, input.dtype)
    return _nll("nll_loss", input, target, weight, ignore_index, reduction)


def _ce_samples(make):
    yield Sample((make(4, 5), make.index([0, 4, 2, 2])), name="class indices")
    yield Sample((make(4, 5), make.index([0, 4, 2, 2])), {"reduction": "sum"}, name="sum")
    yield Sample((make(4, 5), make.index([0, 4, -100, 2])), {"reduction": "none"}, name="none, ignore_index")
    yield Sample((make(4, 5), make.index([0, 4, 1, 2]), make(5, low=0.5, high=2.0, requires_grad=False)),
                 {"label_smoothing": 0.1}, name="weight, label_smoothing")
    yield Sample((make(4, 5), make.index([0, 4, -100, 2])), {"label_smoothing": 0.2}, name="smoothing, ignore")
    yield Sample((make(4, 5), make(4, 5, low=0.0, high=1.0).softmax(1)), name="probabilities")
    yield Sample((make(4, 5), make(4, 5, low=0.0, high=1.0, requires_grad=False).softmax(1)),
                 {"label_smoothing": 0.1, "reduction": "sum"}, name="probabilities, smoothing")
    yield Sample((make(2, 3, 2), make.index([[0, 2], [1, 1]])), name="spatial")
    yield Sample((make(5), make.index(3)), name="unbatched")
    w = make(5, low=0.5, high=2.0, requires_grad=False)
    yield Sample((make(4, 5), make.index([0, 4, -100, 2]), w), {"label_smoothing": 0.3, "ignore_index": -100},
                 name="weight, ignore_index, smoothing")
    yield Sample((make(4, 5), make.index([0, 4, 3, 2]), w), {"label_smoothing": 0.3, "reduction": "none",
                                                            "ignore_index": 3}, name="weight, ignore 3, none")
    yield Sample((make(4, 5), make(4, 5, low=0.0, high=1.0, requires_grad=False).softmax(1), w),
                 {"label_smoothing": 0.2}, name="probabilities, weight, smoothing")
    yield Sample((make(2, 3, 2, 2), make.index([[[0, 1], [2, -100]], [[1, 1], [2, 0]]]),
                  make(3, low=0.5, high=2.0, requires_grad=False)), {"label_smoothing": 0.1}, name="spatial, all")
    yield Sample((make(2, 3, 2), make(2, 3, 2, low=0.0, high=1.0, requires_grad=False).softmax(1)),
                 {"reduction": "none"}, name="spatial probabilities")


def _cross_entropy_errors(make):
    yield ErrorInput(Sample((make(4, 5), make.index([0, 1, 2]))), RuntimeError,
                     r"cross_entropy\(\): expected input batch_size \(4\) to match target batch_size \(3\)")
    yield ErrorInput(Sample((make(4, 5, dtype="int64"), make.index([0, 1, 2, 3]))), TypeError,
                     r"cross_entropy\(\): not implemented for input of dtype int64")
    yield ErrorInput(Sample((make(), make(low=0.0, high=1.0))), IndexError,
                     r"cross_entropy\(\): expected input of shape \(C,\), .*got a 0-d input")


@ops.op(namespaces=("functional",), samples=_ce_samples, errors=_cross_entropy_errors, primitive=CrossEntropyLoss,
        reference=lambda *args, **kwargs: _cross_entropy(*args, **kwargs, fused=False))
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits ``input`` and class indices or class probabilities ``target``
    (``F.cross_entropy``): log_softmax over the class dim, then the negative log-likelihood.

    Shape:
        - input: ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)``, floating point.
        - target: class indices ``()``, ``(N,)`` or ``(N, d1, ..., dK)`` of an integer dtype, or class
          probabilities of ``input``'s shape and dtype.
        - weight: ``(C,)`` or None.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', the shape of the class-index target.

    Raises:
        ArgumentError: ``reduction`` is unknown, ``label_smoothing`` is outside [0, 1], or ``ignore_index`` is used
            with probability targets.
        ShapeError: ``target``'s shape does not fit ``input``'s, or ``weight`` is not ``(C,)``.
        OutOfRangeError: a class index is outside [0, C) and not ``ignore_index``.
        DimensionError: ``input`` is 0-d.
        DTypeError: ``input`` is not floating point, or an index target is not an integer dtype.
        TypeError: ``input``, ``target`` or ``weight`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.cross_entropy``."""
    return _cross_entropy(input, target, weight, size_average, ignore_index, reduce, reduction, label_smoothing)


def _cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                   label_smoothing=0.0, fused=True):
    """:func:`cross_entropy`; with ``fused=False`` its composite definition (log_softmax, then the negative
    log-likelihood) everywhere, which the fused :class:`CrossEntropyLoss` is checked against."""
    check_tensor("cross_entropy", "input", input)
    check_tensor("cross_entropy", "target", target)
    reduction = _reduction("cross_entropy", reduction, size_average, reduce)
    if label_smoothing > 1.0:
        raise ArgumentError(f"cross_entropy(): label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    label_smoothing = max(label_smoothing, 0.0)  # PyTorch accepts a negative value and smooths nothing
    float_input("cross_entropy", input)
    if fused and weight is None and not label_smoothing and input.array.ndim == 2:
        loss = _cross_entropy_rows(input, target, ignore_index, reduction)
        if loss is not None:
            return loss
    if input.dim() == 0:  # PyTorch: IndexError "Dimension specified as 1 but tensor has no dimensions"
        raise DimensionError(f"cross_entropy(): expected input of shape (C,), (N, C) or (N, C, d1, ...), got a 0-d "
                             f"input (target of shape {tuple(target.shape)})")
    class_dim = 0 if input.dim() == 1 else 1
    n_classes = input.shape[class_dim]
    weight = _check_weight("cross_entropy", weight, n_classes, input.dtype)
    logp = input.log_softmax(class_dim)
    if target.is_floating_point():
        if ignore_index >= 0:
            raise ArgumentError(f"cross_entropy(): ignore_index ({ignore_index}) is not supported for floating "
                                f"point (class probability) targets")
        return _soft_cross_entropy(logp, target, weight, class_dim, n_classes, reduction, label_smoothing)
    loss = _nll("cross_entropy", logp, target, weight, ignore_index, reduction)
    if not label_smoothing:
        return loss
    w_shape = [1] * logp.dim()
    w_shape[class_dim] = n_classes
    smooth = -(logp * weight.reshape(w_shape)).sum(class_dim) if weight is not None else -logp.sum(class_dim)
    keep = target != ignore_index
    smooth = smooth * keep
    if reduction == "mean":
        if weight is not None:
            smooth = smooth.sum() / (weight[target * keep] * keep).sum()
        else:
            smooth = smooth.sum() / keep.sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    return loss * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)


def _soft_cross_entropy(logp, target, weight, class_dim, n_classes, reduction, label_smoothing):
    if tuple(target.shape) != tuple(logp.shape):
        raise ShapeError(f"cross_entropy(): class-probability target must have the input's shape "
                         f"{tuple(logp.shape)}, got {tuple(target.shape)}")
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    terms = logp * target
    if weight is not None:
        w_shape = [1] * logp.dim()
        w_shape[class_dim] = n_classes
        terms = terms * weight.reshape(w_shape)
    losses = -terms.sum(class_dim)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / (logp.numel() // n_classes if logp.numel() else 1)


# -- regression losses --------------------------------------------------------------------------------

def _pair(op, input, target, same_shape=False):
    """Check ``input`` and ``target`` are tensors whose shapes fit; PyTorch broadcasts (with a warning) where
    the shapes differ but broadcast, and raises where they do not."""
    check_tensor(op, "input", input)
    check_tensor(op, "target", target)
    a, b = tuple(input.shape), tuple(target.shape)
    if a == b:
        return input, target
    if same_shape:
        raise ArgumentError(f"{op}(): target size {b} must be the same as input size {a}")
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        raise ShapeError(f"{op}(): input of shape {a} and target of shape {b} do not match and cannot be "
                         f"broadcast") from None
    warnings.warn(f"{op}(): using a target size ({b}) that is different to the input size ({a}); the two are "
                  f"broadcast, which is likely wrong. Make sure they have the same size.", UserWarning, stacklevel=3)
    return input, target


def _reduce(losses, reduction):
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.mean()


def _float_target(target, input):
    return target if target.dtype is input.dtype else target.to(input.dtype)


def _unbroadcastable_errors(name):
    """The error case of a loss comparing input and target elementwise: shapes that do not broadcast."""
    def errors(make):
        yield ErrorInput(Sample((make(3, 2), make(4))), RuntimeError,
                         rf"{name}\(\): input of shape \(3, 2\) and target of shape \(4,\)")
    return errors


def _mse_loss_errors(make):
    yield from _unbroadcastable_errors("mse_loss")(make)
    yield ErrorInput(Sample((make(3), make(3, 1))), UserWarning, r"mse_loss\(\): using a target size \(\(3, 1\)\)")
    yield ErrorInput(Sample((make(2), make(2)), {"reduction": "avg"}), ValueError,
                     r"mse_loss\(\): 'avg' is not a valid value for reduction")


def _regression_samples(make):
    yield Sample((make(3, 4), make(3, 4, requires_grad=False)), name="mean")
    yield Sample((make(3, 4), make(3, 4)), {"reduction": "sum"}, name="sum, target grad")
    yield Sample((make(5), make(5)), {"reduction": "none"}, name="none")
    yield Sample((make(), make()), name="zero-dim")


class MseLoss(Primitive):
    """(input - target)**2, reduced ('none', 'mean' or 'sum') in one node, as PyTorch's mse_loss."""

    save_inputs = True

    @staticmethod
    def forward(xp, x, t, reduction):
        d = x - t
        squares = d * d
        if reduction == "none":
            return squares
        total = squares.sum()
        return total if reduction == "sum" else total / squares.size  # empty: 0 / 0, NaN as in PyTorch

    @staticmethod
    def backward(ctx, g, reduction):
        x, t = ctx.inputs
        d = x - t
        scale = 2.0 / d.numel() if reduction == "mean" and d.numel() else 2.0
        gd = g * d * scale
        need_x, need_t = ctx.needs_input_grad
        return (gd if need_x else None), (-gd if need_t else None)


def _mse_loss_composite(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """What :class:`MseLoss` stands for: the squared differences, reduced."""
    d = input - _float_target(target, input)
    return _reduce(d * d, _reduction("mse_loss", reduction, size_average, reduce))


@ops.op(namespaces=("functional",), primitive=MseLoss, reference=_mse_loss_composite, samples=_regression_samples,
        errors=_mse_loss_errors)
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (``F.mse_loss``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - target: ``(*)``, the shape of ``input`` (a shape that broadcasts to it is used with a warning, as in
          PyTorch).
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(*)``; the dtype of ``input``.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ShapeError: ``input`` and ``target`` shapes do not broadcast.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` or ``target`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.mse_loss``."""
    reduction = _reduction("mse_loss", reduction, size_average, reduce)
    input, target = _pair("mse_loss", float_input("mse_loss", input), target)
    return apply(MseLoss, input, _float_target(target, input), reduction=reduction)


@ops.op(namespaces=("functional",), samples=lambda make: [
    Sample((make(3, 4, away_from_zero=True), make(3, 4, requires_grad=False) * 0), name="mean"),
    Sample((make(5, away_from_zero=True), make(5, requires_grad=False) * 0), {"reduction": "none"}, name="none")],
        errors=_unbroadcastable_errors("l1_loss"))
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean absolute error (``F.l1_loss``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - target: ``(*)``, the shape of ``input`` (a shape that broadcasts to it is used with a warning, as in
          PyTorch).
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(*)``; the dtype of ``input``.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ShapeError: ``input`` and ``target`` shapes do not broadcast.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` or ``target`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.l1_loss``."""
    reduction = _reduction("l1_loss", reduction, size_average, reduce)
    input, target = _pair("l1_loss", input, target)
    return _reduce((input - _float_target(target, input)).abs(), reduction)


def _piecewise(d, beta):
    """The mask of ``|d| < beta`` (as d's dtype) and ``|d|``: the two pieces of smooth L1 and Huber."""
    ad = d.abs()
    inside = (ad < beta).to(d.dtype)
    return inside, ad


def _smooth_samples(make):
    yield Sample((make(3, 4, low=-3, high=3), make(3, 4, requires_grad=False)), name="mean")
    yield Sample((make(3, 4, low=-3, high=3), make(3, 4)), {"beta": 0.5, "reduction": "sum"}, name="beta, sum")
    yield Sample((make(6, low=-3, high=3), make(6, requires_grad=False)), {"reduction": "none", "beta": 2.0}, name="none")


@ops.op(namespaces=("functional",), samples=_smooth_samples, errors=_unbroadcastable_errors("smooth_l1_loss"))
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``0.5 d**2 / beta`` for ``|d| < beta``, else ``|d| - 0.5 beta`` (``F.smooth_l1_loss``); beta 0 is L1.

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - target: ``(*)``, the shape of ``input`` (a shape that broadcasts to it is used with a warning, as in
          PyTorch).
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(*)``; the dtype of ``input``.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ArgumentError: ``beta`` is negative.
        ShapeError: ``input`` and ``target`` shapes do not broadcast.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` or ``target`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.smooth_l1_loss``."""
    reduction = _reduction("smooth_l1_loss", reduction, size_average, reduce)
    input, target = _pair("smooth_l1_loss", float_input("smooth_l1_loss", input), target)
    if beta < 0:
        raise ArgumentError(f"smooth_l1_loss(): smooth_l1_loss does not support negative values for beta, got {beta}")
    d = input - _float_target(target, input)
    if beta == 0:
        return _reduce(d.abs(), reduction)
    inside, ad = _piecewise(d, beta)
    losses = inside * (d * d * (0.5 / beta)) + (1 - inside) * (ad - 0.5 * beta)
    return _reduce(losses, reduction)


@ops.op(namespaces=("functional",), samples=lambda make: [
    Sample((make(3, 4, low=-3, high=3), make(3, 4, requires_grad=False)), name="mean"),
    Sample((make(3, 4, low=-3, high=3), make(3, 4)), {"delta": 0.5, "reduction": "sum"}, name="delta, sum"),
    Sample((make(6, low=-3, high=3), make(6)), {"reduction": "none", "delta": 2.0}, name="none")],
        errors=_unbroadcastable_errors("huber_loss"))
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """``0.5 d**2`` for ``|d| < delta``, else ``delta (|d| - 0.5 delta)`` (``F.huber_loss``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - target: ``(*)``, the shape of ``input`` (a shape that broadcasts to it is used with a warning, as in
          PyTorch).
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(*)``; the dtype of ``input``.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ArgumentError: ``delta`` is not positive.
        ShapeError: ``input`` and ``target`` shapes do not broadcast.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` or ``target`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.huber_loss``."""
    reduction = _reduction("huber_loss", reduction)
    input, target = _pair("huber_loss", float_input("huber_loss", input), target)
    if delta <= 0:
        raise ArgumentError(f"huber_loss(): delta must be positive, got {delta}")
    d = input - _float_target(target, input)
    inside, ad = _piecewise(d, delta)
    losses = inside * (d * d * 0.5) + (1 - inside) * ((ad - 0.5 * delta) * delta)
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction)


# -- binary classification ----------------------------------------------------------------------------

def _size_mismatch_errors(name):
    """The error case of a binary loss, which needs target and input of one size (no broadcasting)."""
    def errors(make):
        yield ErrorInput(Sample((make(3, low=0.1, high=0.9), make(3, 1))), ValueError,
                         rf"{name}\(\): target size \(3, 1\) must be the same as input size \(3,\)")
    return errors


def _bce_samples(make):
    yield Sample((make(3, 4, low=0.05, high=0.95), make(3, 4, low=0, high=1, requires_grad=False)), name="mean")
    yield Sample((make(3, 4, low=0.05, high=0.95), make(3, 4, low=0, high=1)),
                 {"weight": make(4, low=0.5, high=2, requires_grad=False), "reduction": "sum"}, name="weight, sum")
    yield Sample((make(5, low=0.05, high=0.95), make(5, low=0, high=1, requires_grad=False)), {"reduction": "none"},
                 name="none")


@ops.op(namespaces=("functional",), samples=_bce_samples, errors=_size_mismatch_errors("binary_cross_entropy"))
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """``-w (t log p + (1 - t) log(1 - p))`` on probabilities ``input``, logs clamped at -100
    (``F.binary_cross_entropy``).

    Shape:
        - input: ``(*)`` probabilities in [0, 1], floating point.
        - target: ``(*)``, the shape of ``input``.
        - weight: broadcastable to ``input``, or None.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(*)``; the dtype of ``input``.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ArgumentError: ``target``'s shape is not ``input``'s, or an input value lies outside [0, 1].
        DTypeError: ``input`` is not floating point.
        TypeError: ``input``, ``target`` or ``weight`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.binary_cross_entropy``."""
    reduction = _reduction("binary_cross_entropy", reduction, size_average, reduce)
    input, target = _pair("binary_cross_entropy", input, target, same_shape=True)
    float_input("binary_cross_entropy", input)
    x = input.array
    if not ((x >= 0) & (x <= 1)).all():  # NaN fails too, as in PyTorch
        raise ArgumentError("binary_cross_entropy(): all elements of input should be between 0 and 1")
    target = _float_target(target, input)
    # PyTorch clamps the logs at -100, so that probabilities 0 and 1 give a finite loss
    losses = -(target * input.log().clamp(min=-100) + (1 - target) * (1 - input).log().clamp(min=-100))
    if weight is not None:
        check_tensor("binary_cross_entropy", "weight", weight)
        losses = losses * weight
    return _reduce(losses, reduction)


def _bce_logits_samples(make):
    yield Sample((make(3, 4), make(3, 4, low=0, high=1, requires_grad=False)), name="mean")
    yield Sample((make(3, 4), make(3, 4, low=0, high=1)),
                 {"weight": make(4, low=0.5, high=2, requires_grad=False), "reduction": "sum"}, name="weight, sum")
    yield Sample((make(3, 4), make(3, 4, low=0, high=1, requires_grad=False)),
                 {"pos_weight": make(4, low=0.5, high=3, requires_grad=False), "reduction": "none"}, name="pos_weight")
    yield Sample((make(4, low=-1e4, high=1e4), make(4, low=0, high=1, requires_grad=False)), name="huge logits")


@ops.op(namespaces=("functional",), samples=_bce_logits_samples,
        errors=_size_mismatch_errors("binary_cross_entropy_with_logits"))
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross-entropy of ``sigmoid(input)``, computed from the logits without overflow
    (``F.binary_cross_entropy_with_logits``): ``(1 - t) x + (1 + (pw - 1) t) softplus(-x)``.

    Shape:
        - input: ``(*)`` logits, floating point.
        - target: ``(*)``, the shape of ``input``.
        - weight, pos_weight: broadcastable to ``input`` (``pos_weight`` along the last dim), or None.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(*)``; the dtype of ``input``.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ArgumentError: ``target``'s shape is not ``input``'s.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input``, ``target``, ``weight`` or ``pos_weight`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.binary_cross_entropy_with_logits``."""
    reduction = _reduction("binary_cross_entropy_with_logits", reduction, size_average, reduce)
    input, target = _pair("binary_cross_entropy_with_logits", float_input("binary_cross_entropy_with_logits", input),
                          target, same_shape=True)
    target = _float_target(target, input)
    sp = softplus(-input)  # log(1 + exp(-x)) without overflow, for logits of any size
    if pos_weight is not None:
        check_tensor("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
        losses = (1 - target) * input + (1 + (pos_weight - 1) * target) * sp
    else:
        losses = (1 - target) * input + sp
    if weight is not None:
        check_tensor("binary_cross_entropy_with_logits", "weight", weight)
        losses = losses * weight
    return _reduce(losses, reduction)


# -- distributions ------------------------------------------------------------------------------------

def _kl_samples(make):
    yield Sample((make(3, 4).log_softmax(1), make(3, 4, requires_grad=False).softmax(1)), {"reduction": "batchmean"},
                 name="batchmean")
    yield Sample((make(3, 4).log_softmax(1), make(3, 4, low=0.1, high=1)), {"reduction": "sum"}, name="sum, target grad")
    yield Sample((make(3, 4), make(3, 4).log_softmax(1)), {"log_target": True, "reduction": "none"}, name="log_target")
    yield Sample((make(3, 4), make(3, 4, low=0.1, high=1)), name="mean")


@ops.op(namespaces=("functional",), samples=_kl_samples, errors=_unbroadcastable_errors("kl_div"))
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence ``target (log target - input)`` with ``input`` log-probabilities (``F.kl_div``);
    ``reduction='batchmean'`` divides the sum by the batch size (the mathematically right mean).

    Shape:
        - input: ``(*)`` log-probabilities, floating point.
        - target: ``(*)``, the shape of ``input`` (probabilities; log-probabilities with ``log_target``).
        - output: ``()`` for reduction 'mean', 'batchmean' or 'sum'; ``(*)`` for 'none'.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean', 'batchmean' or 'sum'.
        ShapeError: ``input`` and ``target`` shapes do not broadcast.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` or ``target`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.kl_div``."""
    if reduction == "batchmean":
        if size_average is not None or reduce is not None:
            reduction = _reduction("kl_div", "mean", size_average, reduce)
    else:
        reduction = _reduction("kl_div", reduction, size_average, reduce)
    input, target = _pair("kl_div", float_input("kl_div", input), target)
    target = _float_target(target, input)
    if log_target:
        losses = target.exp() * (target - input)
    else:  # xlogy(t, t): 0 where t is 0
        losses = target * (target + (target == 0).to(target.dtype)).log() - target * input
    if reduction == "batchmean":
        return losses.sum() / (input.shape[0] if input.dim() else 1)
    return _reduce(losses, reduction)


# -- ranking and embedding losses -----------------------------------------------------------------------

@ops.op(namespaces=("functional",), samples=lambda make: [
    Sample((make(5), make(5), make.index([1, -1, 1, 1, -1]).to(make.dtype))),
    Sample((make(5), make(5), make.index([1, -1, 1, 1, -1]).to(make.dtype)), {"margin": 0.5, "reduction": "none"})])
def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """``max(0, -target (input1 - input2) + margin)`` (``F.margin_ranking_loss``).

    Shape:
        - input1, input2, target: one shape (``target`` of 1 or -1); any dtype but bool, integers give the default
          float.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', the shape of the inputs.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ShapeError: the three tensors differ in number of dimensions or in shape.
        DTypeError: ``input1`` is a bool tensor.
        TypeError: an argument is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.margin_ranking_loss``."""
    reduction = _reduction("margin_ranking_loss", reduction, size_average, reduce)
    for name, t in (("input1", input1), ("input2", input2), ("target", target)):
        check_tensor("margin_ranking_loss", name, t)
    if not (input1.dim() == input2.dim() == target.dim()):
        raise ShapeError(f"margin_ranking_loss(): all input tensors should have the same number of dimensions, got "
                         f"input1 {tuple(input1.shape)}, input2 {tuple(input2.shape)} and target {tuple(target.shape)}")
    try:
        np.broadcast_shapes(tuple(input1.shape), tuple(input2.shape), tuple(target.shape))
    except ValueError:
        raise ShapeError(f"margin_ranking_loss(): shapes of input1 {tuple(input1.shape)}, input2 "
                         f"{tuple(input2.shape)} and target {tuple(target.shape)} do not match") from None
    return _reduce((-target * (input1 - input2) + margin).relu(), reduction)


def _triplet_samples(make):
    yield Sample((make(4, 3), make(4, 3), make(4, 3)), name="mean")
    yield Sample((make(4, 3), make(4, 3), make(4, 3)), {"margin": 0.5, "p": 1, "reduction": "none"}, name="p=1")
    yield Sample((make(4, 3), make(4, 3), make(4, 3)), {"swap": True, "reduction": "sum"}, name="swap")
    yield Sample((make(3), make(3), make(3)), {"margin": 3.0}, name="unbatched")


def _triplet_margin_loss_errors(make):
    yield ErrorInput(Sample((make(4, 3), make(4), make(4, 3))), RuntimeError,
                     r"triplet_margin_loss\(\): .*\(4, 3\), \(4,\) and \(4, 3\)")


@ops.op(namespaces=("functional",), samples=_triplet_samples, errors=_triplet_margin_loss_errors)
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with ``d`` the p-norm distance (``F.triplet_margin_loss``).

    Shape:
        - anchor, positive, negative: ``(N, D)`` or ``(D,)``, one number of dims and shapes that broadcast; any
          dtype but bool.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(N,)`` (``()`` for 1-D inputs).

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ArgumentError: ``margin`` is not greater than 0.
        ShapeError: the three tensors differ in number of dimensions, or their shapes do not broadcast.
        DTypeError: ``anchor`` is a bool tensor.
        TypeError: an argument is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.triplet_margin_loss``."""
    reduction = _reduction("triplet_margin_loss", reduction, size_average, reduce)
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        check_tensor("triplet_margin_loss", name, t)
    dims = {anchor.dim(), positive.dim(), negative.dim()}
    if len(dims) != 1:  # any rank, as PyTorch: the distance is over the last dim (of a 0-d tensor, itself)
        raise ShapeError(f"triplet_margin_loss(): the anchor, positive and negative tensors must have the same "
                         f"number of dimensions, got shapes {tuple(anchor.shape)}, {tuple(positive.shape)} "
                         f"and {tuple(negative.shape)}")
    if margin <= 0:
        raise ArgumentError(f"triplet_margin_loss(): margin must be greater than 0, got {margin}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + margin).relu(), reduction)


def _cosine_embedding_loss_errors(make):
    yield ErrorInput(Sample((make(4, 3), make(4, 2), make(4))), RuntimeError,
                     r"cosine_embedding_loss\(\): .*input1 \(4, 3\), input2 \(4, 2\)")


@ops.op(namespaces=("functional",), samples=lambda make: [
    Sample((make(4, 3), make(4, 3), make.index([1, -1, 1, -1]).to(make.dtype))),
    Sample((make(4, 3), make(4, 3), make.index([1, -1, -1, -1]).to(make.dtype)), {"margin": -0.5, "reduction": "sum"}),
    Sample((make(3), make(3), make.index(-1).to(make.dtype)), {"reduction": "none"}, name="unbatched")],
        errors=_cosine_embedding_loss_errors)
def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """``1 - cos(x1, x2)`` for target 1, ``max(0, cos(x1, x2) - margin)`` for target -1
    (``F.cosine_embedding_loss``).

    Shape:
        - input1, input2: ``(N, D)`` or ``(D,)``, one shape.
        - target: ``(N,)`` or ``()``, values 1 or -1.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(N,)`` or ``()``; floating point.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ShapeError: ``input1`` and ``input2`` are not one 1-D or 2-D shape, or ``target`` is not their batch shape.
        TypeError: an argument is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.cosine_embedding_loss``."""
    reduction = _reduction("cosine_embedding_loss", reduction, size_average, reduce)
    for name, t in (("input1", input1), ("input2", input2), ("target", target)):
        check_tensor("cosine_embedding_loss", name, t)
    if tuple(input1.shape) != tuple(input2.shape) or input1.dim() not in (1, 2) or \
            tuple(target.shape) != tuple(input1.shape[:-1]):
        raise ShapeError(f"cosine_embedding_loss(): expected input1 and input2 of the same 1-D or 2-D shape and a "
                         f"target of their batch shape, got input1 {tuple(input1.shape)}, input2 "
                         f"{tuple(input2.shape)} and target {tuple(target.shape)}")
    eps = 1e-12
    dot = (input1 * input2).sum(-1)
    cos = dot / ((input1 * input1).sum(-1) + eps).mul((input2 * input2).sum(-1) + eps).sqrt()
    pos = (target == 1).to(cos.dtype) * (1 - cos)
    neg = (target == -1).to(cos.dtype) * (cos - margin).relu()
    return _reduce(pos + neg, reduction)
