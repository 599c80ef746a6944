"""Connectionist temporal classification loss (``F.ctc_loss``): the forward-variable (alpha) recursion in
log space, composed from ember ops so that its gradient, higher orders included, comes for free.

The lengths and targets are integers that never carry a gradient, so they are read on the host once
and turned into constant index and mask tensors; the only Python loop is over time steps.
"""

from __future__ import annotations

import math

import numpy as np

import ember
from ember.device import DeviceError
from ember.ops import (ArgumentError, DTypeError, DimensionError, ErrorInput, OpTable, OutOfRangeError, Sample,
                       ShapeError, StabilityInput, check_tensor, float_input)
from ember.tensor import Tensor
from ember.ops import wrap

ops = OpTable()

_REDUCTIONS = ("none", "mean", "sum")

# Log-probability of an unreachable state. Finite (not -inf) so that no gradient turns into nan:
# every exp() of it is exactly 0, so it contributes neither to the value nor to the gradient.
_UNREACHABLE = -1e30


def _lengths(name, lengths, batch):
    """``lengths`` (an integer tensor of any shape, or a list/tuple of ints) as a host int64 array of
    ``batch`` values."""
    if isinstance(lengths, Tensor):
        if lengths.dtype.is_floating_point or lengths.dtype is ember.bool or lengths.dtype.is_complex:
            raise DTypeError(f"ctc_loss(): {name} must be integral, got a tensor of dtype {lengths.dtype}")
        values = np.asarray(lengths, dtype=np.int64).reshape(-1)
    elif isinstance(lengths, (tuple, list)):
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in lengths):
            raise DTypeError(f"ctc_loss(): {name} must be a tensor or a list/tuple of ints, got {list(lengths)!r}")
        values = np.asarray(lengths, dtype=np.int64).reshape(-1)
    else:
        raise TypeError(f"ctc_loss(): {name} must be a tensor or a list/tuple of ints, got "
                        f"{type(lengths).__name__}")
    if values.size != batch:
        raise ShapeError(f"ctc_loss(): {name} must be of size batch_size ({batch}), got {values.size} values "
                         f"{values.tolist()}")
    if values.size and values.min() < 0:
        raise ShapeError(f"ctc_loss(): expected {name} to have value at least 0, but got value {values.min()}")
    return values


def _padded_targets(targets, target_lengths, batch):
    """The targets as a host (N, S) int64 array (row n holds its ``target_lengths[n]`` labels first), from
    PyTorch's padded (N, S) or concatenated 1-D layout."""
    labels = np.asarray(targets).astype(np.int64)
    width = int(target_lengths.max()) if target_lengths.size else 0
    if targets.dim() == 2:
        if labels.shape[0] != batch:
            raise ShapeError(f"ctc_loss(): padded targets must have batch_size ({batch}) rows, got targets of "
                             f"shape {tuple(targets.shape)}")
        if labels.shape[1] < width:
            raise ShapeError(f"ctc_loss(): padded targets of shape {tuple(targets.shape)} are too short for "
                             f"target_lengths {target_lengths.tolist()}: expected at least {width} columns")
        return labels[:, :width]
    if targets.dim() != 1:
        raise DimensionError(f"ctc_loss(): targets must be 2-D (batch_size, max target length) or 1-D (concatenated), "
                             f"got shape {tuple(targets.shape)}")
    total = int(target_lengths.sum())
    if labels.shape[0] != total:
        raise ShapeError(f"ctc_loss(): concatenated targets must hold sum(target_lengths) = {total} labels, got "
                         f"{labels.shape[0]}")
    padded = np.zeros((batch, width), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(target_lengths)[:-1]])
    for n, (start, length) in enumerate(zip(starts, target_lengths)):
        padded[n, :length] = labels[start:start + length]
    return padded


def _min_input_lengths(labels, target_lengths):
    """The fewest time steps that can emit each target: one per label, plus a blank between repeats."""
    if labels.shape[1] < 2:
        return target_lengths.copy()
    used = np.arange(1, labels.shape[1])[None, :] < target_lengths[:, None]
    repeats = ((labels[:, 1:] == labels[:, :-1]) & used).sum(1)
    return target_lengths + repeats


