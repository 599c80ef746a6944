"""Spatial transformers: ``affine_grid`` builds a sampling grid from affine matrices and ``grid_sample``
reads an image at those (x, y) points, as spatial-transformer networks and augmentation code do.

Both are composites of ember ops (matmul, floor, gather, arithmetic), so gradients reach the input, the
grid and the affine matrices, to every order; the corner indices are integers and carry none, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from ember.ops import ArgumentError, DTypeError, OpTable, Sample, ShapeError, check_tensor

ops = OpTable()


def _base_coords(n, align_corners, dtype):
    """PyTorch's normalised pixel centres along one dimension of ``n`` pixels, in [-1, 1], computed as
    ``torch.linspace`` does in ``dtype`` (from both ends), so that sampling points fall on the same side
    of pixel boundaries as PyTorch's."""
    if n <= 1:
        return np.zeros(n, dtype)
    step = dtype(2.0 / (n - 1))
    i = np.arange(n)
    coords = np.where(i < n // 2, dtype(-1) + step * i.astype(dtype), dtype(1) - step * (n - 1 - i).astype(dtype))
    coords = coords.astype(dtype)
    return coords if align_corners else (coords * dtype(n - 1) / dtype(n)).astype(dtype)


def _affine_samples(make):
    yield Sample((make(2, 2, 3), (2, 3, 4, 5)), {"align_corners": False})
    yield Sample((make(1, 2, 3), (1, 1, 3, 2)), {"align_corners": True})


@ops.op(namespaces=("functional",), samples=_affine_samples)
def affine_grid(theta, size, align_corners=None):
    """The (N, H, W, 2) grid of (x, y) sampling points that the (N, 2, 3) affine matrices ``theta`` map the output
    pixels of ``size`` = (N, C, H, W) to, in [-1, 1] coordinates (``torch.nn.functional.affine_grid``;
    ``align_corners=None`` is False, as in PyTorch). Only the 2-d (4-element ``size``) form is supported.

    Shape:
        - theta: ``(N, 2, 3)`` affine matrices, floating point.
        - size: ``(N, C, H, W)``.
        - output: ``(N, H, W, 2)`` sampling grid in [-1, 1], the dtype of ``theta``.

    Raises:
        NotImplementedError: ``size`` is not 4-D (ember samples 2-D images only).
        ArgumentError: ``theta`` is not floating point or not ``(N, 2, 3)``.
        TypeError: ``theta`` is not a Tensor.

    PyTorch: ``torch.nn.functional.affine_grid``."""
    check_tensor("affine_grid", "theta", theta)
    if not theta.dtype.is_floating_point:
        # PyTorch raises ValueError for a non-float theta (and for a wrong shape)
        raise ArgumentError(f"affine_grid(): expected theta of a floating dtype, got {theta.dtype}")
    size = tuple(size)
    if len(size) != 4:
        raise NotImplementedError(f"affine_grid(): ember supports 4-d sizes (N, C, H, W) only, got {size}")
    n, _, h, w = size
    if tuple(theta.shape) != (n, 2, 3):
        raise ArgumentError(f"affine_grid(): expected theta of shape ({n}, 2, 3) for size {list(size)}, "
                         f"got {tuple(theta.shape)}")
    dtype = np.dtype(str(theta.dtype).rsplit(".", 1)[-1]).type
    xs, ys = _base_coords(w, bool(align_corners), dtype), _base_coords(h, bool(align_corners), dtype)
    base = np.stack(np.broadcast_arrays(xs[None, :], ys[:, None], np.ones((1, 1), dtype)), axis=-1)  # (H, W, 3)
    base = theta.new_tensor(base.reshape(1, h * w, 3))  # theta's dtype and device
    return (base @ theta.transpose(1, 2)).view(n, h, w, 2)


def _source_index(coord, size, align_corners, padding_mode):
    """Pixel coordinates of normalised ``coord`` along a dimension of ``size`` pixels."""
    index = ((coord + 1) / 2) * (size - 1) if align_corners else ((coord + 1) * size - 1) / 2
    if padding_mode == "border":  # PyTorch's clip passes gradient strictly inside the image only
        interior = (index > 0) & (index < size - 1)
        index = index.where(interior, index.clamp(0, size - 1).detach())
    return index


def _read(flat, x, y, h, w):
    """Values of ``flat`` (N, C, H*W) at integer pixels (x, y) of shape (N, P); zero outside the image."""
    inside = ((x >= 0) & (x < w) & (y >= 0) & (y < h))
    index = (y.clamp(0, h - 1) * w + x.clamp(0, w - 1)).unsqueeze(1).expand(flat.shape[0], flat.shape[1], -1)
    return flat.gather(2, index) * inside.unsqueeze(1).to(flat.dtype)


def _grid_sample_samples(make):
    yield Sample((make(2, 3, 4, 5), make(2, 3, 2, 2) * 1.2), {"align_corners": False})
    yield Sample((make(1, 2, 3, 3), make(1, 4, 4, 2)), {"align_corners": True, "padding_mode": "border"})
    yield Sample((make(1, 1, 4, 4), make(1, 2, 3, 2) * 0.9), {"mode": "nearest", "align_corners": False})


@ops.op(namespaces=("functional",), samples=_grid_sample_samples)
def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` (N, C, H, W) at the (x, y) points of ``grid`` (N, Ho, Wo, 2), in [-1, 1] coordinates,
    giving (N, C, Ho, Wo) (``torch.nn.functional.grid_sample``; ``align_corners=None`` is False). Modes
    ``bilinear`` and ``nearest`` (ties to even, as PyTorch); padding ``zeros`` and ``border``.

    Shape:
        - input: ``(N, C, H_in, W_in)``, floating point.
        - grid: ``(N, H_out, W_out, 2)`` sampling locations in [-1, 1], the dtype of ``input``.
        - output: ``(N, C, H_out, W_out)``, the dtype of ``input``.

    Raises:
        NotImplementedError: ``mode`` is not 'bilinear' or 'nearest', or ``padding_mode`` is not 'zeros' or
            'border'.
        ShapeError: ``input`` is not 4-D, ``grid`` is not ``(N, H_out, W_out, 2)``, or the batch sizes differ.
        DTypeError: ``input`` and ``grid`` are not one floating dtype.
        TypeError: ``input`` or ``grid`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.grid_sample``."""
    check_tensor("grid_sample", "input", input)
    check_tensor("grid_sample", "grid", grid)
    if mode not in ("bilinear", "nearest"):
        raise NotImplementedError(f"grid_sample(): ember supports mode 'bilinear' and 'nearest', got {mode!r}")
    if padding_mode not in ("zeros", "border"):
        raise NotImplementedError(f"grid_sample(): ember supports padding_mode 'zeros' and 'border', got "
                                  f"{padding_mode!r}")
    if input.dim() != 4 or grid.dim() != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise ShapeError(f"grid_sample(): expected input (N, C, H, W) and grid (N, Ho, Wo, 2) with the same N, "
                         f"got input {tuple(input.shape)} and grid {tuple(grid.shape)}")
    if input.dtype is not grid.dtype or not input.dtype.is_floating_point:
        raise DTypeError(f"grid_sample(): expected input and grid of the same floating dtype, got "
                         f"{input.dtype} and {grid.dtype}")
    n, c, h, w = input.shape
    out_h, out_w = grid.shape[1], grid.shape[2]
    points = grid.reshape(n, out_h * out_w, 2)
    x = _source_index(points[..., 0], w, bool(align_corners), padding_mode)
    y = _source_index(points[..., 1], h, bool(align_corners), padding_mode)
    flat = input.reshape(n, c, h * w)
    if mode == "nearest":
        x, y = x.round(), y.round()
        # round() has a zero derivative; the factor (exactly 1) carries it, so the grid gets a zero
        # gradient, as in PyTorch, rather than none
        unit = 1 + (x - x.detach() + y - y.detach()).unsqueeze(1)
        out = _read(flat, x.detach().long(), y.detach().long(), h, w) * unit
    else:
        x0f, y0f = x.detach().floor(), y.detach().floor()
        wx1, wy1 = x - x0f, y - y0f
        wx0, wy0 = 1 - wx1, 1 - wy1
        x0, y0 = x0f.long(), y0f.long()
        corners = ((x0, y0, wx0 * wy0), (x0 + 1, y0, wx1 * wy0), (x0, y0 + 1, wx0 * wy1), (x0 + 1, y0 + 1, wx1 * wy1))
        out = sum(_read(flat, cx, cy, h, w) * weight.unsqueeze(1) for cx, cy, weight in corners)
    return out.reshape(n, c, out_h, out_w)
