"""Activation modules, each a thin Module over its functional op, with PyTorch's constructor
arguments and ``extra_repr``."""

from __future__ import annotations

import ember
from ember.nn import LayerSample, Module, Parameter, init
from ember.nn import functional as F

from ._checks import RankError, expect_tensor

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "CELU", "SELU", "GELU", "SiLU", "Mish", "Softplus",
           "Softsign", "Hardtanh", "Hardsigmoid", "Hardswish", "Sigmoid", "LogSigmoid", "Tanh", "Tanhshrink",
           "Threshold", "GLU", "Softmax", "LogSoftmax", "Softmin", "Softmax2d"]


def _inplace_suffix(inplace: bool) -> str:
    return ", inplace=True" if inplace else ""


def _one(make, **kw):
    return [LayerSample(inputs=(make(3, 4, away_from_zero=True),)),
            LayerSample(inputs=(make(2, 3, 2, **kw),), name="3-D")]


class _Inplace(Module):
    """An activation whose only option is ``inplace``."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    """max(x, 0) (``torch.nn.ReLU``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype but bool; the output keeps it.
        - output: ``(*)``, the shape of ``input``.

    Raises:
        DTypeError: ``input`` is a bool tensor (``F.relu``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.ReLU``."""

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)

    @staticmethod
    def samples(make):
        return _one(make, away_from_zero=True)


class ReLU6(_Inplace):
    """min(max(x, 0), 6) (``torch.nn.ReLU6``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype but bool; the output keeps it.
        - output: ``(*)``, the shape of ``input``.

    Raises:
        DTypeError: ``input`` is a bool tensor (``F.hardtanh``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.ReLU6``."""

    def forward(self, input):
        return F.relu6(input, inplace=self.inplace)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4, low=-3, high=9, away_from_zero=True),))]


class SELU(_Inplace):
    """Scaled ELU with the self-normalizing constants (``torch.nn.SELU``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - output: ``(*)``, the shape and dtype of ``input``.

    Raises:
        DTypeError: ``input`` is not floating point (``F.selu``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.SELU``."""

    def forward(self, input):
        return F.selu(input, inplace=self.inplace)

    @staticmethod
    def samples(make):
        return _one(make, away_from_zero=True)


class SiLU(_Inplace):
    """x * sigmoid(x) (``torch.nn.SiLU``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - output: ``(*)``, the shape and dtype of ``input``.

    Raises:
        DTypeError: ``input`` is not floating point (``F.silu``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.SiLU``."""

    def forward(self, input):
        return F.silu(input, inplace=self.inplace)

    @staticmethod
    def samples(make):
        return _one(make)


class Mish(_Inplace):
    """x * tanh(softplus(x)) (``torch.nn.Mish``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - output: ``(*)``, the shape and dtype of ``input``.

    Raises:
        DTypeError: ``input`` is not floating point (``F.mish``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Mish``."""

    def forward(self, input):
        return F.mish(input, inplace=self.inplace)

    @staticmethod
    def samples(make):
        return _one(make)


class Hardsigmoid(_Inplace):
    """relu6(x + 3) / 6 (``torch.nn.Hardsigmoid``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - output: ``(*)``, the shape and dtype of ``input``.

    Raises:
        DTypeError: ``input`` is not floating point (``F.hardsigmoid``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Hardsigmoid``."""

    def forward(self, input):
        return F.hardsigmoid(input, inplace=self.inplace)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4, low=-5, high=5),))]


class Hardswish(_Inplace):
    """x * relu6(x + 3) / 6 (``torch.nn.Hardswish``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - output: ``(*)``, the shape and dtype of ``input``.

    Raises:
        DTypeError: ``input`` is not floating point (``F.hardswish``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Hardswish``."""

    def forward(self, input):
        return F.hardswish(input, inplace=self.inplace)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4, low=-5, high=5),))]


class LeakyReLU(Module):
    """x for x >= 0, negative_slope * x otherwise (``torch.nn.LeakyReLU``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - output: ``(*)``, the shape and dtype of ``input``.

    Raises:
        DTypeError: ``input`` is not floating point (``F.leaky_relu``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.LeakyReLU``."""

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_suffix(self.inplace)}"

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4, away_from_zero=True),)),
                LayerSample((0.2,), inputs=(make(2, 3, away_from_zero=True),), name="slope 0.2")]


class _Alpha(Module):
    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_suffix(self.inplace)}"

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4, away_from_zero=True),)),
                LayerSample((0.5,), inputs=(make(2, 3, away_from_zero=True),), name="alpha 0.5")]


class ELU(_Alpha):
    """x for x > 0, alpha * (exp(x) - 1) otherwise (``torch.nn.ELU``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - output: ``(*)``, the shape and dtype of ``input``.

    Raises:
        DTypeError: ``input`` is not floating point (``F.elu``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.ELU``."""

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)


class CELU(_Alpha):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) (``torch.nn.CELU``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - output: ``(*)``, the shape and dtype of ``input``.

    Raises:
        ArgumentError: ``alpha`` is zero (``F.celu``; it divides the input).
        DTypeError: ``input`` is not floating point (``F.celu``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.CELU``."""

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)


class GELU(Module):
    """x * Phi(x), exact or with the tanh approximation (``torch.nn.GELU``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - output: ``(*)``, the shape and dtype of ``input``.

    Raises:
        ValueError: ``approximate`` is not 'none' or 'tanh' (at construction).
        DTypeError: ``input`` is not floating point (``F.gelu``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.GELU``."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4),)), LayerSample(("tanh",), inputs=(make(2, 3),), name="tanh")]


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, linear above ``threshold`` (``torch.nn.Softplus``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - output: ``(*)``, the shape and dtype of ``input``.

    Raises:
        DTypeError: ``input`` is not floating point (``F.softplus``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Softplus``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4),)),
                LayerSample((2.0, 1.0), inputs=(make(2, 3, away_from_zero=True),), name="beta 2, threshold 1")]


class Softsign(Module):
    """x / (1 + |x|) (``torch.nn.Softsign``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype but bool; integer inputs give the default float
          dtype.
        - output: ``(*)``, the shape of ``input``.

    Raises:
        DTypeError: ``input`` is a bool tensor (``F.softsign``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Softsign``."""

    def forward(self, input):
        expect_tensor(self, input)
        return F.softsign(input)

    @staticmethod
    def samples(make):
        return _one(make)


class Hardtanh(Module):
    """x clamped to [min_val, max_val] (``torch.nn.Hardtanh``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype but bool; the output keeps it.
        - output: ``(*)``, the shape of ``input``.

    Raises:
        ValueError: ``max_val`` is not greater than ``min_val`` (at construction).
        DTypeError: ``input`` is a bool tensor (``F.hardtanh``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Hardtanh``."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_suffix(self.inplace)}"

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4, low=-1.9, high=1.9),)),
                LayerSample((-0.5, 1.5), inputs=(make(2, 3),), name="bounds")]


class Sigmoid(Module):
    """1 / (1 + exp(-x)) (``torch.nn.Sigmoid``).

    Shape:
        - input: ``(*)``, any number of dimensions, any dtype.
        - output: ``(*)``, the shape of ``input``; floating inputs keep their dtype, integer and bool ones give the
          default float dtype.

    Raises:
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Sigmoid``."""

    def forward(self, input):
        return F.sigmoid(input)

    @staticmethod
    def samples(make):
        return _one(make)


class LogSigmoid(Module):
    """log(sigmoid(x)), computed stably (``torch.nn.LogSigmoid``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - output: ``(*)``, the shape and dtype of ``input``.

    Raises:
        DTypeError: ``input`` is not floating point (``F.logsigmoid``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.LogSigmoid``."""

    def forward(self, input):
        return F.logsigmoid(input)

    @staticmethod
    def samples(make):
        return _one(make)


class Tanh(Module):
    """tanh(x) (``torch.nn.Tanh``).

    Shape:
        - input: ``(*)``, any number of dimensions, any dtype.
        - output: ``(*)``, the shape of ``input``; floating inputs keep their dtype, integer and bool ones give the
          default float dtype.

    Raises:
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Tanh``."""

    def forward(self, input):
        return F.tanh(input)

    @staticmethod
    def samples(make):
        return _one(make)


class Tanhshrink(Module):
    """x - tanh(x) (``torch.nn.Tanhshrink``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype but bool; integer inputs give the default float
          dtype.
        - output: ``(*)``, the shape of ``input``.

    Raises:
        DTypeError: ``input`` is a bool tensor (``F.tanhshrink``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Tanhshrink``."""

    def forward(self, input):
        expect_tensor(self, input)
        return F.tanhshrink(input)

    @staticmethod
    def samples(make):
        return _one(make)


class Threshold(Module):
    """x where x > threshold, else ``value`` (``torch.nn.Threshold``).

    Shape:
        - input: ``(*)``, any number of dimensions; any dtype but bool; the output keeps it.
        - output: ``(*)``, the shape of ``input``.

    Raises:
        RuntimeError: ``threshold`` or ``value`` does not fit an integer input's dtype.
        DTypeError: ``input`` is a bool tensor (``F.threshold``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Threshold``."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}{_inplace_suffix(self.inplace)}"

    @staticmethod
    def samples(make):
        return [LayerSample((0.1, 20.0), inputs=(make(3, 4, away_from_zero=True),))]


class GLU(Module):
    """a * sigmoid(b) for the two halves a, b of ``input`` along ``dim`` (``torch.nn.GLU``).

    Shape:
        - input: ``(*1, N, *2)``, floating point, with N = ``input.shape[dim]`` even.
        - output: ``(*1, N / 2, *2)``, the dtype of ``input``.

    Raises:
        ArgumentError: ``input.shape[dim]`` is odd, or ``input`` is 0-d (``F.glu``).
        OutOfRangeError: ``dim`` is out of range for ``input``.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.GLU``."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        expect_tensor(self, input)
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4),)), LayerSample((0,), inputs=(make(4, 3),), name="dim 0")]


def _legacy_softmax_dim(ndim: int) -> int:
    """PyTorch's implicit choice when ``dim`` is None: 0 for 0-, 1- and 3-D inputs, else 1."""
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim`` (``torch.nn.Softmax``); ``dim=None`` picks PyTorch's legacy implicit dim.

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - output: ``(*)``, the shape and dtype of ``input``; values in [0, 1] summing to 1 along ``dim``.

    Raises:
        OutOfRangeError: ``dim`` is out of range for ``input``.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Softmax``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def _dim(self, input):
        return _legacy_softmax_dim(input.dim()) if self.dim is None else self.dim

    def forward(self, input):
        expect_tensor(self, input)
        return F.softmax(input, self._dim(input))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    @staticmethod
    def samples(make):
        return [LayerSample((1,), inputs=(make(3, 4),)), LayerSample((-1,), inputs=(make(2, 3, 4),), name="last")]


class LogSoftmax(Softmax):
    """log(softmax(x)) along ``dim``, computed stably (``torch.nn.LogSoftmax``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - output: ``(*)``, the shape and dtype of ``input``.

    Raises:
        OutOfRangeError: ``dim`` is out of range for ``input``.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.LogSoftmax``."""

    def forward(self, input):
        expect_tensor(self, input)
        return F.log_softmax(input, self._dim(input))


class Softmin(Softmax):
    """softmax(-x) along ``dim`` (``torch.nn.Softmin``).

    Shape:
        - input: ``(*)``, any number of dimensions, floating point.
        - output: ``(*)``, the shape and dtype of ``input``.

    Raises:
        OutOfRangeError: ``dim`` is out of range for ``input``.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.Softmin``."""

    def forward(self, input):
        return F.softmin(input, self._dim(input))


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) (``torch.nn.Softmax2d``).

    Shape:
        - input: ``(N, C, H, W)`` or ``(C, H, W)``, floating point.
        - output: the shape and dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        ShapeError: ``input`` is not 3-D or 4-D.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.Softmax2d``."""

    def forward(self, input):
        expect_tensor(self, input)
        if input.dim() not in (3, 4):
            raise RankError(f"Softmax2d: expected 3-D (unbatched) or 4-D (batched) input, got "
                                       f"{input.dim()}-D input of shape {tuple(input.shape)}")
        return F.softmax(input, -3)

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(2, 3, 2, 2),)), LayerSample(inputs=(make(3, 2, 2),), name="unbatched")]


class PReLU(Module):
    """x for x > 0, a * x otherwise, with ``a`` learnt per channel or shared (``torch.nn.PReLU``).

    Shape:
        - input: ``(*)``; with ``num_parameters`` > 1, ``(N, C, *)`` with C = ``num_parameters`` (0-d and 1-D
          inputs have one channel); floating point.
        - output: the shape of ``input``.

    Raises:
        ShapeError: ``num_parameters`` > 1 and ``input`` has another number of channels at dim 1.
        DeviceError: ``input`` is not on the weight's device.

    PyTorch: ``torch.nn.PReLU``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(ember.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input):
        weight = self.weight
        if self.num_parameters > 1:
            channels = input.shape[1] if input.dim() >= 2 else 1  # as PyTorch: 0-/1-D inputs have one channel
            if channels != self.num_parameters:
                raise ember.ops.ShapeError(f"PReLU(num_parameters={self.num_parameters}): expected input with "
                                           f"{self.num_parameters} channels at dim 1, got shape {tuple(input.shape)}")
            weight = weight.reshape((-1,) + (1,) * (input.dim() - 2))
        return ember.where(input > 0, input, weight * input)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4, away_from_zero=True),)),
                LayerSample((3,), inputs=(make(2, 3, 2, away_from_zero=True),), name="per channel"),
                LayerSample((1, 0.1), inputs=(make(4, away_from_zero=True),), name="1-D")]