def _alpha_recursion(emit, extended, input_lengths, device):
    """log p(target | input) per sample: the alpha recursion over (T, N, L) emission log-probabilities of the
    extended labels (``extended``: blanks at even positions, labels at odd ones)."""
    xp = device.xp
    steps, batch, width = emit.shape
    position = np.arange(width)
    # a label may be reached from two positions back (skipping a blank) unless it repeats the label there
    skip = (position % 2 == 1)[None, :] & (position >= 2)[None, :]
    skip = skip & np.concatenate([np.zeros((batch, 2), bool), extended[:, 2:] != extended[:, :-2]], 1)
    skip = wrap(xp.asarray(skip), device)
    start = wrap(xp.asarray(position < 2), device)
    unreachable = ember.full((batch, 2), _UNREACHABLE, dtype=emit.dtype, device=emit.device)
    alpha = ember.where(start, emit[0], _UNREACHABLE)
    for t in range(1, steps):
        padded = ember.cat([unreachable, alpha], 1)
        from_skip = ember.where(skip, padded[:, :width], _UNREACHABLE)
        step = ember.stack([alpha, padded[:, 1:width + 1], from_skip], 0).logsumexp(0) + emit[t]
        active = input_lengths > t
        if active.all():
            alpha = step
        else:  # a sample whose input has ended keeps its last alpha
            alpha = ember.where(wrap(xp.asarray(active[:, None]), device), step, alpha)
    return alpha


def _ctc_loss_errors(make):
    rows = [[1, 2, 2], [3, 1, 0]]
    lp, targets = make(6, 2, 4), make.index(rows)
    yield ErrorInput(Sample((make(1, 6, 2, 4), targets, make.index([6, 5]), make.index([3, 2]))), RuntimeError,
                     r"ctc_loss\(\).*log_probs must be 3-D.*2-D.*\(1, 6, 2, 4\)")
    yield ErrorInput(Sample((make(4), make.index([1]), make.index([1]), make.index([1]))), RuntimeError,
                     r"ctc_loss\(\).*log_probs must be 3-D.*got shape \(4,\)")
    yield ErrorInput(Sample((lp, targets, make.index([7, 5]), make.index([3, 2]))), RuntimeError,
                     r"ctc_loss\(\).*input_lengths.*at most 6.*got value 7")
    yield ErrorInput(Sample((lp, targets, [6, 5], [3, -1])), RuntimeError,
                     r"ctc_loss\(\).*target_lengths.*at least 0.*got value -1")
    yield ErrorInput(Sample((lp, targets, make.index([6, 5, 4]), make.index([3, 2]))), RuntimeError,
                     r"ctc_loss\(\).*input_lengths.*batch_size \(2\).*3 values \[6, 5, 4\]")
    yield ErrorInput(Sample((lp, targets, (6, 5), (3,))), RuntimeError,
                     r"ctc_loss\(\).*target_lengths.*batch_size \(2\).*1 values \[3\]")
    yield ErrorInput(Sample((lp, make.index(rows[:1]), make.index([6, 5]), make.index([3, 2]))), RuntimeError,
                     r"ctc_loss\(\).*targets.*batch_size \(2\) rows.*\(1, 3\)")
    yield ErrorInput(Sample((lp, targets, make.index([6, 5]), make.index([4, 2]))), RuntimeError,
                     r"ctc_loss\(\).*\(2, 3\).*target_lengths \[4, 2\].*at least 4 columns")
    yield ErrorInput(Sample((lp, make.index([1, 2, 2, 3]), make.index([6, 5]), make.index([3, 2]))), RuntimeError,
                     r"ctc_loss\(\).*sum\(target_lengths\) = 5 labels, got 4")
    float_lengths = make.tensor([6.0, 5.0], requires_grad=False, dtype=ember.float32)
    yield ErrorInput(Sample((lp, targets, float_lengths, make.index([3, 2]))), TypeError,
                     r"ctc_loss\(\).*input_lengths must be integral.*float32")
    yield ErrorInput(Sample((make(6, 4), make.index([1, 2]), 6, (2,))), TypeError,
                     r"ctc_loss\(\).*input_lengths.*tensor or a list/tuple of ints.*int")
    yield ErrorInput(Sample((lp, targets, [6, 5], [3, 2]), {"blank": 4}), RuntimeError,
                     r"ctc_loss\(\).*blank must be in label range \[0, 4\), got 4")
    yield ErrorInput(Sample((lp, make.index([[1, 5, 2], [3, 1, 0]]), [6, 5], [3, 2])), IndexError,
                     r"ctc_loss\(\).*target 5 is out of bounds for 4 classes")
    yield ErrorInput(Sample((lp, targets, [6, 5], [3, 2]), {"blank": 1}), ValueError,
                     r"ctc_loss\(\).*blank label 1.*\[\[1, 2, 2\], \[3, 1\]\]")
    yield ErrorInput(Sample((lp, targets, [6, 5], [3, 2]), {"reduction": "avg"}), ValueError,
                     r"ctc_loss\(\).*'avg' is not a valid value for reduction")
    yield ErrorInput(Sample((make(6, 2, 4, dtype="float16"), targets, [6, 5], [3, 2])), TypeError,
                     r"ctc_loss\(\): not implemented for log_probs of dtype float16; expected float32 or float64")


