"""``ember.nn.utils.parametrizations``: weight normalisation and spectral normalisation as
parametrizations (``torch.nn.utils.parametrizations.weight_norm`` / ``spectral_norm``)."""

from __future__ import annotations

from ..module import Module
from . import parametrize

__all__ = ["weight_norm", "spectral_norm"]


def _norm_except_dim(v, dim):
    if dim is None or dim == -1 and v.dim() == 0:
        return v.norm()
    dim = dim % v.dim()
    other = tuple(d for d in range(v.dim()) if d != dim)
    return (v * v).sum(other, keepdim=True).sqrt()


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name: str = "weight", dim: int = 0):
    """weight = g * v / ||v|| (norm over every dim but ``dim``), with g in ``original0`` and v in ``original1``."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim))
    return module


class _SpectralNorm(Module):
    """W / sigma(W), sigma estimated by power iteration on buffers u and v (updated in training mode)."""

    def __init__(self, weight, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12):
        super().__init__()
        from ... import nn
        self.dim, self.eps, self.n_power_iterations = dim % max(weight.dim(), 1), eps, n_power_iterations
        if weight.dim() > 1:
            mat = self._matrix(weight.detach())
            h, w = mat.shape
            u = nn.functional.normalize(weight.new_empty((h,)).normal_(0, 1), dim=0, eps=eps)
            v = nn.functional.normalize(weight.new_empty((w,)).normal_(0, 1), dim=0, eps=eps)
            self.register_buffer("_u", u)
            self.register_buffer("_v", v)
            self._power_method(mat, 15)

    def _matrix(self, weight):
        if self.dim != 0:
            weight = weight.movedim(self.dim, 0)
        return weight.reshape(weight.shape[0], -1)

    def _power_method(self, mat, iterations):
        from ... import nn, no_grad
        with no_grad():
            for _ in range(iterations):
                self._u.copy_(nn.functional.normalize(mat @ self._v, dim=0, eps=self.eps))
                self._v.copy_(nn.functional.normalize(mat.mT @ self._u, dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.dim() == 1:
            from ... import nn
            return nn.functional.normalize(weight, dim=0, eps=self.eps)
        mat = self._matrix(weight)
        if self.training:
            self._power_method(mat.detach(), self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = (u * (mat @ v)).sum()
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12, dim=None):
    """weight / sigma(weight) with the spectral norm sigma from power iteration (``dim`` 1 for transposed
    convolutions by default, as PyTorch)."""
    weight = getattr(module, name)
    if dim is None:
        from ... import nn
        transposed = tuple(getattr(nn, n) for n in ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
                           if hasattr(nn, n))
        dim = 1 if isinstance(module, transposed) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
