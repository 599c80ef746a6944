"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d, PyTorch's parameters (``weight`` of shape
(out, in/groups, *kernel), transposed (in, out/groups, *kernel)), options and default initialisation."""

from __future__ import annotations

import math

import ember
from ember.nn import LayerSample, Module, Parameter, init
from ember.nn import functional as F

from ._checks import expect_tensor

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]


def _ntuple(value, n, name, owner):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    if len(value) != n:
        raise ValueError(f"{owner}: {name} must be an int or a tuple of {n} ints, got {value}")
    return value


def check_input(module, input, n: int, channels: int) -> None:
    """Type, rank and channel checks shared by the conv and pooling layers: errors name the layer."""
    expect_tensor(module, input)
    shape = tuple(input.shape)
    if len(shape) not in (n + 1, n + 2):
        raise ember.ops.ShapeError(
            f"{module._get_name()}({module.extra_repr()}): expected {n + 1}-D (unbatched) or {n + 2}-D (batched) "
            f"input, got {len(shape)}-D input of shape {shape}")
    if channels is not None and shape[-(n + 1)] != channels:
        raise ember.ops.ShapeError(
            f"{module._get_name()}({module.extra_repr()}): expected input with {channels} channels "
            f"(dim {len(shape) - n - 1}), got {shape[-(n + 1)]} channels in input of shape {shape}")


class _ConvNd(Module):
    _n = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", output_padding=0, device=None, dtype=None):
        super().__init__()
        name, n = type(self).__name__, self._n
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{name}: padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', "
                             f"got {padding_mode!r}")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, expected 'same' or 'valid'")
            if padding == "same" and any(s != 1 for s in _ntuple(stride, n, "stride", name)):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size", name)
        self.stride = _ntuple(stride, n, "stride", name)
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, n, "padding", name)
        self.dilation = _ntuple(dilation, n, "dilation", name)
        self.output_padding = _ntuple(output_padding, n, "output_padding", name)
        self.transposed, self.padding_mode = self._transposed, padding_mode
        if isinstance(self.padding, str):
            self._reversed_padding_repeated_twice = [0, 0] * n
            if self.padding == "same":
                for d, k, i in zip(self.dilation, self.kernel_size, range(n - 1, -1, -1)):
                    total = d * (k - 1)
                    left = total // 2
                    self._reversed_padding_repeated_twice[2 * i] = left
                    self._reversed_padding_repeated_twice[2 * i + 1] = total - left
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(self.padding) for _ in range(2)]
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(ember.empty(*shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(ember.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        n = self._n
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def __setstate__(self, state):
        super().__setstate__(state)
        self.__dict__.setdefault("padding_mode", "zeros")


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, 0, device, dtype)

    def _conv_forward(self, input, weight, bias):
        conv = (F.conv1d, F.conv2d, F.conv3d)[self._n - 1]
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        check_input(self, input, self._n, self.in_channels)
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D convolution (cross-correlation) over ``(N, C_in, L)`` or ``(C_in, L)`` (``torch.nn.Conv1d``).

    Shape:
        - input: ``(N, C_in, L_in)`` or ``(C_in, L_in)``, the weight's floating dtype.
        - output: ``(N, C_out, L_out)`` or ``(C_out, L_out)``, each ``S_out = floor((S_in + 2 * padding - dilation
          * (kernel_size - 1) - 1) / stride + 1)`` (``padding='same'`` keeps ``S_in``).

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ValueError: ``groups`` is not positive or does not divide both channel counts, a size argument is not an
            int or an n-tuple, ``padding_mode`` or a padding string is unknown, or ``padding='same'`` is strided
            (at construction).
        ShapeError: ``input`` is not 2-D or 3-D, its channel dim is not ``in_channels``, or the dilated kernel is
            larger than the padded input.
        DTypeError: ``input``'s dtype is not the weight's.
        DeviceError: ``input`` is not on the weight's device.

    PyTorch: ``torch.nn.Conv1d``."""

    _n = 1

    @staticmethod
    def samples(make):
        return [LayerSample((2, 3, 3), inputs=(make(2, 2, 7),)),
                LayerSample((4, 2, 3), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2, "bias": False},
                            inputs=(make(1, 4, 9),), name="strided, grouped"),
                LayerSample((2, 3, 2), {"padding": "same", "padding_mode": "reflect"}, inputs=(make(2, 6),),
                            name="same, reflect, unbatched")]


