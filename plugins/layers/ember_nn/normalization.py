"""Normalization layers: BatchNorm1d/2d/3d (running statistics, momentum or cumulative average,
eval mode, track_running_stats), InstanceNorm1d/2d, LayerNorm, GroupNorm, RMSNorm.

Parameter and buffer names (``weight``, ``bias``, ``running_mean``, ``running_var``,
``num_batches_tracked``) are PyTorch's, so state_dicts interchange.
"""

from __future__ import annotations

import numbers

import ember
from ember.nn import LayerSample, Module, Parameter, init
from ember.nn import functional as F

from ._checks import RankError, expect_tensor

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "LayerNorm",
           "GroupNorm", "RMSNorm"]


def _add_affine(module, shape, affine: bool, bias: bool, device, dtype) -> None:
    """Register ``weight`` (ones) and ``bias`` (zeros) of ``shape``, or None placeholders, as PyTorch's
    norm layers do."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if affine:
        module.weight = Parameter(ember.ones(*shape, device=device, dtype=dtype))
        if bias:
            module.bias = Parameter(ember.zeros(*shape, device=device, dtype=dtype))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _reset_affine(module) -> None:
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _NormBase(Module):
    """Affine parameters and running statistics shared by batch and instance norm."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _add_affine(self, num_features, affine, bias, device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", ember.zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ember.ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", ember.tensor(0, dtype=ember.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input(self, input, ranks, describe) -> None:
        expect_tensor(self, input)
        shape = tuple(input.shape)
        if len(shape) not in ranks:
            raise RankError(f"{self._get_name()}({self.extra_repr()}): expected {describe} input, got "
                                       f"{len(shape)}-D input of shape {shape}")

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    _ranks, _describe = (2, 3), "2-D or 3-D"

    def forward(self, input):
        self._check_input(input, self._ranks, self._describe)
        if input.shape[1] != self.num_features:
            raise ember.ops.ShapeError(f"{self._get_name()}({self.extra_repr()}): expected input with "
                                       f"{self.num_features} channels (dim 1), got shape {tuple(input.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.array += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.array)
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if keep else None, self.running_var if keep else None,
                            self.weight, self.bias, use_batch_stats, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalization over ``(N, C)`` or ``(N, C, L)`` (``torch.nn.BatchNorm1d``): per-channel statistics of
    the batch in training (updating the running estimates), the running estimates in eval mode.

    Shape:
        - input: ``(N, C)`` or ``(N, C, L)``, floating point.
        - output: the shape and dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ShapeError: ``input`` is not 2-D or 3-D, or its dim 1 is not ``num_features``.
        ArgumentError: training on a single value per channel.
        DTypeError: ``input`` is not floating point.
        DeviceError: ``input`` is not on the parameters' device.

    PyTorch: ``torch.nn.BatchNorm1d``."""

    @staticmethod
    def samples(make):
        return [LayerSample((3,), inputs=(make(4, 3),)),
                LayerSample((2,), {"momentum": None}, inputs=(make(3, 2, 5),), name="cumulative, 3-D"),
                LayerSample((3,), {"affine": False, "track_running_stats": False}, inputs=(make(4, 3),),
                            name="plain")]


class BatchNorm2d(_BatchNorm):
    """Batch normalization over ``(N, C, H, W)`` (``torch.nn.BatchNorm2d``): per-channel statistics of the batch in
    training (updating the running estimates), the running estimates in eval mode.

    Shape:
        - input: ``(N, C, H, W)``, floating point.
        - output: the shape and dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ShapeError: ``input`` is not 4-D, or its dim 1 is not ``num_features``.
        ArgumentError: training on a single value per channel.
        DTypeError: ``input`` is not floating point.
        DeviceError: ``input`` is not on the parameters' device.

    PyTorch: ``torch.nn.BatchNorm2d``."""

    _ranks, _describe = (4,), "4-D"

    @staticmethod
    def samples(make):
        return [LayerSample((3,), inputs=(make(2, 3, 3, 2),)),
                LayerSample((2,), {"momentum": 0.3, "eps": 1e-3, "affine": False}, inputs=(make(3, 2, 2, 2),),
                            name="momentum, no affine"),
                LayerSample((2,), {"track_running_stats": False}, inputs=(make(3, 2, 2, 2),), name="batch stats only"),
                LayerSample((2,), {"bias": False}, inputs=(make(3, 2, 2, 2),), name="no bias")]


class BatchNorm3d(_BatchNorm):
    """Batch normalization over ``(N, C, D, H, W)`` (``torch.nn.BatchNorm3d``): per-channel statistics of the batch
    in training (updating the running estimates), the running estimates in eval mode.

    Shape:
        - input: ``(N, C, D, H, W)``, floating point.
        - output: the shape and dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ShapeError: ``input`` is not 5-D, or its dim 1 is not ``num_features``.
        ArgumentError: training on a single value per channel.
        DTypeError: ``input`` is not floating point.
        DeviceError: ``input`` is not on the parameters' device.

    PyTorch: ``torch.nn.BatchNorm3d``."""

    _ranks, _describe = (5,), "5-D"

    @staticmethod
    def samples(make):
        return [LayerSample((2,), inputs=(make(2, 2, 2, 3, 2),))]


class _InstanceNorm(_NormBase):
    _n = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1, affine: bool = False,
                 track_running_stats: bool = False, device=None, dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input):
        n = self._n
        self._check_input(input, (n + 1, n + 2), f"{n + 1}-D (unbatched) or {n + 2}-D (batched)")
        channel = input.shape[-(n + 1)]
        if channel != self.num_features and self.affine:
            raise ember.ops.ShapeError(f"{self._get_name()}({self.extra_repr()}): expected input with "
                                       f"{self.num_features} channels, got shape {tuple(input.shape)}")
        unbatched = input.dim() == n + 1
        if unbatched:
            input = input.unsqueeze(0)
        out = F.instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              self.momentum if self.momentum is not None else 0.0, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization over ``(N, C, L)`` or ``(C, L)`` (``torch.nn.InstanceNorm1d``): each sample's
    channels normalized over their own spatial dims.

    Shape:
        - input: ``(N, C, L)`` or ``(C, L)``, floating point.
        - output: the shape and dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ShapeError: ``input`` is not 2-D or 3-D, or (with ``affine=True``) its channel dim is not ``num_features``.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.InstanceNorm1d``."""

    _n = 1

    @staticmethod
    def samples(make):
        return [LayerSample((3,), inputs=(make(2, 3, 5),)),
                LayerSample((3,), {"affine": True, "track_running_stats": True}, inputs=(make(3, 4),),
                            name="affine, tracked, unbatched")]


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization over ``(N, C, H, W)`` or ``(C, H, W)`` (``torch.nn.InstanceNorm2d``): each sample's
    channels normalized over their own spatial dims.

    Shape:
        - input: ``(N, C, H, W)`` or ``(C, H, W)``, floating point.
        - output: the shape and dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ShapeError: ``input`` is not 3-D or 4-D, or (with ``affine=True``) its channel dim is not ``num_features``.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.InstanceNorm2d``."""

    _n = 2

    @staticmethod
    def samples(make):
        return [LayerSample((2,), inputs=(make(2, 2, 3, 3),)),
                LayerSample((2,), {"affine": True, "track_running_stats": True, "momentum": 0.2},
                            inputs=(make(2, 2, 3, 2),), name="affine, tracked")]


def _shape_tuple(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(normalized_shape)


class LayerNorm(Module):
    """Normalizes over the trailing ``normalized_shape`` dims (``torch.nn.LayerNorm``).

    Shape:
        - input: ``(*, *normalized_shape)``, floating point.
        - output: the shape and dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ShapeError: ``input``'s trailing dims are not ``normalized_shape``.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.LayerNorm``."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _add_affine(self, self.normalized_shape, elementwise_affine, bias, device, dtype)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input):
        expect_tensor(self, input)
        n = len(self.normalized_shape)
        if tuple(input.shape)[input.dim() - n:] != self.normalized_shape or input.dim() < n:
            raise ember.ops.ShapeError(f"{self._get_name()}({self.extra_repr()}): expected input whose trailing "
                                       f"dimensions are {self.normalized_shape}, got shape {tuple(input.shape)}")
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")

    @staticmethod
    def samples(make):
        return [LayerSample((4,), inputs=(make(3, 4),)),
                LayerSample(((2, 3),), {"eps": 1e-3}, inputs=(make(2, 2, 3),), name="2 dims"),
                LayerSample((4,), {"elementwise_affine": False}, inputs=(make(2, 4),), name="no affine"),
                LayerSample((4,), {"bias": False}, inputs=(make(2, 4),), name="no bias")]


class GroupNorm(Module):
    """Normalizes over groups of channels (``torch.nn.GroupNorm``).

    Shape:
        - input: ``(N, C, *)`` with C = ``num_channels``, floating point.
        - output: the shape and dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ValueError: ``num_groups`` does not divide ``num_channels`` (at construction).
        ShapeError: ``input`` has fewer than 2 dims or dim 1 is not ``num_channels``.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.GroupNorm``."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        _add_affine(self, num_channels, affine, bias, device, dtype)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input):
        expect_tensor(self, input)
        if input.dim() < 2 or input.shape[1] != self.num_channels:
            raise ember.ops.ShapeError(f"{self._get_name()}({self.extra_repr()}): expected input of shape (N, "
                                       f"{self.num_channels}, *), got shape {tuple(input.shape)}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.bias is not None}"

    @staticmethod
    def samples(make):
        return [LayerSample((2, 4), inputs=(make(3, 4, 5),)),
                LayerSample((1, 3), {"affine": False}, inputs=(make(2, 3, 2, 2),), name="one group, no affine"),
                LayerSample((3, 3), {"bias": False}, inputs=(make(2, 3, 4),), name="instance-like, no bias")]


class RMSNorm(Module):
    """Root-mean-square normalization over the trailing dims (``torch.nn.RMSNorm``); eps None uses the dtype's
    machine epsilon, as PyTorch does.

    Shape:
        - input: ``(*, *normalized_shape)``, floating point.
        - output: the shape and dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        ShapeError: ``input``'s trailing dims are not ``normalized_shape``.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.RMSNorm``."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine: bool = True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ember.ones(*self.normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, input):
        expect_tensor(self, input)
        n = len(self.normalized_shape)
        if input.dim() < n or tuple(input.shape)[input.dim() - n:] != self.normalized_shape:
            raise (RankError if input.dim() < n else ember.ops.ShapeError)(f"{self._get_name()}({self.extra_repr()}): expected input whose trailing "
                                       f"dimensions are {self.normalized_shape}, got shape {tuple(input.shape)}")
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"

    @staticmethod
    def samples(make):
        return [LayerSample((4,), inputs=(make(3, 4),)),
                LayerSample(((2, 3),), {"eps": 1e-4, "elementwise_affine": False}, inputs=(make(2, 2, 3),),
                            name="2 dims, no affine")]
