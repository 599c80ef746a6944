"""Image resampling and rearrangement: ``interpolate`` (nearest, nearest-exact, linear, bilinear,
bicubic, trilinear, area; antialiased bilinear and bicubic), ``pixel_shuffle`` and ``pixel_unshuffle``.

Resizing is separable: each spatial dim is multiplied by a small (out, in) interpolation matrix with
PyTorch's source-index rules, so the op is a few matmuls, differentiable to any order.
"""

from __future__ import annotations

import math

import numpy as np

from ember import dtypes
from ember.ops import DimensionError, ErrorInput, OpTable, Sample, ShapeError, check_tensor, float_input

from .pooling import apply_along, averaging_matrix

ops = OpTable()

_LINEAR = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}  # interpolating modes: spatial dims
_TAPS = {"bilinear": 2, "bicubic": 4}  # filter width at scale one, for antialias


def _nearest_matrix(s, o, scale, exact):
    scale = np.float32(scale)
    dst = np.arange(o, dtype=np.float32)
    src = np.floor((dst + np.float32(0.5)) * scale) if exact else np.floor(dst * scale)
    idx = np.minimum(src.astype(np.int64), s - 1)
    m = np.zeros((o, s))
    m[np.arange(o), idx] = 1.0
    return m


def _linear_matrix(s, o, scale, align_corners):
    dst = np.arange(o, dtype=np.float64)
    if align_corners:
        src = dst * ((s - 1) / (o - 1) if o > 1 else 0.0)
    else:
        src = np.maximum(scale * (dst + 0.5) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), s - 1)
    i1 = np.minimum(i0 + 1, s - 1)
    w1 = src - i0
    m = np.zeros((o, s))
    np.add.at(m, (np.arange(o), i0), 1.0 - w1)
    np.add.at(m, (np.arange(o), i1), w1)
    return m


def _cubic_near(x, a):
    """Keys' cubic convolution kernel for 0 <= x <= 1."""
    return ((a + 2) * x - (a + 3)) * x * x + 1


def _cubic_far(x, a):
    """Keys' cubic convolution kernel for 1 < x < 2."""
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a


def _cubic_matrix(s, o, scale, align_corners):
    """PyTorch's bicubic taps (A = -0.75): four neighbours of the source index, clamped at the borders
    (repeated edge pixels) and, unlike linear, with no clamping of negative source indices."""
    dst = np.arange(o, dtype=np.float64)
    if align_corners:
        src = dst * ((s - 1) / (o - 1) if o > 1 else 0.0)
    else:
        src = scale * (dst + 0.5) - 0.5
    floor = np.floor(src)
    t = src - floor
    m = np.zeros((o, s))
    weights = (_cubic_far(t + 1, -0.75), _cubic_near(t, -0.75), _cubic_near(1 - t, -0.75), _cubic_far(2 - t, -0.75))
    for k, w in enumerate(weights):
        np.add.at(m, (np.arange(o), np.clip(floor.astype(np.int64) - 1 + k, 0, s - 1)), w)
    return m


def _triangle(x):
    return np.maximum(1.0 - np.abs(x), 0.0)


def _keys_cubic(x):
    """The cubic antialias filter (A = -0.5, as PIL's), zero beyond |x| = 2."""
    x = np.abs(x)
    return np.where(x < 1, _cubic_near(x, -0.5), np.where(x < 2, _cubic_far(x, -0.5), 0.0))


def _antialias_matrix(s, o, scale, filter_fn, taps):
    """PyTorch's (and PIL's) antialiased resampling: the filter stretched by the downscale factor, cut to
    the input's extent and normalised per output, so a border output averages only real pixels."""
    support = taps / 2 * scale if scale >= 1.0 else taps / 2
    stretch = 1.0 / scale if scale >= 1.0 else 1.0
    m = np.zeros((o, s))
    for i in range(o):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), s)
        w = filter_fn((np.arange(lo, hi) - center + 0.5) * stretch)
        total = w.sum()
        m[i, lo:hi] = w / total if total != 0 else w
    return m


