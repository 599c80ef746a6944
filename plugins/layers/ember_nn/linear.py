"""Linear layers: Identity, Linear, Bilinear (PyTorch's parameters, names and default initialisation)."""

from __future__ import annotations

import math

import ember
from ember.nn import LayerSample, Module, Parameter, init
from ember.nn import functional as F

from ._checks import expect_tensor

__all__ = ["Identity", "Linear", "Bilinear"]


class Identity(Module):
    """Returns its input unchanged; arguments are accepted and ignored, as in PyTorch.

    Shape:
        - input: ``(*)``, any shape and dtype.
        - output: ``input`` itself.

    Raises:
        Nothing: any input is returned as it is.

    PyTorch: ``torch.nn.Identity``."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4),)), LayerSample((54,), {"unused": "x"}, inputs=(make(2),))]


class Linear(Module):
    """``y = x @ W.T + b`` (``torch.nn.Linear``), W and b drawn from U(-1/sqrt(in), 1/sqrt(in)) as in PyTorch.

    Shape:
        - input: ``(*, in_features)``, the parameters' floating dtype (float32 unless ``dtype=`` says otherwise).
        - output: ``(*, out_features)``, the same dtype.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ValueError: ``in_features`` or ``out_features`` is negative (at construction).
        ShapeError: ``input``'s last dimension is not ``in_features`` (or ``input`` is 0-d).
        DTypeError: ``input``'s dtype is not the weight's (``F.linear``).
        DeviceError: ``input`` is not on the weight's device.

    PyTorch: ``torch.nn.Linear``."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        if in_features < 0 or out_features < 0:
            raise ValueError(f"Linear: in_features and out_features must be non-negative, got "
                             f"({in_features}, {out_features})")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(ember.empty(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(ember.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if not isinstance(input, ember.Tensor):
            expect_tensor(self, input)
        shape = input.array.shape
        if not shape or shape[-1] != self.in_features:
            raise ember.ops.ShapeError(
                f"Linear(in_features={self.in_features}, out_features={self.out_features}): expected input with "
                f"last dimension {self.in_features}, got input of shape {tuple(shape)}")
        if self.__class__ is Linear:  # the parameters read from their store (Module.__getattr__ is ~0.5 us a read);
            params = self._parameters  # a subclass may define weight otherwise (a parametrization's property)
            if "weight" in params and "bias" in params:
                return F.linear(input, params["weight"], params["bias"])
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    @staticmethod
    def samples(make):
        return [LayerSample((4, 3), inputs=(make(5, 4),), name="batch"),
                LayerSample((4, 3), {"bias": False}, inputs=(make(2, 5, 4),), name="3-D, no bias"),
                LayerSample((4, 3), inputs=(make(4),), name="unbatched")]


class Bilinear(Module):
    """``y = x1^T A x2 + b`` (``torch.nn.Bilinear``); A and b from U(-1/sqrt(in1), 1/sqrt(in1)).

    Shape:
        - input1: ``(*, in1_features)``, floating point.
        - input2: ``(*, in2_features)``, the same leading dims.
        - output: ``(*, out_features)``, the inputs' dtype.

    Raises:
        TypeError: ``input1`` or ``input2`` is not a Tensor.
        ShapeError: an input's last dimension is not ``in1_features``/``in2_features``, or the leading dims differ.
        DTypeError: the inputs are not floating point (``F.bilinear``).
        DeviceError: the inputs are not on the weight's device.

    PyTorch: ``torch.nn.Bilinear``."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = Parameter(ember.empty(out_features, in1_features, in2_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(ember.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        expect_tensor(self, input1, "input1")
        expect_tensor(self, input2, "input2")
        for i, (x, n) in enumerate(((input1, self.in1_features), (input2, self.in2_features)), 1):
            if not x.shape or x.shape[-1] != n:
                raise ember.ops.ShapeError(f"{self._get_name()}({self.extra_repr()}): expected input{i} with last "
                                           f"dimension {n}, got shape {tuple(x.shape)}")
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")

    @staticmethod
    def samples(make):
        return [LayerSample((3, 4, 2), inputs=(make(5, 3), make(5, 4))),
                LayerSample((3, 4, 2), {"bias": False}, inputs=(make(2, 5, 3), make(2, 5, 4)), name="3-D, no bias")]