def _ctc_loss_stability(make):
    """Infinite losses, as in PyTorch: a target that cannot fit its input length, and an empty input."""
    log_probs = make.tensor(np.log(np.full((6, 2, 4), 0.25)))
    targets = make.index([[1, 2, 2], [3, 1, 0]])
    yield StabilityInput(Sample((log_probs, targets, make.index([2, 5]), make.index([3, 2])), {"reduction": "none"}),
                         finite=False)
    yield StabilityInput(Sample((log_probs, targets, make.index([0, 0]), make.index([0, 2])), {"reduction": "none"}),
                         expected=[0.0, math.inf], finite=False)


@ops.op(namespaces=("functional",), torch="torch.nn.functional.ctc_loss", samples=lambda make: _ctc_samples(make),
        errors=_ctc_loss_errors, stability=_ctc_loss_stability)
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification loss (``F.ctc_loss``): ``-log`` of the total probability of all
    alignments of ``targets`` to ``log_probs`` (T, N, C) or unbatched (T, C).

    Computed on ``log_softmax(log_probs, 2)``, which is ``log_probs`` itself for log-probabilities (the documented
    input). That makes the gradient PyTorch's: PyTorch returns ``exp(log_probs) - posterior``, the gradient of
    exactly this composition, rather than the plain derivative ``-posterior``. For inputs that are not normalised
    the value therefore differs from PyTorch's, which uses them raw. Infeasible targets (too long for their input)
    give ``inf``, or 0 with ``zero_infinity=True``; ember's gradient there is 0 (PyTorch's is nan without
    ``zero_infinity``).

    Shape:
        - log_probs: ``(T, N, C)`` or unbatched ``(T, C)``, float32 or float64 log-probabilities.
        - targets: ``(N, S)`` padded or ``(sum(target_lengths),)`` concatenated class indices, never ``blank``.
        - input_lengths, target_lengths: ``(N,)`` tensors or lists of ints.
        - output: ``()`` for reduction 'mean' or 'sum', ``(N,)`` for 'none'; the dtype of ``log_probs``.

    Raises:
        DimensionError: ``log_probs`` is not 2-D or 3-D, or ``targets`` is not 1-D or 2-D.
        ShapeError: ``log_probs`` is empty, ``blank`` is outside [0, C), the lengths do not match the batch, are
            negative or exceed T or the targets.
        OutOfRangeError: a target index is outside [0, C).
        ArgumentError: ``reduction`` is unknown, or a target is the ``blank`` label.
        DTypeError: ``log_probs`` is not float32/float64, or the lengths are not integral.
        TypeError: ``log_probs`` or ``targets`` is not a Tensor, or lengths are neither tensors nor lists of ints.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.ctc_loss``."""
    check_tensor("ctc_loss", "log_probs", log_probs)
    check_tensor("ctc_loss", "targets", targets)
    if reduction not in _REDUCTIONS:
        raise ArgumentError(f"ctc_loss(): {reduction!r} is not a valid value for reduction; expected one of "
                            f"{_REDUCTIONS}")
    float_input("ctc_loss", log_probs, "log_probs", low_precision=False)  # no float16 kernel, as in PyTorch
    if targets.device != log_probs.device:
        raise DeviceError(f"ctc_loss(): targets is on {targets.device} but log_probs is on {log_probs.device}")
    unbatched = log_probs.dim() == 2
    if log_probs.dim() not in (2, 3):
        raise DimensionError(f"ctc_loss(): log_probs must be 3-D (input length, batch size, classes) or 2-D "
                             f"(unbatched), got shape {tuple(log_probs.shape)}")
    if unbatched:
        if targets.dim() != 1:
            raise ShapeError(f"ctc_loss(): for unbatched log_probs of shape {tuple(log_probs.shape)} targets must "
                             f"be 1-D, got shape {tuple(targets.shape)}")
        log_probs, targets = log_probs.unsqueeze(1), targets.unsqueeze(0)
    steps, batch, classes = log_probs.shape
    if log_probs.numel() == 0:
        raise ShapeError(f"ctc_loss(): log_probs must not be empty, got shape {tuple(log_probs.shape)}")
    if not 0 <= blank < classes:
        raise ShapeError(f"ctc_loss(): blank must be in label range [0, {classes}), got {blank}")
    input_lengths = _lengths("input_lengths", input_lengths, batch)
    target_lengths = _lengths("target_lengths", target_lengths, batch)
    if input_lengths.max() > steps:
        raise ShapeError(f"ctc_loss(): expected input_lengths to have value at most {steps} (the length of "
                         f"log_probs), but got value {input_lengths.max()}")
    labels = _padded_targets(targets, target_lengths, batch)
    used = np.arange(labels.shape[1])[None, :] < target_lengths[:, None]
    if labels[used].size and (labels[used].min() < 0 or labels[used].max() >= classes):
        bad = labels[used].min() if labels[used].min() < 0 else labels[used].max()
        raise OutOfRangeError(f"ctc_loss(): target {bad} is out of bounds for {classes} classes")
    if (labels[used] == blank).any():
        raise ArgumentError(f"ctc_loss(): targets must not contain the blank label {blank}, got targets "
                            f"{[row[:length].tolist() for row, length in zip(labels, target_lengths)]}")

    device = log_probs.device
    xp = device.xp
    extended = np.full((batch, 2 * labels.shape[1] + 1), blank, dtype=np.int64)
    extended[:, 1::2] = np.where(used, labels, blank)
    horizon = max(int(input_lengths.max()), 1)
    lp = log_probs[:horizon].log_softmax(2)
    index = wrap(xp.asarray(np.broadcast_to(extended, (horizon,) + extended.shape).copy()), device)
    alpha = _alpha_recursion(lp.gather(2, index), extended, input_lengths, device)

    last = np.stack([2 * target_lengths, np.maximum(2 * target_lengths - 1, 0)], 1)
    ends = alpha.gather(1, wrap(xp.asarray(last), device))
    ends = ember.where(wrap(xp.asarray(np.stack([target_lengths >= 0, target_lengths > 0], 1)), device), ends,
                       _UNREACHABLE)
    losses = -ends.logsumexp(1)
    feasible = input_lengths >= _min_input_lengths(labels, target_lengths)
    fill = np.where(feasible, 0.0, 0.0 if zero_infinity else np.inf)
    keep = feasible & (input_lengths > 0)  # no input and no target: probability 1
    if not keep.all():
        losses = ember.where(wrap(xp.asarray(keep), device), losses,
                             wrap(xp.asarray(fill.astype(losses.array.dtype)), device))
    if reduction == "none":
        return losses[0] if unbatched else losses
    if reduction == "sum":
        return losses.sum()
    divisor = wrap(xp.asarray(np.maximum(target_lengths, 1).astype(losses.array.dtype)), device)
    return (losses / divisor).mean()


def _ctc_samples(make):
    def logp(*shape):
        return make(*shape).log_softmax(len(shape) - 1)

    padded = make.index([[1, 2, 2], [3, 1, 0]])
    yield Sample((logp(6, 2, 4), padded, make.index([6, 5]), make.index([3, 2])), name="padded, mean")
    yield Sample((logp(6, 2, 4), padded, make.index([6, 5]), make.index([3, 2])), {"reduction": "sum"},
                 name="padded, sum")
    yield Sample((logp(6, 2, 4), padded, (6, 4), (3, 1)), {"reduction": "none"}, name="tuple lengths, none")
    yield Sample((logp(6, 2, 4), make.index([1, 2, 2, 3, 1]), make.index([6, 6]), make.index([3, 2])),
                 {"reduction": "none"}, name="concatenated targets")
    yield Sample((logp(6, 2, 4), make.index([[0, 2, 0], [1, 1, 2]]), [5, 6], [3, 3]), {"blank": 3},
                 name="blank 3, repeats")
    yield Sample((logp(6, 2, 4), padded, make.index([2, 6]), make.index([3, 0])),
                 {"zero_infinity": True, "reduction": "none"}, name="infeasible, empty target, zero_infinity")
    yield Sample((logp(6, 4), make.index([2, 1]), make.index(6), make.index(2)), {"reduction": "none"},
                 name="unbatched")
