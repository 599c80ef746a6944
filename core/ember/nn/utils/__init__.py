"""``ember.nn.utils``: gradient clipping and flat parameter vectors (``torch.nn.utils``).

They work on the backend arrays of the parameters and their gradients, without recording anything.
"""

from __future__ import annotations

import math

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor, bump_version, wrap

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _as_list(parameters) -> list:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


@no_grad()
def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Scale the gradients in place so that their joint ``norm_type``-norm is at most ``max_norm``;
    returns the total norm before clipping (a 0-dim tensor)."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        from ...creation import tensor
        return tensor(0.0)
    xp = grads[0]._device.xp
    if math.isinf(norm_type):
        norms = [xp.abs(g._data).max() if g._data.size else xp.asarray(0.0, g._data.dtype) for g in grads]
        total = xp.max(xp.stack([xp.asarray(n) for n in norms]))
    else:
        per = [xp.sum(xp.abs(g._data) ** norm_type) for g in grads]
        total = xp.sum(xp.stack([xp.asarray(n) for n in per])) ** (1.0 / norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} for gradients is non-finite "
                           f"({float(total)}), so it cannot be clipped; set error_if_nonfinite=False to scale anyway")
    clip_coef = max_norm / (total + 1e-6)
    if clip_coef < 1:
        for g in grads:
            g._data *= clip_coef.astype(g._data.dtype)
            bump_version(g)
    return wrap(xp.asarray(total), grads[0]._device)


@no_grad()
def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient in place to ``[-clip_value, clip_value]``."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            xp = p.grad._device.xp
            xp.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
            bump_version(p.grad)


def parameters_to_vector(parameters) -> Tensor:
    """Concatenate the parameters, flattened, into one 1-D tensor (differentiable, as in PyTorch)."""
    from ... import cat
    params = _as_list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: expected at least one parameter, got none")
    device = params[0].device
    for p in params:
        if p.device != device:
            raise RuntimeError(f"parameters_to_vector: found parameters on {device} and {p.device}; all must be on "
                               f"one device")
    return cat([p.reshape(-1) for p in params])


@no_grad()
def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters (in place)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected vec to be a Tensor, got {type(vec).__name__}")
    params = _as_list(parameters)
    total = sum(p.numel() for p in params)
    if vec.dim() != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {total} elements (the parameters' total), "
                         f"got shape {tuple(vec.shape)}")
    offset = 0
    for p in params:
        n = p.numel()
        p._data[...] = vec._data[offset:offset + n].reshape(p._data.shape)
        bump_version(p)
        offset += n


def __getattr__(name):
    # The older weight/spectral norm helpers and the submodules load on first use.
    from importlib import import_module
    if name in ("weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"):
        return getattr(import_module(f"{__name__}.norm_hooks"), name)
    if name in ("rnn", "parametrize", "parametrizations"):
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'ember.nn.utils' has no attribute {name!r}")
