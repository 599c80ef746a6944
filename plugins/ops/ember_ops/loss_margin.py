"""The remaining losses of ``torch.nn.functional``, as composites of ember ops: ``soft_margin_loss``,
``hinge_embedding_loss``, ``poisson_nll_loss``, ``gaussian_nll_loss``, ``multilabel_soft_margin_loss``,
``multi_margin_loss``, ``multilabel_margin_loss``, ``triplet_margin_with_distance_loss``."""

from __future__ import annotations

import math

import numpy as np

from ember.ops import DTypeError, ErrorInput, OpTable, OutOfRangeError, Sample, ShapeError, check_tensor, float_input

from .loss import _reduction

ops = OpTable()


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _signs(make, *shape):
    return make.index(np.where(np.random.default_rng(3).random(shape) > 0.5, 1.0, -1.0)).to(make.dtype)


@ops.op(namespaces=("functional",), samples=lambda make: [
    Sample((make(3, 4), _signs(make, 3, 4))), Sample((make(5), _signs(make, 5)), {"reduction": "none"})])
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """mean(log(1 + exp(-y x))) for labels y in {-1, 1} (``torch.nn.functional.soft_margin_loss``).

    Shape:
        - input: ``(*)``; target: ``(*)``, values 1 or -1, a shape that broadcasts with ``input``. Any dtypes, but
          not both integral.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', the broadcast shape; floating point.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ShapeError: the shapes do not broadcast.
        DTypeError: ``input`` and ``target`` are both integral.
        TypeError: ``input`` or ``target`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.soft_margin_loss``."""
    check_tensor("soft_margin_loss", "input", input)
    check_tensor("soft_margin_loss", "target", target)
    from ember.nn import functional as F
    return _reduce(F.softplus(-target * input), _reduction("soft_margin_loss", reduction, size_average, reduce))


@ops.op(namespaces=("functional",), samples=lambda make: [
    Sample((make(3, 4), _signs(make, 3, 4))), Sample((make(5), _signs(make, 5)), {"margin": 0.5, "reduction": "sum"})])
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1 (``torch.nn.functional.hinge_embedding_loss``).

    Shape:
        - input: ``(*)``, floating point.
        - target: ``(*)``, values 1 or -1, the shape of ``input``.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(*)``.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ShapeError: the shapes do not broadcast.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` or ``target`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.hinge_embedding_loss``."""
    check_tensor("hinge_embedding_loss", "input", input)
    check_tensor("hinge_embedding_loss", "target", target)
    from ember import where
    if not input.dtype.is_floating_point:
        margin = int(margin)  # PyTorch computes in the integer input's dtype, truncating the margin
    zeros = input * 0
    pos = where(target == 1, input, zeros)
    neg = where(target == -1, (margin - input).clamp(min=0), zeros)
    return _reduce(pos + neg, _reduction("hinge_embedding_loss", reduction, size_average, reduce))


@ops.op(namespaces=("functional",), samples=lambda make: [
    Sample((make(3, 4), make(3, 4, low=0.0, high=3.0, requires_grad=False))),
    Sample((make(3, 4, low=0.5, high=2.0), make(3, 4, low=0.0, high=3.0, requires_grad=False)),
           {"log_input": False, "full": True}, name="rates, full")])
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Negative log-likelihood of ``target`` under Poisson(rate) (``torch.nn.functional.poisson_nll_loss``).

    Shape:
        - input: ``(*)``, the log-rate (the rate with ``log_input=False``); any dtype, integers give the default
          float.
        - target: ``(*)``, a shape that broadcasts with ``input``.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', the broadcast shape.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ShapeError: the shapes do not broadcast.
        TypeError: ``input`` or ``target`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.poisson_nll_loss``."""
    check_tensor("poisson_nll_loss", "input", input)
    check_tensor("poisson_nll_loss", "target", target)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, _reduction("poisson_nll_loss", reduction, size_average, reduce))


