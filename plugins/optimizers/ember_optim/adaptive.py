"""Per-coordinate adaptive optimizers: RMSprop, Adagrad and Adadelta, PyTorch's rules option for option.

Updates are array arithmetic on the parameters' backend arrays, in place (no tape).
"""

from __future__ import annotations

from ember.autograd.grad_mode import no_grad
from ember.optim import Optimizer
from ember.ops import bump_version

__all__ = ["RMSprop", "Adagrad", "Adadelta"]


class RMSprop(Optimizer):
    """``torch.optim.RMSprop`` (alpha, eps, weight_decay, momentum, centered, maximize)."""

    sample_options = ({"lr": 0.01}, {"lr": 0.01, "alpha": 0.9, "momentum": 0.5},
                      {"lr": 0.01, "centered": True, "weight_decay": 0.1},
                      {"lr": 0.01, "momentum": 0.5, "centered": True, "maximize": True})

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach=None, maximize: bool = False, differentiable: bool = False):
        self._check_option("learning rate", lr)
        self._check_option("epsilon value", eps)
        self._check_option("momentum value", momentum)
        self._check_option("weight_decay value", weight_decay)
        self._check_option("alpha value", alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    @no_grad()
    def step(self, closure=None):
        """One RMSprop update; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, alpha, eps, weight_decay = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
            momentum, centered = group["momentum"], group["centered"]
            for p, param, grad, state in self._params_with_grad(group):
                xp = p.device.xp
                if not state:
                    state["step"] = 0.0
                    state["square_avg"] = self._zeros(p)
                    if momentum > 0:
                        state["momentum_buffer"] = self._zeros(p)
                    if centered:
                        state["grad_avg"] = self._zeros(p)
                state["step"] += 1
                if weight_decay:
                    grad = grad + weight_decay * param
                square_avg = state["square_avg"].array
                square_avg *= alpha
                square_avg += (1 - alpha) * grad * grad
                if centered:
                    grad_avg = state["grad_avg"].array
                    grad_avg += (grad - grad_avg) * (1 - alpha)
                    avg = xp.sqrt(square_avg - grad_avg * grad_avg)
                else:
                    avg = xp.sqrt(square_avg)
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"].array
                    buf *= momentum
                    buf += grad / avg
                    param -= lr * buf
                else:
                    param -= lr * (grad / avg)
                bump_version(p)
        return loss


class Adagrad(Optimizer):
    """``torch.optim.Adagrad`` (lr_decay, weight_decay, initial_accumulator_value, eps, maximize)."""

    sample_options = ({"lr": 0.1}, {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1},
                      {"lr": 0.1, "initial_accumulator_value": 0.5, "maximize": True})

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None):
        self._check_option("learning rate", lr)
        self._check_option("lr_decay value", lr_decay)
        self._check_option("weight_decay value", weight_decay)
        self._check_option("initial_accumulator_value value", initial_accumulator_value)
        self._check_option("epsilon value", eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize))
        for group in self.param_groups:  # PyTorch builds Adagrad's state eagerly
            for p in group["params"]:
                self.state[p]["step"] = 0.0
                self.state[p]["sum"] = self._zeros(p, group["initial_accumulator_value"])

    @no_grad()
    def step(self, closure=None):
        """One Adagrad update; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
            weight_decay = group["weight_decay"]
            for p, param, grad, state in self._params_with_grad(group):
                xp = p.device.xp
                if not state:  # a parameter added later with add_param_group
                    state["step"] = 0.0
                    state["sum"] = self._zeros(p, group["initial_accumulator_value"])
                state["step"] += 1
                if weight_decay:
                    grad = grad + weight_decay * param
                clr = lr / (1 + (state["step"] - 1) * lr_decay)
                state_sum = state["sum"].array
                state_sum += grad * grad
                param -= clr * (grad / (xp.sqrt(state_sum) + eps))
                bump_version(p)
        return loss


class Adadelta(Optimizer):
    """``torch.optim.Adadelta`` (lr, rho, eps, weight_decay, maximize)."""

    sample_options = ({"lr": 1.0, "eps": 1e-2}, {"lr": 1.0, "rho": 0.5, "eps": 1e-3, "weight_decay": 0.1},
                      {"lr": 2.0, "eps": 1e-3, "maximize": True})

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach=None, *, capturable: bool = False, maximize: bool = False, differentiable: bool = False):
        self._check_option("learning rate", lr)
        self._check_option("rho value", rho, 0.0, 1.0, open_high=False)
        self._check_option("epsilon value", eps)
        self._check_option("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    @no_grad()
    def step(self, closure=None):
        """One Adadelta update; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, rho, eps = group["lr"], group["rho"], group["eps"]
            weight_decay = group["weight_decay"]
            for p, param, grad, state in self._params_with_grad(group):
                xp = p.device.xp
                if not state:
                    state["step"] = 0.0
                    state["square_avg"] = self._zeros(p)
                    state["acc_delta"] = self._zeros(p)
                state["step"] += 1
                if weight_decay:
                    grad = grad + weight_decay * param
                square_avg, acc_delta = state["square_avg"].array, state["acc_delta"].array
                square_avg *= rho
                square_avg += (1 - rho) * grad * grad
                delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * grad
                acc_delta *= rho
                acc_delta += (1 - rho) * delta * delta
                param -= lr * delta
                bump_version(p)
        return loss