def _interpolate_samples(make):
    yield Sample((make(1, 2, 3, 4),), {"scale_factor": 2}, name="nearest x2")
    yield Sample((make(1, 1, 5, 4),), {"size": (3, 7)}, name="nearest to size")
    yield Sample((make(1, 2, 5),), {"size": 7, "mode": "nearest-exact"}, name="nearest-exact 1-D")
    yield Sample((make(1, 2, 3, 4),), {"size": (5, 3), "mode": "bilinear"}, name="bilinear")
    yield Sample((make(2, 1, 3, 3),), {"scale_factor": 1.5, "mode": "bilinear", "align_corners": True},
                 name="bilinear, align_corners")
    yield Sample((make(1, 2, 4),), {"scale_factor": 0.5, "mode": "linear"}, name="linear downsample")
    yield Sample((make(1, 1, 2, 2, 3),), {"size": (3, 3, 2), "mode": "trilinear"}, name="trilinear")
    yield Sample((make(1, 2, 5, 4),), {"size": (2, 3), "mode": "area"}, name="area")
    yield Sample((make(1, 2, 3, 4),), {"size": (5, 7), "mode": "bicubic"}, name="bicubic")
    yield Sample((make(1, 1, 4, 3),), {"scale_factor": 2, "mode": "bicubic", "align_corners": True},
                 name="bicubic, align_corners")
    yield Sample((make(1, 2, 7, 6),), {"size": (3, 4), "mode": "bilinear", "antialias": True},
                 name="bilinear antialias")
    yield Sample((make(1, 1, 8, 5),), {"size": (3, 7), "mode": "bicubic", "antialias": True}, name="bicubic antialias")


def _interpolate_errors(make):
    yield ErrorInput(Sample((make(1, 1, 4, 4),), {"size": 2, "scale_factor": 2}), ValueError,
                     r"interpolate\(\).*exactly one of size or scale_factor")