@ops.op(namespaces=("functional",), samples=lambda make: [
    Sample((make(3, 4), make(3, 4, requires_grad=False), make(3, 4, low=0.2, high=2.0))),
    Sample((make(3, 4), make(3, 4, requires_grad=False), make(3, 1, low=0.2, high=2.0)), {"full": True},
           name="one variance per row, full")])
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log(max(var, eps)) + (input - target)^2 / max(var, eps)) (+ 0.5 log(2 pi) with ``full``)
    (``torch.nn.functional.gaussian_nll_loss``).

    Shape:
        - input: ``(N, *)`` or ``(*)``, the predicted means, floating point.
        - target: the shape of ``input``.
        - var: the shape of ``input``, or it with one dim of size 1 (one variance shared).
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', the shape of ``input``.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ValueError: ``var`` has a negative entry.
        ShapeError: the shapes do not broadcast.
        DTypeError: ``var`` is not floating point.
        TypeError: an argument is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.gaussian_nll_loss``."""
    for name, t in (("input", input), ("target", target), ("var", var)):
        check_tensor("gaussian_nll_loss", name, t)
    if bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if not var.dtype.is_floating_point:  # PyTorch clamps var in place by the float eps, which fails
        raise DTypeError(f"gaussian_nll_loss(): var of dtype {var.dtype} cannot hold var clamped by eps={eps}; "
                         f"expected a floating dtype")
    if var.dim() == input.dim() - 1 and tuple(var.shape) == tuple(input.shape[:-1]):
        var = var.unsqueeze(-1)
    from ember import no_grad
    with no_grad():
        floor = var.detach().clamp(min=eps) - var.detach()
    v = var + floor  # clamped in value, gradient of var kept, as PyTorch's
    loss = 0.5 * (v.log() + (input - target) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, _reduction("gaussian_nll_loss", reduction))


def _binary(make, *shape):
    return make.index((np.random.default_rng(4).random(shape) > 0.5).astype(float)).to(make.dtype)


@ops.op(namespaces=("functional",), samples=lambda make: [
    Sample((make(3, 4), _binary(make, 3, 4))), Sample((make(2, 3), _binary(make, 2, 3)), {"reduction": "none"})])
def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per sample, the mean over classes of the binary cross entropy with logits
    (``torch.nn.functional.multilabel_soft_margin_loss``).

    Shape:
        - input: ``(N, C)`` or ``(C,)`` logits, floating point.
        - target: the shape of ``input``, values 0 or 1.
        - weight: ``(C,)`` or None.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(N,)``.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ShapeError: the shapes do not broadcast.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` or ``target`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.multilabel_soft_margin_loss``."""
    check_tensor("multilabel_soft_margin_loss", "input", input)
    from ember.nn import functional as F
    loss = -(target * F.logsigmoid(input) + (1 - target) * F.logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.mean(-1)
    return _reduce(loss, _reduction("multilabel_soft_margin_loss", reduction, size_average, reduce))


@ops.op(namespaces=("functional",), samples=lambda make: [
    Sample((make(3, 4), make.index([0, 3, 1]))), Sample((make(2, 5), make.index([4, 2])), {"p": 2, "margin": 0.5},
                                                       name="p=2"),
    Sample((make(), make.index(0)), name="0-d")])
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per sample, sum over classes i != y of max(0, margin - x[y] + x[i])^p / C
    (``torch.nn.functional.multi_margin_loss``).

    Shape:
        - input: ``(N, C)`` or ``(C,)``, floating point.
        - target: ``(N,)`` or ``()`` class indices in [0, C).
        - weight: ``(C,)`` or None.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(N,)``.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ValueError: ``p`` is not 1 or 2.
        ShapeError: ``target`` does not fit ``input``'s batch.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` or ``target`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.multi_margin_loss``."""
    check_tensor("multi_margin_loss", "input", input)
    check_tensor("multi_margin_loss", "target", target)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    float_input("multi_margin_loss", input)  # no integer kernel in PyTorch ("multi_margin_loss_cpu_kernel")
    x = input if input.dim() == 2 else input.reshape(1, -1)  # 0-d: one sample of one class, as in PyTorch
    y = target.reshape(-1, 1)
    picked = x.gather(1, y)
    terms = (margin - picked + x).clamp(min=0) ** p
    if weight is not None:
        terms = terms * weight[y]
    from ember.nn import functional as F
    others = 1 - F.one_hot(y.reshape(-1), x.shape[1]).to(x.dtype)
    loss = (terms * others).sum(1) / x.shape[1]
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, _reduction("multi_margin_loss", reduction, size_average, reduce))


