"""Layers that rearrange or resample without parameters: Flatten, Unflatten, Upsample, PixelShuffle,
PixelUnshuffle."""

from __future__ import annotations

from ember.nn import LayerSample, Module
from ember.nn import functional as F

from ._checks import expect_tensor

__all__ = ["Flatten", "Unflatten", "Upsample", "PixelShuffle", "PixelUnshuffle"]


class Flatten(Module):
    """Flattens dims ``start_dim..end_dim`` (``torch.nn.Flatten``; note start_dim defaults to 1 here).

    Shape:
        - input: ``(*, S_start, ..., S_end, *)``, any dtype.
        - output: ``(*, S_start * ... * S_end, *)``, a view where possible, the dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        OutOfRangeError: ``start_dim`` or ``end_dim`` is out of range for ``input``.

    PyTorch: ``torch.nn.Flatten``."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        expect_tensor(self, input)
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(2, 3, 4),)), LayerSample((0,), inputs=(make(2, 3),), name="start 0"),
                LayerSample((1, 2), inputs=(make(2, 3, 4, 2),), name="middle")]


class Unflatten(Module):
    """Splits dim ``dim`` into ``unflattened_size`` (``torch.nn.Unflatten``).

    Shape:
        - input: ``(*, S_dim, *)``, any dtype.
        - output: ``(*, U_1, ..., U_k, *)`` with ``unflattened_size`` = (U_1, ..., U_k) (one may be -1) multiplying
          to S_dim.

    Raises:
        TypeError: ``dim`` is not an int (at construction).
        OutOfRangeError: ``dim`` is out of range for ``input``.
        ShapeError: ``unflattened_size`` does not multiply to ``input.shape[dim]``.

    PyTorch: ``torch.nn.Unflatten``."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(dim, int):
            raise TypeError(f"Unflatten: dim must be an int, got {type(dim).__name__}")
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input):
        expect_tensor(self, input)
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"

    @staticmethod
    def samples(make):
        return [LayerSample((1, (2, 3)), inputs=(make(4, 6),)), LayerSample((-1, (2, -1)), inputs=(make(3, 4),))]


class Upsample(Module):
    """Resamples to ``size`` or by ``scale_factor`` (``torch.nn.Upsample``, through ``F.interpolate``).

    Shape:
        - input: ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``, floating point.
        - output: ``(N, C, *size)``, or each spatial dim times ``scale_factor`` (floored); the dtype of ``input``.

    Raises:
        ValueError: not exactly one of ``size`` and ``scale_factor`` is given.
        NotImplementedError: ``input`` is not 3-D to 5-D, or ``mode`` needs another number of dims.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.Upsample``."""

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else \
            (tuple(float(f) for f in scale_factor) if scale_factor is not None else None)
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor

    def forward(self, input):
        expect_tensor(self, input)
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"

    @staticmethod
    def samples(make):
        return [LayerSample(kwargs={"scale_factor": 2}, inputs=(make(1, 2, 3, 3),), name="nearest x2"),
                LayerSample(kwargs={"size": (5, 4), "mode": "bilinear", "align_corners": False},
                            inputs=(make(2, 1, 3, 3),), name="bilinear to size"),
                LayerSample(kwargs={"scale_factor": 2, "mode": "bilinear", "align_corners": True},
                            inputs=(make(1, 2, 2, 3),), name="bilinear align_corners")]


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r) (``torch.nn.PixelShuffle``).

    Shape:
        - input: ``(*, C * r**2, H, W)`` with r = ``upscale_factor``, any dtype.
        - output: ``(*, C, H * r, W * r)``, the dtype of ``input``.

    Raises:
        ShapeError: ``input`` has fewer than 3 dims or its channels are not divisible by r**2.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.PixelShuffle``."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"

    @staticmethod
    def samples(make):
        return [LayerSample((2,), inputs=(make(1, 8, 2, 3),)), LayerSample((3,), inputs=(make(9, 2, 2),))]


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of PixelShuffle (``torch.nn.PixelUnshuffle``).

    Shape:
        - input: ``(*, C, H * r, W * r)`` with r = ``downscale_factor``, any dtype.
        - output: ``(*, C * r**2, H, W)``, the dtype of ``input``.

    Raises:
        ShapeError: ``input`` has fewer than 3 dims or H, W are not divisible by r.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.PixelUnshuffle``."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"

    @staticmethod
    def samples(make):
        return [LayerSample((2,), inputs=(make(1, 2, 4, 6),))]
