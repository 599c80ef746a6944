"""Lazy layers (``torch.nn.LazyLinear``, ``LazyConv*d``, ``LazyConvTranspose*d``, ``LazyBatchNorm*d``,
``LazyInstanceNorm*d``): the input size is read from the first forward's input.

Until then their parameters are ``UninitializedParameter`` (buffers ``UninitializedBuffer``). The first
forward materializes them *in place* (the same objects, so an optimizer built before holds them), draws
them with the regular layer's ``reset_parameters`` and turns the module into that layer
(``cls_to_become``), as PyTorch does. ``load_state_dict`` materializes them from the checkpoint's shapes.
"""

from __future__ import annotations

from itertools import chain

import ember
from ember.nn import LayerSample
from ember.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy

from .conv import check_input, Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d

__all__ = ["LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
           "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d",
           "LazyInstanceNorm2d"]


class LazyModuleMixin:
    """Mixin for modules whose parameters take their shapes from the first input
    (``torch.nn.modules.lazy.LazyModuleMixin``).

    A subclass registers ``UninitializedParameter``/``UninitializedBuffer`` placeholders and implements
    ``initialize_parameters(*inputs)``; a forward pre-hook calls it once, checks that nothing is left
    uninitialized, removes itself and sets the class to ``cls_to_become`` (if not None).
    """

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)

    def has_uninitialized_params(self) -> bool:
        """Whether any of this module's own parameters or buffers is still uninitialized."""
        return any(is_lazy(t) for t in chain(self._parameters.values(), self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs) -> None:
        """Materialize the placeholders from the forward's inputs (subclasses implement it)."""
        raise NotImplementedError(f"{type(self).__name__}.initialize_parameters: a lazy module must implement it")

    @staticmethod
    def _infer_parameters(module, args, kwargs=None):
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {module._get_name()} has not been fully initialized by "
                               f"initialize_parameters")
        module._initialize_hook.remove()
        del module.__dict__["_initialize_hook"]
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become


def _input(args, owner):
    if not args or not isinstance(args[0], ember.Tensor):
        raise TypeError(f"{owner._get_name()}: the first forward needs an input tensor to infer the parameters' "
                        f"shapes")
    return args[0]