@ops.op(namespaces=("functional",), samples=_interpolate_samples, errors=_interpolate_errors)
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, *spatial) input to ``size`` or by ``scale_factor`` with PyTorch's index
    rules (``torch.nn.functional.interpolate``; modes nearest, nearest-exact, linear, bilinear, bicubic, trilinear,
    area; ``antialias=True`` for bilinear and bicubic on 4-D input, as PyTorch's and PIL's filters; PyTorch's
    lanczos mode is not supported).

    Shape:
        - input: ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``, floating point ('linear',
          'bilinear'/'bicubic' and 'trilinear' need 3-D, 4-D and 5-D input).
        - output: ``(N, C, *size)``, or each spatial dim times ``scale_factor`` (floored); the dtype of ``input``.

    Raises:
        ValueError: not exactly one of ``size`` and ``scale_factor`` is given, either has the wrong length or gives
            an output size below 1, or ``align_corners``/``antialias`` is set for a mode that does not take it.
        NotImplementedError: ``input`` is not 3-D to 5-D, ``mode`` is unknown, or it needs another number of dims.
        DimensionError: ``size`` has another number of spatial dims than ``input``.
        ShapeError: a spatial dim of ``input`` is empty.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.nn.functional.interpolate``."""
    check_tensor("interpolate", "input", input)
    n = input.dim() - 2
    if n < 1:  # PyTorch's order: a size or scale_factor sequence of the wrong length first, then the rank
        if isinstance(size, (tuple, list)) or isinstance(scale_factor, (tuple, list)):
            raise DimensionError(f"interpolate(): Input and output must have the same number of spatial dimensions, "
                                 f"but got input with spatial dimensions of {list(input.shape[2:])} and size "
                                 f"{size!r} / scale_factor {scale_factor!r}")
        raise NotImplementedError(f"interpolate(): Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.dim()}D), shape {tuple(input.shape)}")
    if input._dtype is dtypes.uint8 and mode in ("nearest", "nearest-exact"):  # copies: exact in float
        out = interpolate(input.float(), size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
        return out.to(dtypes.uint8)
    float_input("interpolate", input)
    if mode in _LINEAR and _LINEAR[mode] != n:
        raise NotImplementedError(f"interpolate(): got {n + 2}D input, but {mode} mode needs {_LINEAR[mode] + 2}D "
                                  f"input")
    if mode not in _LINEAR and mode not in ("nearest", "nearest-exact", "area"):
        raise NotImplementedError(f"interpolate(): mode {mode!r} is not supported; expected nearest, nearest-exact, "
                                  f"linear, bilinear, bicubic, trilinear or area")
    if align_corners is not None and mode not in _LINEAR:
        raise ValueError("interpolate(): align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias and (mode not in ("bilinear", "bicubic") or n != 2):
        raise ValueError(f"interpolate(): anti-alias option is restricted to bilinear and bicubic modes and requires "
                         f"a 4-D tensor as input, got mode {mode!r} and shape {tuple(input.shape)}")
    in_size = tuple(input.shape[2:])
    if 0 in in_size:
        raise ShapeError(f"interpolate(): Input and output sizes should be greater than 0, but got input spatial "
                         f"size {in_size}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate(): exactly one of size or scale_factor should be defined")
    if size is not None:
        out = tuple(size) if isinstance(size, (tuple, list)) else (size,) * n
        if len(out) != n:
            raise ValueError(f"interpolate(): size {size!r} must have {n} elements for input of shape "
                             f"{tuple(input.shape)}")
        out = tuple(int(o) for o in out)
        scales = tuple(s / o for s, o in zip(in_size, out))
    else:
        factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * n
        if len(factors) != n:
            raise ValueError(f"interpolate(): scale_factor {scale_factor!r} must have {n} elements")
        out = tuple(int(math.floor(s * f)) for s, f in zip(in_size, factors))
        scales = tuple(s / o for s, o in zip(in_size, out)) if recompute_scale_factor else \
            tuple(1.0 / f for f in factors)
    if any(o < 1 for o in out):
        raise ValueError(f"interpolate(): output size {out} must be positive (input spatial size {in_size})")
    x = input
    for i, (s, o, sc) in enumerate(zip(in_size, out, scales)):
        if align_corners and mode in _LINEAR:
            sc = (s - 1) / (o - 1) if o > 1 else 0.0
        if mode == "area":
            m = averaging_matrix(s, o)
        elif antialias:
            m = _antialias_matrix(s, o, sc, _triangle if mode == "bilinear" else _keys_cubic, _TAPS[mode])
        elif mode == "bicubic":
            m = _cubic_matrix(s, o, sc, bool(align_corners))
        elif mode in _LINEAR:
            m = _linear_matrix(s, o, sc, bool(align_corners))
        else:
            m = _nearest_matrix(s, o, sc, mode == "nearest-exact")
        if s != o or mode in _LINEAR:
            x = apply_along(x, 2 + i, m)
    return x if x is not input else input.clone()


@ops.op(namespaces=("ember", "functional"),
        samples=lambda make: [Sample((make(1, 8, 2, 3), 2)), Sample((make(9, 2, 2), 3))])
def pixel_shuffle(input, upscale_factor):
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r) (``torch.nn.functional.pixel_shuffle``).

    Shape:
        - input: ``(*, C * r**2, H, W)`` with r = ``upscale_factor``, any dtype.
        - output: ``(*, C, H * r, W * r)``, the dtype of ``input``.

    Raises:
        ShapeError: ``input`` has fewer than 3 dims or its channels are not divisible by r**2.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.pixel_shuffle``."""
    check_tensor("pixel_shuffle", "input", input)
    r = int(upscale_factor)
    if input.dim() < 3 or input.shape[-3] % (r * r):
        raise ShapeError(f"pixel_shuffle(): expected input (*, C * {r}^2, H, W) with at least 3 dims, got shape "
                         f"{tuple(input.shape)}")
    *lead, c, h, w = input.shape
    lead = tuple(lead)
    k = len(lead)
    x = input.reshape(lead + (c // (r * r), r, r, h, w))
    x = x.permute(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return x.reshape(lead + (c // (r * r), h * r, w * r))


@ops.op(namespaces=("ember", "functional"),
        samples=lambda make: [Sample((make(1, 2, 4, 6), 2)), Sample((make(1, 3, 3), 3))])
def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W), the inverse of pixel_shuffle
    (``torch.nn.functional.pixel_unshuffle``).

    Shape:
        - input: ``(*, C, H * r, W * r)`` with r = ``downscale_factor``, any dtype.
        - output: ``(*, C * r**2, H, W)``, the dtype of ``input``.

    Raises:
        ShapeError: ``input`` has fewer than 3 dims, or H or W is not divisible by r.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.pixel_unshuffle``."""
    check_tensor("pixel_unshuffle", "input", input)
    r = int(downscale_factor)
    if input.dim() < 3 or input.shape[-1] % r or input.shape[-2] % r:
        raise ShapeError(f"pixel_unshuffle(): expected input (*, C, H, W) with H and W divisible by {r}, got shape "
                         f"{tuple(input.shape)}")
    *lead, c, h, w = input.shape
    lead = tuple(lead)
    k = len(lead)
    x = input.reshape(lead + (c, h // r, r, w // r, r))
    x = x.permute(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return x.reshape(lead + (c * r * r, h // r, w // r))