class Conv2d(_Conv):
    """2-D convolution (cross-correlation) over ``(N, C_in, H, W)`` or ``(C_in, H, W)`` (``torch.nn.Conv2d``).

    Shape:
        - input: ``(N, C_in, H_in, W_in)`` or ``(C_in, H_in, W_in)``, the weight's floating dtype.
        - output: ``(N, C_out, H_out, W_out)`` or ``(C_out, H_out, W_out)``, each ``S_out = floor((S_in + 2 *
          padding - dilation * (kernel_size - 1) - 1) / stride + 1)`` (``padding='same'`` keeps ``S_in``).

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ValueError: ``groups`` is not positive or does not divide both channel counts, a size argument is not an
            int or an n-tuple, ``padding_mode`` or a padding string is unknown, or ``padding='same'`` is strided
            (at construction).
        ShapeError: ``input`` is not 3-D or 4-D, its channel dim is not ``in_channels``, or the dilated kernel is
            larger than the padded input.
        DTypeError: ``input``'s dtype is not the weight's.
        DeviceError: ``input`` is not on the weight's device.

    PyTorch: ``torch.nn.Conv2d``."""

    _n = 2

    @staticmethod
    def samples(make):
        return [LayerSample((2, 3, 3), inputs=(make(2, 2, 5, 5),)),
                LayerSample((4, 2, (3, 2)), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2},
                            inputs=(make(1, 4, 6, 7),), name="strided, dilated, grouped"),
                LayerSample((2, 2, 3), {"padding": "same", "padding_mode": "replicate", "bias": False},
                            inputs=(make(2, 4, 4),), name="same, replicate, unbatched"),
                LayerSample((2, 3, 2), {"padding": 1, "padding_mode": "circular"}, inputs=(make(1, 2, 4, 4),),
                            name="circular")]


