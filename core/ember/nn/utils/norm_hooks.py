"""The older hook-based ``torch.nn.utils.weight_norm`` / ``spectral_norm`` (and their ``remove_*``), still
common in published code: the parameter is split into new parameters (``weight_g`` and ``weight_v``, or
``weight_orig`` with buffers ``weight_u``/``weight_v``) and ``module.weight`` is recomputed from them by a
forward pre-hook, as in PyTorch, so state_dict keys match PyTorch's."""

from __future__ import annotations

from ..parameter import Parameter
from .parametrizations import _norm_except_dim

__all__ = ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]


class _WeightNormHook:
    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute(self, module):
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module, inputs):
        object.__setattr__(module, self.name, self.compute(module))


def weight_norm(module, name: str = "weight", dim: int = 0):
    """Split ``name`` into magnitude ``<name>_g`` and direction ``<name>_v`` (``torch.nn.utils.weight_norm``)."""
    hook = _WeightNormHook(name, -1 if dim is None else dim)
    weight = module._parameters.pop(name)
    module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, hook.dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    object.__setattr__(module, name, hook.compute(module))
    handle = module.register_forward_pre_hook(hook)
    module.__dict__.setdefault("_weight_norm_hooks", {})[name] = (hook, handle)
    return module


def remove_weight_norm(module, name: str = "weight"):
    """Fold ``<name>_g`` and ``<name>_v`` back into one parameter ``name``."""
    hooks = module.__dict__.get("_weight_norm_hooks", {})
    if name not in hooks:
        raise ValueError(f"weight_norm of '{name}' not found in {module}")
    hook, handle = hooks.pop(name)
    weight = hook.compute(module).detach()
    handle.remove()
    del module._parameters[name + "_g"], module._parameters[name + "_v"]
    module.__dict__.pop(name, None)
    module.register_parameter(name, Parameter(weight))
    return module


class _SpectralNormHook:
    def __init__(self, name, n_power_iterations, dim, eps):
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def matrix(self, weight):
        if self.dim != 0:
            weight = weight.movedim(self.dim, 0)
        return weight.reshape(weight.shape[0], -1)

    def compute(self, module, do_power_iteration):
        from ... import no_grad
        from .. import functional as F
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        mat = self.matrix(weight)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(F.normalize(mat.detach().mT @ u, dim=0, eps=self.eps))
                    u.copy_(F.normalize(mat.detach() @ v, dim=0, eps=self.eps))
            u, v = u.clone(), v.clone()
        sigma = (u * (mat @ v)).sum()
        return weight / sigma

    def __call__(self, module, inputs):
        object.__setattr__(module, self.name, self.compute(module, module.training))


def spectral_norm(module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12, dim=None):
    """Divide ``name`` by its spectral norm, estimated by power iteration (``torch.nn.utils.spectral_norm``)."""
    from .. import functional as F
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    hook = _SpectralNormHook(name, n_power_iterations, dim, eps)
    weight = module._parameters.pop(name)
    mat = hook.matrix(weight.detach())
    h, w = mat.shape
    module.register_parameter(name + "_orig", weight)
    module.register_buffer(name + "_u", F.normalize(weight.new_empty((h,)).normal_(0, 1), dim=0, eps=eps))
    module.register_buffer(name + "_v", F.normalize(weight.new_empty((w,)).normal_(0, 1), dim=0, eps=eps))
    object.__setattr__(module, name, weight.detach() * 1.0)
    handle = module.register_forward_pre_hook(hook)
    module.__dict__.setdefault("_spectral_norm_hooks", {})[name] = (hook, handle)
    return module


def remove_spectral_norm(module, name: str = "weight"):
    hooks = module.__dict__.get("_spectral_norm_hooks", {})
    if name not in hooks:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    hook, handle = hooks.pop(name)
    weight = hook.compute(module, False).detach()
    handle.remove()
    del module._parameters[name + "_orig"]
    del module._buffers[name + "_u"], module._buffers[name + "_v"]
    module.__dict__.pop(name, None)
    module.register_parameter(name, Parameter(weight))
    return module