class LazyLinear(LazyModuleMixin, Linear):
    """``nn.Linear`` with ``in_features`` from the last dimension of the first input (``torch.nn.LazyLinear``);
    until the first call its parameters are uninitialized placeholders.

    Shape:
        - input: ``(*, in_features)``, the parameters' floating dtype (float32 unless ``dtype=`` says otherwise).
        - output: ``(*, out_features)``, the same dtype.

    Raises:
        ValueError: ``in_features`` or ``out_features`` is negative (at construction).
        OutOfRangeError: the first input is 0-d (an IndexError, as PyTorch raises).
        ShapeError: ``input``'s last dimension is not ``in_features``.
        DTypeError: ``input``'s dtype is not the weight's (``F.linear``).
        DeviceError: ``input`` is not on the weight's device.

    PyTorch: ``torch.nn.LazyLinear``."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__(0, 0, False, device, dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, *args, **kwargs) -> None:
        input = _input(args, self)
        if input.dim() == 0:  # PyTorch: IndexError (shape[-1] of a 0-d tensor)
            raise ember.ops.OutOfRangeError(f"{self._get_name()}(out_features={self.out_features}): expected input "
                                            f"with at least 1 dimension (in_features is its last), got 0-D input "
                                            f"of shape ()")
        self.in_features = input.shape[-1]
        if self.has_uninitialized_params():
            with ember.no_grad():
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()

    @staticmethod
    def samples(make):
        return [LayerSample((3,), inputs=(make(5, 4),), name="batch"),
                LayerSample((3,), {"bias": False}, inputs=(make(2, 5, 4),), name="3-D, no bias")]


class _LazyConvMixin(LazyModuleMixin):
    """``in_channels`` from dimension 1 of a batched first input (0 of an unbatched one)."""

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, *args, **kwargs) -> None:
        input = _input(args, self)
        check_input(self, input, self._n, None)  # a 0-d input would end in IndexError: tuple index out of range
        self.in_channels = input.shape[1] if input.dim() == self._n + 2 else input.shape[0]
        if self.in_channels % self.groups:
            raise ValueError(f"{self._get_name()}: in_channels ({self.in_channels}, from the input of shape "
                             f"{tuple(input.shape)}) must be divisible by groups ({self.groups})")
        if self.has_uninitialized_params():
            if self.transposed:
                shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
            else:
                shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
            with ember.no_grad():
                self.weight.materialize(shape)
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()

    def _lazy_placeholders(self, out_channels, bias, device, dtype):
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)


class _LazyConv(_LazyConvMixin):
    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)
        self._lazy_placeholders(out_channels, bias, device, dtype)


class _LazyConvTranspose(_LazyConvMixin):
    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0, groups: int = 1,
                 bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode,
                         device, dtype)
        self._lazy_placeholders(out_channels, bias, device, dtype)


class LazyConv1d(_LazyConv, Conv1d):
    """``nn.Conv1d`` with ``in_channels`` from the first input's channel dim (``torch.nn.LazyConv1d``); until the
    first call its parameters are uninitialized placeholders.

    Shape:
        - input: ``(N, C_in, L_in)`` or ``(C_in, L_in)``, the weight's floating dtype.
        - output: ``(N, C_out, L_out)`` or ``(C_out, L_out)``, each ``S_out = floor((S_in + 2 * padding - dilation
          * (kernel_size - 1) - 1) / stride + 1)`` (``padding='same'`` keeps ``S_in``).

    Raises:
        ValueError: ``groups`` is not positive or does not divide both channel counts, a size argument is not an
            int or an n-tuple, ``padding_mode`` or a padding string is unknown, or ``padding='same'`` is strided
            (at construction).
        ShapeError: ``input`` is not 2-D or 3-D, its channel dim is not ``in_channels``, or the dilated kernel is
            larger than the padded input.
        DTypeError: ``input``'s dtype is not the weight's.
        DeviceError: ``input`` is not on the weight's device.

    PyTorch: ``torch.nn.LazyConv1d``."""

    cls_to_become = Conv1d

    @staticmethod
    def samples(make):
        return [LayerSample((3, 3), inputs=(make(2, 2, 7),)),
                LayerSample((2, 3), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2, "bias": False},
                            inputs=(make(1, 4, 9),), name="strided, grouped"),
                LayerSample((3, 2), {"padding": "same"}, inputs=(make(2, 6),), name="same, unbatched")]


class LazyConv2d(_LazyConv, Conv2d):
    """``nn.Conv2d`` with ``in_channels`` from the first input's channel dim (``torch.nn.LazyConv2d``); until the
    first call its parameters are uninitialized placeholders.

    Shape:
        - input: ``(N, C_in, H_in, W_in)`` or ``(C_in, H_in, W_in)``, the weight's floating dtype.
        - output: ``(N, C_out, H_out, W_out)`` or ``(C_out, H_out, W_out)``, each ``S_out = floor((S_in + 2 *
          padding - dilation * (kernel_size - 1) - 1) / stride + 1)`` (``padding='same'`` keeps ``S_in``).

    Raises:
        ValueError: ``groups`` is not positive or does not divide both channel counts, a size argument is not an
            int or an n-tuple, ``padding_mode`` or a padding string is unknown, or ``padding='same'`` is strided
            (at construction).
        ShapeError: ``input`` is not 3-D or 4-D, its channel dim is not ``in_channels``, or the dilated kernel is
            larger than the padded input.
        DTypeError: ``input``'s dtype is not the weight's.
        DeviceError: ``input`` is not on the weight's device.

    PyTorch: ``torch.nn.LazyConv2d``."""

    cls_to_become = Conv2d

    @staticmethod
    def samples(make):
        return [LayerSample((3, 3), inputs=(make(2, 2, 5, 5),)),
                LayerSample((2, (3, 2)), {"stride": (2, 1), "padding": (1, 0), "groups": 2},
                            inputs=(make(1, 4, 6, 7),), name="strided, grouped")]


class LazyConv3d(_LazyConv, Conv3d):
    """``nn.Conv3d`` with ``in_channels`` from the first input's channel dim (``torch.nn.LazyConv3d``); until the
    first call its parameters are uninitialized placeholders.

    Shape:
        - input: ``(N, C_in, D_in, H_in, W_in)`` or ``(C_in, D_in, H_in, W_in)``, the weight's floating dtype.
        - output: ``(N, C_out, D_out, H_out, W_out)`` or ``(C_out, D_out, H_out, W_out)``, each ``S_out =
          floor((S_in + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)`` (``padding='same'`` keeps
          ``S_in``).

    Raises:
        ValueError: ``groups`` is not positive or does not divide both channel counts, a size argument is not an
            int or an n-tuple, ``padding_mode`` or a padding string is unknown, or ``padding='same'`` is strided
            (at construction).
        ShapeError: ``input`` is not 4-D or 5-D, its channel dim is not ``in_channels``, or the dilated kernel is
            larger than the padded input.
        DTypeError: ``input``'s dtype is not the weight's.
        DeviceError: ``input`` is not on the weight's device.

    PyTorch: ``torch.nn.LazyConv3d``."""

    cls_to_become = Conv3d

    @staticmethod
    def samples(make):
        return [LayerSample((2, 2), inputs=(make(1, 2, 3, 4, 3),))]


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """``nn.ConvTranspose1d`` with ``in_channels`` from the first input's channel dim
    (``torch.nn.LazyConvTranspose1d``); until the first call its parameters are uninitialized placeholders.

    Shape:
        - input: ``(N, C_in, L_in)`` or ``(C_in, L_in)``, the weight's floating dtype.
        - output: ``(N, C_out, L_out)`` or ``(C_out, L_out)``, each ``S_out = (S_in - 1) * stride - 2 * padding +
          dilation * (kernel_size - 1) + output_padding + 1``.

    Raises:
        ValueError: ``padding_mode`` is not 'zeros' or ``padding`` is a string (at construction); the same checks
            as ``Conv1d`` otherwise.
        ValueError: ``output_size`` has the wrong length or is not reachable (forward).
        ShapeError: ``input`` is not 2-D or 3-D, its channel dim is not ``in_channels``, or the dilated kernel is
            larger than the padded input.
        DTypeError: ``input``'s dtype is not the weight's.
        DeviceError: ``input`` is not on the weight's device.

    PyTorch: ``torch.nn.LazyConvTranspose1d``."""

    cls_to_become = ConvTranspose1d

    @staticmethod
    def samples(make):
        return [LayerSample((3, 3), inputs=(make(2, 2, 5),)),
                LayerSample((2, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
                            inputs=(make(4, 4),), name="strided, grouped, unbatched")]


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """``nn.ConvTranspose2d`` with ``in_channels`` from the first input's channel dim
    (``torch.nn.LazyConvTranspose2d``); until the first call its parameters are uninitialized placeholders.

    Shape:
        - input: ``(N, C_in, H_in, W_in)`` or ``(C_in, H_in, W_in)``, the weight's floating dtype.
        - output: ``(N, C_out, H_out, W_out)`` or ``(C_out, H_out, W_out)``, each ``S_out = (S_in - 1) * stride - 2
          * padding + dilation * (kernel_size - 1) + output_padding + 1``.

    Raises:
        ValueError: ``padding_mode`` is not 'zeros' or ``padding`` is a string (at construction); the same checks
            as ``Conv2d`` otherwise.
        ValueError: ``output_size`` has the wrong length or is not reachable (forward).
        ShapeError: ``input`` is not 3-D or 4-D, its channel dim is not ``in_channels``, or the dilated kernel is
            larger than the padded input.
        DTypeError: ``input``'s dtype is not the weight's.
        DeviceError: ``input`` is not on the weight's device.

    PyTorch: ``torch.nn.LazyConvTranspose2d``."""

    cls_to_become = ConvTranspose2d

    @staticmethod
    def samples(make):
        return [LayerSample((3, 3), inputs=(make(2, 2, 4, 4),)),
                LayerSample((2, 3), {"stride": 2}, inputs=(make(1, 2, 3, 3), (8, 8)), name="output_size")]


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    """``nn.ConvTranspose3d`` with ``in_channels`` from the first input's channel dim
    (``torch.nn.LazyConvTranspose3d``); until the first call its parameters are uninitialized placeholders.

    Shape:
        - input: ``(N, C_in, D_in, H_in, W_in)`` or ``(C_in, D_in, H_in, W_in)``, the weight's floating dtype.
        - output: ``(N, C_out, D_out, H_out, W_out)`` or ``(C_out, D_out, H_out, W_out)``, each ``S_out = (S_in -
          1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1``.

    Raises:
        ValueError: ``padding_mode`` is not 'zeros' or ``padding`` is a string (at construction); the same checks
            as ``Conv3d`` otherwise.
        ValueError: ``output_size`` has the wrong length or is not reachable (forward).
        ShapeError: ``input`` is not 4-D or 5-D, its channel dim is not ``in_channels``, or the dilated kernel is
            larger than the padded input.
        DTypeError: ``input``'s dtype is not the weight's.
        DeviceError: ``input`` is not on the weight's device.

    PyTorch: ``torch.nn.LazyConvTranspose3d``."""

    cls_to_become = ConvTranspose3d

    @staticmethod
    def samples(make):
        return [LayerSample((2, 2), {"stride": 2}, inputs=(make(1, 2, 2, 3, 2),))]


class _LazyNormBase(LazyModuleMixin):
    """``num_features`` from the first input's channel dimension. PyTorch's defaults: ``affine=True`` and
    ``track_running_stats=True``, for the instance norms too."""

    def __init__(self, eps: float = 1e-5, momentum=0.1, affine: bool = True, track_running_stats: bool = True,
                 device=None, dtype=None):
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = ember.tensor(0, dtype=ember.long, device=device)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def _channels(self, input) -> int:
        return input.shape[1]

    def initialize_parameters(self, *args, **kwargs) -> None:
        input = _input(args, self)
        if input.dim() < 2 and not isinstance(self, _LazyInstanceNorm):
            # PyTorch: IndexError (input.shape[1]); OutOfRangeError is that and a RuntimeError
            raise ember.ops.OutOfRangeError(f"{self._get_name()}: expected at least 2-D input (num_features is "
                                            f"dim 1), got shape {tuple(input.shape)}")
        self.num_features = self._channels(input)
        if self.has_uninitialized_params():
            with ember.no_grad():
                for t in (self.weight, self.bias, self.running_mean, self.running_var):
                    if is_lazy(t):
                        t.materialize((self.num_features,))
                self.reset_parameters()


class _LazyInstanceNorm(_LazyNormBase):
    def _channels(self, input) -> int:
        return input.shape[-(self._n + 1)]


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """``nn.BatchNorm1d`` with ``num_features`` from the first input's dim 1 (``torch.nn.LazyBatchNorm1d``); until
    the first call its parameters are uninitialized placeholders.

    Shape:
        - input: ``(N, C)`` or ``(N, C, L)``, floating point.
        - output: the shape and dtype of ``input``.

    Raises:
        OutOfRangeError: the first input is 0-d or 1-d (an IndexError, as PyTorch raises).
        ShapeError: ``input`` is not 2-D or 3-D, or its dim 1 is not ``num_features``.
        ArgumentError: training on a single value per channel.
        DTypeError: ``input`` is not floating point.
        DeviceError: ``input`` is not on the parameters' device.

    PyTorch: ``torch.nn.LazyBatchNorm1d``."""

    cls_to_become = BatchNorm1d

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(4, 3),)),
                LayerSample((), {"affine": False, "track_running_stats": False}, inputs=(make(3, 2, 5),),
                            name="plain, 3-D")]


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """``nn.BatchNorm2d`` with ``num_features`` from the first input's dim 1 (``torch.nn.LazyBatchNorm2d``); until
    the first call its parameters are uninitialized placeholders.

    Shape:
        - input: ``(N, C, H, W)``, floating point.
        - output: the shape and dtype of ``input``.

    Raises:
        OutOfRangeError: the first input is 0-d or 1-d (an IndexError, as PyTorch raises).
        ShapeError: ``input`` is not 4-D, or its dim 1 is not ``num_features``.
        ArgumentError: training on a single value per channel.
        DTypeError: ``input`` is not floating point.
        DeviceError: ``input`` is not on the parameters' device.

    PyTorch: ``torch.nn.LazyBatchNorm2d``."""

    cls_to_become = BatchNorm2d

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(2, 3, 3, 2),)),
                LayerSample((), {"momentum": 0.3, "affine": False}, inputs=(make(3, 2, 2, 2),),
                            name="momentum, no affine")]


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    """``nn.BatchNorm3d`` with ``num_features`` from the first input's dim 1 (``torch.nn.LazyBatchNorm3d``); until
    the first call its parameters are uninitialized placeholders.

    Shape:
        - input: ``(N, C, D, H, W)``, floating point.
        - output: the shape and dtype of ``input``.

    Raises:
        OutOfRangeError: the first input is 0-d or 1-d (an IndexError, as PyTorch raises).
        ShapeError: ``input`` is not 5-D, or its dim 1 is not ``num_features``.
        ArgumentError: training on a single value per channel.
        DTypeError: ``input`` is not floating point.
        DeviceError: ``input`` is not on the parameters' device.

    PyTorch: ``torch.nn.LazyBatchNorm3d``."""

    cls_to_become = BatchNorm3d

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(2, 2, 2, 3, 2),))]


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    """``nn.InstanceNorm1d`` with ``num_features`` from the first input's channel dim
    (``torch.nn.LazyInstanceNorm1d``); until the first call its parameters are uninitialized placeholders.

    Shape:
        - input: ``(N, C, L)`` or ``(C, L)``, floating point.
        - output: the shape and dtype of ``input``.

    Raises:
        ShapeError: ``input`` is not 2-D or 3-D, or (with ``affine=True``) its channel dim is not ``num_features``.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.LazyInstanceNorm1d``."""

    cls_to_become = InstanceNorm1d

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(2, 3, 5),)),
                LayerSample((), {"affine": False, "track_running_stats": False}, inputs=(make(3, 4),),
                            name="plain, unbatched")]


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    """``nn.InstanceNorm2d`` with ``num_features`` from the first input's channel dim
    (``torch.nn.LazyInstanceNorm2d``); until the first call its parameters are uninitialized placeholders.

    Shape:
        - input: ``(N, C, H, W)`` or ``(C, H, W)``, floating point.
        - output: the shape and dtype of ``input``.

    Raises:
        ShapeError: ``input`` is not 3-D or 4-D, or (with ``affine=True``) its channel dim is not ``num_features``.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.LazyInstanceNorm2d``."""

    cls_to_become = InstanceNorm2d

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(2, 2, 3, 3),)),
                LayerSample((), {"affine": False, "track_running_stats": False}, inputs=(make(2, 2, 3, 3),),
                            name="plain")]
