"""Loss modules: thin Modules over the functional losses, with PyTorch's constructor arguments
(including the legacy ``size_average``/``reduce`` pair) and class weights kept as buffers."""

from __future__ import annotations

from ember.nn import LayerSample, Module
from ember.nn import functional as F

from ._checks import expect_tensor

__all__ = ["L1Loss", "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "HuberLoss",
           "SmoothL1Loss", "KLDivLoss", "MarginRankingLoss", "TripletMarginLoss", "CosineEmbeddingLoss", "CTCLoss"]


def _legacy_reduction(size_average, reduce) -> str:
    """PyTorch's mapping of the deprecated (size_average, reduce) pair to ``reduction``."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce)
        if reduction not in ("none", "mean", "sum"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


def _pairs(make, *extra, low=-2.0, high=2.0):
    return [LayerSample(inputs=(make(3, 4, low=low, high=high), make(3, 4, low=low, high=high, requires_grad=False))),
            LayerSample(kwargs={"reduction": "sum"}, inputs=(make(2, 3, low=low, high=high),
                                                             make(2, 3, low=low, high=high, requires_grad=False)),
                        name="sum"),
            LayerSample(kwargs={"reduction": "none"}, inputs=(make(5, low=low, high=high),
                                                              make(5, low=low, high=high, requires_grad=False)),
                        name="none"),
            *extra]


class L1Loss(_Loss):
    """Mean absolute error (``torch.nn.L1Loss``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - target: ``(*)``, the shape of ``input`` (a shape that broadcasts to it is used with a warning, as in
          PyTorch).
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(*)``; the dtype of ``input``.

    Raises:
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ShapeError: ``input`` and ``target`` shapes do not broadcast.
        DTypeError: ``input`` is not floating point.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.L1Loss``."""

    def forward(self, input, target):
        expect_tensor(self, input)
        return F.l1_loss(input, target, reduction=self.reduction)

    @staticmethod
    def samples(make):
        return _pairs(make)


class MSELoss(_Loss):
    """Mean squared error (``torch.nn.MSELoss``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - target: ``(*)``, the shape of ``input`` (a shape that broadcasts to it is used with a warning, as in
          PyTorch).
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(*)``; the dtype of ``input``.

    Raises:
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ShapeError: ``input`` and ``target`` shapes do not broadcast.
        DTypeError: ``input`` is not floating point.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.MSELoss``."""

    def forward(self, input, target):
        expect_tensor(self, input)
        return F.mse_loss(input, target, reduction=self.reduction)

    @staticmethod
    def samples(make):
        return _pairs(make)


class HuberLoss(_Loss):
    """Squared error below ``delta``, linear above (``torch.nn.HuberLoss``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - target: ``(*)``, the shape of ``input`` (a shape that broadcasts to it is used with a warning, as in
          PyTorch).
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(*)``; the dtype of ``input``.

    Raises:
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ArgumentError: ``delta`` is not positive (``F.huber_loss``).
        ShapeError: ``input`` and ``target`` shapes do not broadcast.
        DTypeError: ``input`` is not floating point.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.HuberLoss``."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        expect_tensor(self, input)
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)

    @staticmethod
    def samples(make):
        return _pairs(make, LayerSample(kwargs={"delta": 0.5}, inputs=(make(3, 4), make(3, 4, requires_grad=False)),
                                        name="delta"))


class SmoothL1Loss(_Loss):
    """Huber loss divided by ``beta`` (``torch.nn.SmoothL1Loss``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - target: ``(*)``, the shape of ``input`` (a shape that broadcasts to it is used with a warning, as in
          PyTorch).
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(*)``; the dtype of ``input``.

    Raises:
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ArgumentError: ``beta`` is negative (``F.smooth_l1_loss``).
        ShapeError: ``input`` and ``target`` shapes do not broadcast.
        DTypeError: ``input`` is not floating point.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.SmoothL1Loss``."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        expect_tensor(self, input)
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)

    @staticmethod
    def samples(make):
        return _pairs(make, LayerSample(kwargs={"beta": 0.5}, inputs=(make(3, 4), make(3, 4, requires_grad=False)),
                                        name="beta"))


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits against class indices or probabilities (``torch.nn.CrossEntropyLoss``).

    Shape:
        - input: ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)`` logits, floating point.
        - target: class indices ``()``, ``(N,)`` or ``(N, d1, ..., dK)`` of an integer dtype, or class
          probabilities of ``input``'s shape and dtype.
        - weight (constructor): ``(C,)``.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', the shape of the class-index target.

    Raises:
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ArgumentError: ``label_smoothing`` is outside [0, 1], or ``ignore_index`` is used with probability targets.
        ShapeError: ``target``'s shape does not fit ``input``'s, or ``weight`` is not ``(C,)``.
        OutOfRangeError: a class index is outside [0, C) and not ``ignore_index``.
        IndexError: ``input`` is 0-d.
        DTypeError: ``input`` is not floating point, or an index target is not an integer dtype.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.CrossEntropyLoss``."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        expect_tensor(self, input)
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(4, 5), make.index([0, 4, 2, 1])), name="mean"),
                LayerSample(kwargs={"reduction": "sum", "label_smoothing": 0.1},
                            inputs=(make(4, 5), make.index([0, 4, 2, 1])), name="sum, smoothing"),
                LayerSample(kwargs={"weight": make(3, low=0.5, high=2, requires_grad=False), "ignore_index": 1},
                            inputs=(make(2, 3, 4), make.index([[0, 1, 2, 2], [1, 0, 0, 2]])),
                            name="weight, ignore_index, spatial"),
                LayerSample(inputs=(make(3, 4), make(3, 4, low=0, high=1, requires_grad=False).softmax(-1)),
                            name="probabilities")]


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (``torch.nn.NLLLoss``).

    Shape:
        - input: ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)`` log-probabilities, floating point.
        - target: ``()``, ``(N,)`` or ``(N, d1, ..., dK)`` class indices of an integer dtype.
        - weight (constructor): ``(C,)``.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', the shape of ``target``.

    Raises:
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ShapeError: ``target``'s shape does not fit ``input``'s, or ``weight`` is not ``(C,)``.
        OutOfRangeError: a class index is outside [0, C) and not ``ignore_index``.
        DimensionError: ``input`` is 0-d.
        DTypeError: ``input`` is not floating point, or ``target`` is not an integer dtype.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.NLLLoss``."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        expect_tensor(self, input)
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(4, 5), make.index([0, 4, 2, 1]))),
                LayerSample(kwargs={"weight": make(5, low=0.5, high=2, requires_grad=False), "reduction": "none"},
                            inputs=(make(4, 5), make.index([0, 4, 2, 1])), name="weight, none")]


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities (``torch.nn.BCELoss``).

    Shape:
        - input: ``(*)``, probabilities in [0, 1], floating point.
        - target: ``(*)``, the shape of ``input``.
        - weight (constructor): broadcastable to ``input``.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(*)``.

    Raises:
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ArgumentError: ``target``'s shape is not ``input``'s, or an input value lies outside [0, 1].
        DTypeError: ``input`` is not floating point.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.BCELoss``."""

    def forward(self, input, target):
        expect_tensor(self, input)
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4, low=0.05, high=0.95), make(3, 4, low=0, high=1, requires_grad=False))),
                LayerSample(kwargs={"weight": make(4, low=0.5, high=2, requires_grad=False), "reduction": "sum"},
                            inputs=(make(3, 4, low=0.05, high=0.95), make(3, 4, low=0, high=1, requires_grad=False)),
                            name="weight, sum")]


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits, computed stably, with ``pos_weight`` (``torch.nn.BCEWithLogitsLoss``).

    Shape:
        - input: ``(*)``, logits, floating point.
        - target: ``(*)``, the shape of ``input``.
        - pos_weight (constructor): broadcastable to ``input``, e.g. ``(C,)`` for the last dim.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(*)``.

    Raises:
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ArgumentError: ``target``'s shape is not ``input``'s.
        DTypeError: ``input`` is not floating point.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.BCEWithLogitsLoss``."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        expect_tensor(self, input)
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4), make(3, 4, low=0, high=1, requires_grad=False))),
                LayerSample(kwargs={"pos_weight": make(4, low=0.5, high=3, requires_grad=False), "reduction": "none"},
                            inputs=(make(3, 4), make(3, 4, low=0, high=1, requires_grad=False)), name="pos_weight")]


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities from a target distribution (``torch.nn.KLDivLoss``).

    Shape:
        - input: ``(*)``, log-probabilities, floating point.
        - target: ``(*)``, the shape of ``input`` (probabilities, or log-probabilities with ``log_target=True``).
        - output: ``()`` for reduction 'mean', 'batchmean' or 'sum'; ``(*)`` for 'none'.

    Raises:
        ValueError: ``reduction`` is not 'none', 'mean', 'sum' or 'batchmean' (at construction).
        ShapeError: ``input`` and ``target`` shapes do not broadcast.
        DTypeError: ``input`` is not floating point.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.KLDivLoss``."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
        if reduction not in ("none", "mean", "sum", "batchmean"):
            raise ValueError(f"KLDivLoss: reduction must be 'none', 'mean', 'sum' or 'batchmean', got {reduction!r}")
        super().__init__(size_average, reduce, "mean" if reduction == "batchmean" else reduction)
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input, target):
        expect_tensor(self, input)
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

    @staticmethod
    def samples(make):
        return [LayerSample(kwargs={"reduction": "batchmean"},
                            inputs=(make(3, 4).log_softmax(-1), make(3, 4, requires_grad=False).softmax(-1))),
                LayerSample(kwargs={"log_target": True, "reduction": "sum"},
                            inputs=(make(3, 4).log_softmax(-1), make(3, 4, requires_grad=False).log_softmax(-1)),
                            name="log_target")]