class Conv3d(_Conv):
    """3-D convolution (cross-correlation) over ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``
    (``torch.nn.Conv3d``).

    Shape:
        - input: ``(N, C_in, D_in, H_in, W_in)`` or ``(C_in, D_in, H_in, W_in)``, the weight's floating dtype.
        - output: ``(N, C_out, D_out, H_out, W_out)`` or ``(C_out, D_out, H_out, W_out)``, each ``S_out =
          floor((S_in + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)`` (``padding='same'`` keeps
          ``S_in``).

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ValueError: ``groups`` is not positive or does not divide both channel counts, a size argument is not an
            int or an n-tuple, ``padding_mode`` or a padding string is unknown, or ``padding='same'`` is strided
            (at construction).
        ShapeError: ``input`` is not 4-D or 5-D, its channel dim is not ``in_channels``, or the dilated kernel is
            larger than the padded input.
        DTypeError: ``input``'s dtype is not the weight's.
        DeviceError: ``input`` is not on the weight's device.

    PyTorch: ``torch.nn.Conv3d``."""

    _n = 3

    @staticmethod
    def samples(make):
        return [LayerSample((2, 2, 2), inputs=(make(1, 2, 3, 4, 3),)),
                LayerSample((2, 4, (1, 2, 2)), {"stride": 2, "padding": 1, "bias": False}, inputs=(make(2, 4, 4, 3),),
                            name="strided, unbatched")]


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'{type(self).__name__}: only "zeros" padding mode is supported, got {padding_mode!r}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or tuple, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device, dtype)

    def _output_padding(self, input, output_size):
        """The output_padding that yields ``output_size`` (checked to be reachable), else the attribute."""
        if output_size is None:
            return self.output_padding
        n = self._n
        output_size = list(output_size)[-n:]
        if len(output_size) != n:
            raise ValueError(f"{self._get_name()}: output_size must have {n} or {n + 2} elements, got {output_size}")
        spatial = tuple(input.shape)[-n:]
        padding = []
        for d in range(n):
            smallest = ((spatial[d] - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            largest = smallest + self.stride[d] - 1
            if not smallest <= output_size[d] <= largest:
                raise ValueError(f"{self._get_name()}: requested an output size of {output_size}, but valid sizes "
                                 f"for dim {d} range from {smallest} to {largest} (for an input of {spatial})")
            padding.append(output_size[d] - smallest)
        return tuple(padding)

    def forward(self, input, output_size=None):
        check_input(self, input, self._n, self.in_channels)
        conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self._n - 1]
        return conv(input, self.weight, self.bias, self.stride, self.padding, self._output_padding(input, output_size),
                    self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-D convolution over ``(N, C_in, L)`` or ``(C_in, L)`` (``torch.nn.ConvTranspose1d``). It is the
    gradient of ``Conv1d`` with respect to its input. ``forward(input, output_size)`` picks among the valid output
    sizes.

    Shape:
        - input: ``(N, C_in, L_in)`` or ``(C_in, L_in)``, the weight's floating dtype.
        - output: ``(N, C_out, L_out)`` or ``(C_out, L_out)``, each ``S_out = (S_in - 1) * stride - 2 * padding +
          dilation * (kernel_size - 1) + output_padding + 1``.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ValueError: ``padding_mode`` is not 'zeros' or ``padding`` is a string (at construction); the same checks
            as ``Conv1d`` otherwise.
        ValueError: ``output_size`` has the wrong length or is not reachable (forward).
        ShapeError: ``input`` is not 2-D or 3-D, its channel dim is not ``in_channels``, or the dilated kernel is
            larger than the padded input.
        DTypeError: ``input``'s dtype is not the weight's.
        DeviceError: ``input`` is not on the weight's device.

    PyTorch: ``torch.nn.ConvTranspose1d``."""

    _n = 1

    @staticmethod
    def samples(make):
        return [LayerSample((2, 3, 3), inputs=(make(2, 2, 5),)),
                LayerSample((4, 2, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": 2},
                            inputs=(make(4, 4),), name="strided, grouped, unbatched")]


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-D convolution over ``(N, C_in, H, W)`` or ``(C_in, H, W)`` (``torch.nn.ConvTranspose2d``). It
    is the gradient of ``Conv2d`` with respect to its input. ``forward(input, output_size)`` picks among the valid
    output sizes.

    Shape:
        - input: ``(N, C_in, H_in, W_in)`` or ``(C_in, H_in, W_in)``, the weight's floating dtype.
        - output: ``(N, C_out, H_out, W_out)`` or ``(C_out, H_out, W_out)``, each ``S_out = (S_in - 1) * stride - 2
          * padding + dilation * (kernel_size - 1) + output_padding + 1``.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ValueError: ``padding_mode`` is not 'zeros' or ``padding`` is a string (at construction); the same checks
            as ``Conv2d`` otherwise.
        ValueError: ``output_size`` has the wrong length or is not reachable (forward).
        ShapeError: ``input`` is not 3-D or 4-D, its channel dim is not ``in_channels``, or the dilated kernel is
            larger than the padded input.
        DTypeError: ``input``'s dtype is not the weight's.
        DeviceError: ``input`` is not on the weight's device.

    PyTorch: ``torch.nn.ConvTranspose2d``."""

    _n = 2

    @staticmethod
    def samples(make):
        return [LayerSample((2, 3, 3), inputs=(make(2, 2, 4, 4),)),
                LayerSample((2, 4, (3, 2)), {"stride": 2, "padding": (1, 0), "output_padding": (1, 0), "bias": False},
                            inputs=(make(1, 2, 3, 3),), name="strided, output_padding"),
                LayerSample((2, 2, 3), {"stride": 2}, inputs=(make(1, 2, 3, 3), (8, 8)), name="output_size")]


class ConvTranspose3d(_ConvTranspose):
    """Transposed 3-D convolution over ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``
    (``torch.nn.ConvTranspose3d``). It is the gradient of ``Conv3d`` with respect to its input. ``forward(input,
    output_size)`` picks among the valid output sizes.

    Shape:
        - input: ``(N, C_in, D_in, H_in, W_in)`` or ``(C_in, D_in, H_in, W_in)``, the weight's floating dtype.
        - output: ``(N, C_out, D_out, H_out, W_out)`` or ``(C_out, D_out, H_out, W_out)``, each ``S_out = (S_in -
          1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1``.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ValueError: ``padding_mode`` is not 'zeros' or ``padding`` is a string (at construction); the same checks
            as ``Conv3d`` otherwise.
        ValueError: ``output_size`` has the wrong length or is not reachable (forward).
        ShapeError: ``input`` is not 4-D or 5-D, its channel dim is not ``in_channels``, or the dilated kernel is
            larger than the padded input.
        DTypeError: ``input``'s dtype is not the weight's.
        DeviceError: ``input`` is not on the weight's device.

    PyTorch: ``torch.nn.ConvTranspose3d``."""

    _n = 3

    @staticmethod
    def samples(make):
        return [LayerSample((2, 2, 2), {"stride": 2}, inputs=(make(1, 2, 2, 3, 2),))]
