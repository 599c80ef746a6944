"""``MultivariateNormal``: N(loc, Sigma) over the last dim, given by ``covariance_matrix``,
``precision_matrix`` or ``scale_tril`` (exactly one), as ``torch.distributions.MultivariateNormal``.
Everything goes through the Cholesky factor L (Sigma = L L^T), so log_prob, entropy and rsample are
differentiable in all parameters."""

from __future__ import annotations

import math

from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .utils import lazy_property

__all__ = ["MultivariateNormal"]


def _batch_mahalanobis(L, x):
    """x^T (L L^T)^{-1} x over the last dim, batched."""
    from .. import linalg
    L = L.expand(tuple(x.shape[:-1]) + tuple(L.shape[-2:]))
    solved = linalg.solve_triangular(L, x.unsqueeze(-1), upper=False).squeeze(-1)
    return (solved * solved).sum(-1)


class MultivariateNormal(Distribution):
    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        import numpy as np
        from .. import linalg
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if (covariance_matrix is not None) + (scale_tril is not None) + (precision_matrix is not None) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        matrix = covariance_matrix if covariance_matrix is not None else \
            (scale_tril if scale_tril is not None else precision_matrix)
        if matrix.dim() < 2:
            raise ValueError("scale_tril, covariance_matrix or precision_matrix must be at least two-dimensional, "
                             "with optional leading batch dimensions")
        batch = tuple(np.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1])))
        n = loc.shape[-1]
        self.loc = loc.expand(batch + (n,))
        if scale_tril is not None:
            self.scale_tril = scale_tril.expand(batch + (n, n))
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self.covariance_matrix = covariance_matrix.expand(batch + (n, n))
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self.precision_matrix = precision_matrix.expand(batch + (n, n))
            cov = linalg.inv(precision_matrix)
            self._unbroadcasted_scale_tril = linalg.cholesky(0.5 * (cov + cov.mT))
        super().__init__(Size(batch), Size((n,)), validate_args=validate_args)

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return (L @ L.mT).expand(tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    @lazy_property
    def precision_matrix(self):
        from .. import linalg
        return linalg.inv(self.covariance_matrix)

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)

    @property
    def variance(self):
        return (self._unbroadcasted_scale_tril ** 2).sum(-1).expand(tuple(self._batch_shape) + tuple(self._event_shape))

    def _half_log_det(self):
        return self._unbroadcasted_scale_tril.diagonal(0, -2, -1).log().sum(-1)

    def rsample(self, sample_shape=Size()):
        from .continuous import _draw
        shape = self._extended_shape(sample_shape)
        eps = _draw("normal", shape, self.loc)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        m = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self):
        h = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(self._batch_shape) if len(self._batch_shape) else h

    def __repr__(self) -> str:
        return f"MultivariateNormal(loc: {self.loc.size()})"
