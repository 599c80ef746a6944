"""Classification losses: nll_loss and cross_entropy (class indices or probabilities, weight,
ignore_index, label_smoothing, reduction), composed from log_softmax and indexing."""

from __future__ import annotations

import ember
from ember.ops import OpTable, Sample, ShapeError, check_tensor

ops = OpTable()

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(op, reduction, size_average=None, reduce=None):
    if size_average is not None or reduce is not None:  # PyTorch's deprecated pair
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}(): {reduction!r} is not a valid value for reduction; expected one of {_REDUCTIONS}")
    return reduction


def _classes_last(op, input, target):
    """(M, C) scores and (M,) targets from PyTorch's (N, C, d1, ...) / (N, d1, ...) layouts (or (C,) / ())."""
    if input._data.ndim == 0:
        raise ShapeError(f"{op}(): input must have at least 1 dimension (classes), got a 0-d tensor")
    if input._data.ndim == 1:
        if target._data.ndim != 0:
            raise ShapeError(f"{op}(): for 1-D input of shape {tuple(input.shape)} the target must be 0-d, got "
                             f"shape {tuple(target.shape)}")
        return input.unsqueeze(0), target.reshape(1), ()
    n, c = input._data.shape[:2]
    expected = (n,) + input._data.shape[2:]
    if target._data.shape != expected:
        if target._data.ndim and target._data.shape[0] != n:
            raise ShapeError(f"{op}(): expected input batch_size ({n}) to match target batch_size "
                             f"({target._data.shape[0]})")
        raise ShapeError(f"{op}(): expected target of shape {expected} for input of shape {tuple(input.shape)}, got "
                         f"{tuple(target.shape)}")
    if input._data.ndim > 2:
        input = input.movedim(1, -1)
    return input.reshape(-1, c), target.reshape(-1), expected


def _nll(op, logp, target, weight, ignore_index, reduction):
    """Negative log-likelihood of integer class targets, on (M, C) log-probabilities."""
    if target._dtype.is_floating_point or target._dtype is ember.bool:
        raise TypeError(f"{op}(): expected target of an integer dtype (class indices), got {target._dtype}")
    logp2, flat_target, out_shape = _classes_last(op, logp, target)
    n_classes = logp2.shape[1]
    keep = flat_target != ignore_index
    safe = flat_target * keep
    if flat_target.numel():
        low, high = int(safe._data.min()), int(safe._data.max())
        if low < 0 or high >= n_classes:
            bad = low if low < 0 else high
            raise IndexError(f"{op}(): target {bad} is out of bounds for {n_classes} classes")
    rows = ember.arange(flat_target.shape[0], device=logp.device)
    picked = logp2[rows, safe]
    w = keep.to(logp.dtype) if weight is None else weight[safe] * keep
    losses = -(picked * w)
    if reduction == "none":
        return losses.reshape(out_shape)
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / w.sum()


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


@ops.op(where=("functional",), samples=_nll_samples)
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of class ``target`` given log-probabilities ``input`` (``F.nll_loss``)."""
    check_tensor("nll_loss", "input", input)
    check_tensor("nll_loss", "target", target)
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


@ops.op(where=("functional",), samples=_ce_samples)
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits ``input`` and class indices or class probabilities ``target``
    (``F.cross_entropy``): log_softmax over the class dim, then the negative log-likelihood."""
    check_tensor("cross_entropy", "input", input)
    check_tensor("cross_entropy", "target", target)
    reduction = _reduction("cross_entropy", reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy(): label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    if not input.is_floating_point():
        raise TypeError(f"cross_entropy(): expected floating point logits, got {input.dtype}")
    class_dim = 0 if input.dim() == 1 else 1
    n_classes = input.shape[class_dim]
    weight = _check_weight("cross_entropy", weight, n_classes, input.dtype)
    logp = input.log_softmax(class_dim)
    if target.is_floating_point():
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