@ops.op(namespaces=("functional",), samples=lambda make: [
    Sample((make(2, 4), make.index([[3, 0, -1, 1], [1, 2, 3, -1]]))), Sample((make(), make.index(0)), name="0-d")],
    errors=lambda make: [ErrorInput(Sample((make(2, 3), make.index([[0, 1, 2, -1], [0, 1, 2, -1]]))), ShapeError,
                                    r"multilabel_margin_loss\(\): inconsistent target size: .*\(2, 3\), got \(2, 4\)")])
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Per sample, sum over target classes j (up to the first -1) and non-target classes i of max(0, 1 - (x[j] -
    x[i])) / C (``torch.nn.functional.multilabel_margin_loss``).

    Shape:
        - input: ``(N, C)`` or ``(C,)``, floating point.
        - target: the shape of ``input``, int64 class indices padded with -1.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(N,)``.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ShapeError: ``target``'s shape is not ``input``'s.
        OutOfRangeError: a target value is outside [-1, C).
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` or ``target`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.multilabel_margin_loss``."""
    check_tensor("multilabel_margin_loss", "input", input)
    check_tensor("multilabel_margin_loss", "target", target)
    if input.device != target.device:
        from ember.device import DeviceError
        raise DeviceError(f"multilabel_margin_loss(): expected input and target on one device, got {input.device} "
                          f"and {target.device}")
    float_input("multilabel_margin_loss", input)  # no integer kernel in PyTorch
    if tuple(target.shape) != tuple(input.shape):
        raise ShapeError(f"multilabel_margin_loss(): inconsistent target size: expected target of input's shape "
                         f"{tuple(input.shape)}, got {tuple(target.shape)}")
    x = input if input.dim() == 2 else input.reshape(1, -1)  # 0-d: one sample of one class, as in PyTorch
    t = np.asarray(target).reshape(x.shape[0], -1)
    c = x.shape[1]
    if t.size and (t.min() < -1 or t.max() >= c):  # PyTorch checks every entry, also past the first -1
        raise OutOfRangeError(f"multilabel_margin_loss(): target values must be in [-1, {c}), got values in "
                              f"[{t.min()}, {t.max()}]")
    is_target = np.zeros((x.shape[0], c))
    pairs = np.zeros((x.shape[0], c, c))  # [n, j, i]: j a target class, i not
    for n, row in enumerate(t):
        labels = []
        for v in row:
            if v < 0:
                break
            labels.append(int(v))
        is_target[n, labels] = 1
        for j in labels:
            pairs[n, j] = 1
    pairs = pairs * (1 - is_target[:, None, :])
    from ember import tensor
    mask = tensor(pairs, dtype=x.dtype, device=x.device)
    diffs = (1 - (x.unsqueeze(2) - x.unsqueeze(1))).clamp(min=0)  # [n, j, i]
    loss = (diffs * mask).sum((1, 2)) / c
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, _reduction("multilabel_margin_loss", reduction, size_average, reduce))


@ops.op(namespaces=("functional",), samples=lambda make: [
    Sample((make(3, 4), make(3, 4), make(3, 4))), Sample((make(3, 4), make(3, 4), make(3, 4)),
                                                         {"margin": 0.5, "swap": True, "reduction": "sum"}, name="swap")])
def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with ``distance_function`` (pairwise distance by default)
    (``torch.nn.functional.triplet_margin_with_distance_loss``).

    Shape:
        - anchor, positive, negative: ``(N, D)`` or ``(D,)``, shapes ``distance_function`` takes (the pairwise
          distance by default).
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(N,)``.

    Raises:
        ArgumentError: ``reduction`` is not 'none', 'mean' or 'sum'.
        ShapeError: the default distance gets shapes that do not broadcast.
        DTypeError: ``anchor`` is a bool tensor.
        TypeError: an argument is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.triplet_margin_with_distance_loss``."""
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        check_tensor("triplet_margin_with_distance_loss", name, t)
    from ember.nn import functional as F
    d = distance_function or F.pairwise_distance
    d_pos, d_neg = d(anchor, positive), d(anchor, negative)
    if swap:
        from ember import minimum
        d_neg = minimum(d_neg, d(positive, negative))
    return _reduce((d_pos - d_neg + margin).clamp(min=0), _reduction("triplet_margin_with_distance_loss", reduction))
