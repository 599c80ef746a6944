"""A small non-quadratic least-squares problem whose loss and gradient are computed in numpy, so that
ember's and PyTorch's optimizers are fed the very same gradients for the same parameter values and
their trajectories can be compared step by step without depending on either framework's ops."""

from __future__ import annotations

import numpy as np

RNG = np.random.default_rng(1234)
X = RNG.standard_normal((8, 4))
Y = RNG.standard_normal((8, 3))
W0 = RNG.standard_normal((3, 4)) * 0.5
B0 = RNG.standard_normal(3) * 0.5


def loss_and_grads(w: np.ndarray, b: np.ndarray):
    """f(w, b) = mean((X w^T + b - Y)^2) + 0.05 * sum(w^4): smooth, curved, not quadratic."""
    r = X @ w.T + b - Y
    loss = (r ** 2).mean() + 0.05 * (w ** 4).sum()
    dr = 2 * r / r.size
    return loss, dr.T @ X + 0.2 * w ** 3, dr.sum(0)


def initial(dtype):
    return W0.astype(dtype), B0.astype(dtype)
