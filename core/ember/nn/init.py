"""``ember.nn.init``: in-place initialisers drawn from PyTorch's distributions.

They write into the tensor under ``no_grad`` (bumping its version) and return it, as PyTorch's do.
"""

from __future__ import annotations

import math

from ..autograd.grad_mode import no_grad
from ..random import default_generator
from ..tensor import Tensor, bump_version

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "eye_", "dirac_",
           "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_", "xavier_normal_", "trunc_normal_",
           "orthogonal_", "_calculate_fan_in_and_fan_out"]


def _stream(tensor, generator):
    return (generator or default_generator(tensor.device)).stream


def _write(tensor: Tensor, data) -> Tensor:
    xp = tensor._device.xp
    with no_grad():
        xp.copyto(tensor._data, xp.asarray(data).astype(tensor._data.dtype, copy=False))
        bump_version(tensor)
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from U(a, b)."""
    draws = _stream(tensor, generator).random(tensor._data.shape, tensor._data.dtype)
    return _write(tensor, draws * (b - a) + a)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from N(mean, std**2)."""
    draws = _stream(tensor, generator).normal(tensor._data.shape, tensor._data.dtype)
    return _write(tensor, draws * std + mean)


def constant_(tensor: Tensor, val: float) -> Tensor:
    with no_grad():
        tensor._data[...] = val
        bump_version(tensor)
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for a nonlinearity (``torch.nn.init.calculate_gain``)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    if tensor.dim() < 2:
        raise ValueError(f"fan in and fan out can not be computed for a tensor with fewer than 2 dimensions "
                         f"(shape {tuple(tensor.shape)})")
    receptive = math.prod(tensor.shape[2:]) if tensor.dim() > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} not supported; expected 'fan_in' or 'fan_out'")
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None) -> Tensor:
    """He uniform init: U(-b, b) with b = gain * sqrt(3 / fan) (``torch.nn.init.kaiming_uniform_``)."""
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode)) if tensor.numel() else 0.0
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None) -> Tensor:
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)) if tensor.numel() else 0.0
    return normal_(tensor, 0.0, std, generator)


def xavier_uniform_(tensor, gain: float = 1.0, generator=None) -> Tensor:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None) -> Tensor:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (``torch.nn.init.eye_``), preserving the identity of inputs in Linear."""
    if tensor.dim() != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}")
    return _write(tensor, tensor._device.xp.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D conv weight with the Dirac delta, so the conv passes its input through."""
    if tensor.dim() not in (3, 4, 5):
        raise ValueError(f"dirac_: only tensors with 3, 4, or 5 dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}")
    out_per_group = tensor.shape[0] // groups
    if tensor.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({tensor.shape[0]}) must be divisible by groups ({groups})")
    xp = tensor._device.xp
    data = xp.zeros(tuple(tensor.shape))
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, tensor.shape[1])):
            data[(g * out_per_group + d, d) + centre] = 1
    return _write(tensor, data)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator=None) -> Tensor:
    """Fill with N(mean, std**2) truncated to [a, b] (``torch.nn.init.trunc_normal_``).

    Drawn by rejection (redrawing values outside the bounds), the same distribution as PyTorch's
    inverse-CDF draw, with a different stream.
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    stream = _stream(tensor, generator)
    xp = tensor._device.xp
    shape = tensor._data.shape
    values = stream.normal(shape, "float64") * std + mean
    bad = (values < a) | (values > b)
    for _ in range(1000):
        count = int(bad.sum())
        if not count:
            break
        values[bad] = stream.normal((count,), "float64") * std + mean
        bad = (values < a) | (values > b)
    else:  # the bounds hold almost no mass: fall back to clamping, as close as we can get
        values = xp.clip(values, a, b)
    return _write(tensor, values)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix from the QR decomposition of a normal draw (Saxe et al.)."""
    if tensor.dim() < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    xp = tensor._device.xp
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _stream(tensor, generator).normal((rows, cols), "float64")
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (gain * q).reshape(tuple(tensor.shape)))