class MarginRankingLoss(_Loss):
    """max(0, -y (x1 - x2) + margin) (``torch.nn.MarginRankingLoss``).

    Shape:
        - input1, input2: ``(N,)`` or ``()``; any dtype but bool (integers give the default float dtype).
        - target: the shape of ``input1``, values 1 or -1.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(N,)``.

    Raises:
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ShapeError: the three tensors differ in number of dimensions or in shape.
        DTypeError: an input is a bool tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.MarginRankingLoss``."""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        expect_tensor(self, input1, "input1")
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)

    @staticmethod
    def samples(make):
        target = make.index([1, -1, 1, -1]).to(make.dtype)
        return [LayerSample(kwargs={"margin": 0.3}, inputs=(make(4), make(4), target))]


class TripletMarginLoss(_Loss):
    """max(d(a, p) - d(a, n) + margin, 0) with the p-norm distance (``torch.nn.TripletMarginLoss``).

    Shape:
        - anchor, positive, negative: ``(N, D)`` or ``(D,)``, one shape.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(N,)``.

    Raises:
        TypeError: ``anchor`` is not a Tensor.
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ValueError: ``margin`` is not greater than 0 (at construction).
        ShapeError: the three tensors differ in number of dimensions, or their shapes do not broadcast.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.TripletMarginLoss``."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        expect_tensor(self, anchor, "anchor")
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4), make(3, 4), make(3, 4))),
                LayerSample(kwargs={"margin": 2.0, "p": 1.0, "swap": True},
                            inputs=(make(3, 4), make(3, 4), make(3, 4)), name="p=1, swap")]


class CosineEmbeddingLoss(_Loss):
    """1 - cos(x1, x2) for y = 1, max(0, cos(x1, x2) - margin) for y = -1 (``torch.nn.CosineEmbeddingLoss``).

    Shape:
        - input1, input2: ``(N, D)`` or ``(D,)``, one shape.
        - target: ``(N,)`` or ``()``, values 1 or -1.
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(N,)``.

    Raises:
        TypeError: ``input1`` is not a Tensor.
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        ShapeError: ``input1`` and ``input2`` are not one 1-D or 2-D shape, or ``target`` is not their batch shape.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.CosineEmbeddingLoss``."""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        expect_tensor(self, input1, "input1")
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)

    @staticmethod
    def samples(make):
        return [LayerSample(kwargs={"margin": -0.5}, inputs=(make(4, 3), make(4, 3), make.index([1, -1, 1, -1])))]


class CTCLoss(_Loss):
    """Connectionist temporal classification loss (``torch.nn.CTCLoss``).

    Shape:
        - log_probs: ``(T, N, C)`` or ``(T, C)`` log-probabilities, float32 or float64.
        - targets: ``(N, S)`` padded or ``(sum(target_lengths),)`` concatenated class indices, never ``blank``.
        - input_lengths, target_lengths: ``(N,)`` (tensors or lists of ints).
        - output: ``()`` for reduction 'mean' or 'sum'; for 'none', ``(N,)``.

    Raises:
        ValueError: ``reduction`` is not 'none', 'mean' or 'sum' (at construction).
        DimensionError: ``log_probs`` is not 2-D or 3-D, or ``targets`` is not 1-D or 2-D.
        ShapeError: lengths do not match the batch, exceed ``T`` or the targets, or ``blank`` is outside [0, C).
        OutOfRangeError: a target index is outside [0, C).
        ArgumentError: a target is the ``blank`` label.
        DTypeError: ``log_probs`` is not float32/float64, or lengths are not integral.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.CTCLoss``."""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        expect_tensor(self, log_probs, "log_probs")
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                          self.zero_infinity)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(6, 2, 4).log_softmax(-1), make.index([[1, 2, 2], [3, 1, 0]]),
                                    make.index([6, 5]), make.index([3, 2])))]
