"""The Adam family: Adam, AdamW, Adamax, NAdam and RAdam, each PyTorch's update rule option for option.

Updates are array arithmetic on the parameters' backend arrays, in place (no tape). Scalars such as
bias corrections are Python floats, computed as PyTorch's single-tensor path computes them, so float64
trajectories match PyTorch's to rounding.
"""

from __future__ import annotations

from ember import dtypes
from ember.autograd.grad_mode import no_grad
from ember.optim import Optimizer
from ember.ops import Primitive, bump_version
from ember.tensor import Tensor

__all__ = ["Adam", "AdamW", "Adamax", "NAdam", "RAdam"]


def _learning_rate(lr):
    """``lr`` as the update uses it: a Tensor (PyTorch allows one) as a numpy scalar of its dtype, since
    PyTorch computes the step size ``lr / bias_correction1`` in that dtype."""
    return lr.detach().cpu().numpy()[()] if isinstance(lr, Tensor) else lr


def _check_betas(opt, betas):
    opt._check_option("beta parameter at index 0", betas[0], 0.0, 1.0)
    opt._check_option("beta parameter at index 1", betas[1], 0.0, 1.0)


class Adam(Optimizer):
    """``torch.optim.Adam`` (betas, eps, weight_decay as L2 on the gradient, amsgrad, maximize;
    ``decoupled_weight_decay=True`` makes it AdamW).

    All parameters of a group on one device are updated by one :class:`FusedAdam` call, whose numpy
    forward a device plugin may replace. ``foreach``, ``fused``, ``capturable`` and ``differentiable``
    are accepted for PyTorch's signature; ember picks its update path itself (``fused=True`` together
    with ``foreach=True`` is PyTorch's RuntimeError)."""

    sample_options = ({"lr": 0.1}, {"lr": 0.05, "betas": (0.8, 0.9), "weight_decay": 0.1},
                      {"lr": 0.05, "amsgrad": True}, {"lr": 0.05, "eps": 1e-3, "maximize": True},
                      {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True, "decoupled_weight_decay": True})

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False, foreach=None, capturable: bool = False,
                 differentiable: bool = False, fused=None):
        self._check_option("learning rate", lr)
        self._check_option("epsilon value", eps)
        _check_betas(self, betas)
        self._check_option("weight_decay value", weight_decay)
        if fused and foreach:
            raise RuntimeError(f"{type(self).__name__}: `fused` and `foreach` cannot be `True` together")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    @no_grad()
    def step(self, closure=None):
        """One Adam update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            amsgrad = group["amsgrad"]
            by_device = {}  # device -> the update's operand lists, in parameter order
            for p, param, grad, state in self._params_with_grad(group):
                if not state:
                    state["step"] = 0.0
                    state["exp_avg"] = self._zeros(p)
                    state["exp_avg_sq"] = self._zeros(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = self._zeros(p)
                state["step"] += 1
                lists = by_device.setdefault(p.device, ([], [], [], [], [], [], []))
                for slot, value in zip(lists, (p, param, grad, state["exp_avg"].array, state["exp_avg_sq"].array,
                                               state["max_exp_avg_sq"].array if amsgrad else None, state["step"])):
                    slot.append(value)
            for device, (tensors, *operands) in by_device.items():
                update = FusedAdam.kernels.get(device.type, FusedAdam.forward)
                update(device.xp, *operands, lr=_learning_rate(group["lr"]), beta1=group["betas"][0],
                       beta2=group["betas"][1], eps=group["eps"], weight_decay=group["weight_decay"],
                       amsgrad=amsgrad, decoupled=group.get("decoupled_weight_decay", False))
                for p in tensors:
                    bump_version(p)
        return loss


class FusedAdam(Primitive):
    """The Adam/AdamW update of many parameters at once, in place and off the tape (ATen's ``_fused_adam_``).

    ``forward(xp, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, lr, beta1, beta2, eps,
    weight_decay, amsgrad, decoupled)`` takes lists of arrays (``max_exp_avg_sqs`` holds None without
    amsgrad; ``steps`` holds each parameter's step count, already advanced) and updates params and moments.
    This numpy forward is the reference; a device plugin may register a faster kernel for it."""

    name = "_fused_adam_"
    differentiable = False

    @staticmethod
    def forward(xp, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, lr, beta1, beta2, eps,
                weight_decay, amsgrad, decoupled):
        for param, grad, exp_avg, exp_avg_sq, max_sq, step in zip(params, grads, exp_avgs, exp_avg_sqs,
                                                                  max_exp_avg_sqs, steps):
            if weight_decay:
                if decoupled:
                    param *= 1 - lr * weight_decay
                else:
                    grad = grad + weight_decay * param
            exp_avg += (grad - exp_avg) * (1 - beta1)
            exp_avg_sq *= beta2
            exp_avg_sq += (1 - beta2) * grad * grad
            bias_correction1 = 1 - beta1 ** step
            bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
            if amsgrad:
                xp.maximum(max_sq, exp_avg_sq, out=max_sq)
                denom = xp.sqrt(max_sq) / bias_correction2_sqrt + eps
            else:
                denom = xp.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
            param -= (lr / bias_correction1) * (exp_avg / denom)


class AdamW(Adam):
    """``torch.optim.AdamW``: Adam with weight decay applied to the weights, not the gradient."""

    sample_options = ({"lr": 0.05}, {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True},
                      {"lr": 0.05, "betas": (0.8, 0.9), "maximize": True})

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach=None, capturable: bool = False, differentiable: bool = False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, foreach=foreach, fused=fused)


class Adamax(Optimizer):
    """``torch.optim.Adamax``: Adam with the infinity norm in place of the second moment."""

    sample_options = ({"lr": 0.1}, {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.1},
                      {"lr": 0.1, "maximize": True})

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False):
        self._check_option("learning rate", lr)
        self._check_option("epsilon value", eps)
        _check_betas(self, betas)
        self._check_option("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    @no_grad()
    def step(self, closure=None):
        """One Adamax update; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay = group["weight_decay"]
            for p, param, grad, state in self._params_with_grad(group):
                xp = p.device.xp
                if not state:
                    state["step"] = 0.0
                    state["exp_avg"] = self._zeros(p)
                    state["exp_inf"] = self._zeros(p)
                state["step"] += 1
                if weight_decay:
                    grad = grad + weight_decay * param
                exp_avg, exp_inf = state["exp_avg"].array, state["exp_inf"].array
                exp_avg += (grad - exp_avg) * (1 - beta1)
                exp_inf *= beta2
                xp.maximum(exp_inf, xp.abs(grad) + eps, out=exp_inf)
                param -= (lr / (1 - beta1 ** state["step"])) * (exp_avg / exp_inf)
                bump_version(p)
        return loss


class NAdam(Optimizer):
    """``torch.optim.NAdam``: Adam with Nesterov momentum and PyTorch's momentum-decay schedule."""

    sample_options = ({"lr": 0.1}, {"lr": 0.05, "weight_decay": 0.1, "momentum_decay": 0.01},
                      {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True},
                      {"lr": 0.05, "maximize": True})

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False,
                 *, foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        self._check_option("learning rate", lr)
        self._check_option("epsilon value", eps)
        _check_betas(self, betas)
        self._check_option("weight_decay value", weight_decay)
        self._check_option("momentum_decay value", momentum_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    def state_dict(self) -> dict:
        """As the base, with ``mu_product`` as a 0-dim Tensor, as PyTorch keeps it (so that
        ``torch.load(..., weights_only=True)`` reads an ``ember.save``d NAdam state)."""
        from ember.tensor import tensor
        saved = super().state_dict()
        saved["state"] = {index: {key: tensor(value) if key == "mu_product" else value for key, value in slots.items()}
                          for index, slots in saved["state"].items()}
        return saved

    def load_state_dict(self, state_dict: dict) -> None:
        """As the base; a saved ``mu_product`` (a 0-dim Tensor, or a number) becomes a scalar of its dtype again."""
        super().load_state_dict(state_dict)
        for state in self.state.values():
            value = state.get("mu_product")
            if value is not None and not isinstance(value, dtypes.get_default_dtype().numpy.type):
                state["mu_product"] = (value.detach().cpu().numpy()[()] if hasattr(value, "numpy")
                                       else dtypes.get_default_dtype().numpy.type(value))

    @no_grad()
    def step(self, closure=None):
        """One NAdam update; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, momentum_decay = group["weight_decay"], group["momentum_decay"]
            decoupled = group["decoupled_weight_decay"]
            for p, param, grad, state in self._params_with_grad(group):
                xp = p.device.xp
                if not state:
                    state["step"] = 0.0
                    # PyTorch keeps mu_product as a 0-dim tensor of the default dtype: so do we
                    state["mu_product"] = dtypes.get_default_dtype().numpy.type(1.0)
                    state["exp_avg"] = self._zeros(p)
                    state["exp_avg_sq"] = self._zeros(p)
                state["step"] += 1
                step = state["step"]
                bias_correction2 = 1 - beta2 ** step
                if weight_decay:
                    if decoupled:
                        param *= 1 - lr * weight_decay
                    else:
                        grad = grad + weight_decay * param
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                state["mu_product"] = mu_product = state["mu_product"] * type(state["mu_product"])(mu)
                mu_product = float(mu_product)
                mu_product_next = mu_product * mu_next
                exp_avg, exp_avg_sq = state["exp_avg"].array, state["exp_avg_sq"].array
                exp_avg += (grad - exp_avg) * (1 - beta1)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * grad * grad
                denom = xp.sqrt(exp_avg_sq / bias_correction2) + eps
                param += (-lr * (1.0 - mu) / (1.0 - mu_product)) * (grad / denom)
                param += (-lr * mu_next / (1.0 - mu_product_next)) * (exp_avg / denom)
                bump_version(p)
        return loss


class RAdam(Optimizer):
    """``torch.optim.RAdam``: Adam with the variance rectification term (plain momentum while the
    variance estimate is unreliable, the first few steps)."""

    sample_options = ({"lr": 0.1}, {"lr": 0.05, "weight_decay": 0.1},
                      {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True},
                      {"lr": 0.05, "betas": (0.8, 0.9), "maximize": True})

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False):
        self._check_option("learning rate", lr)
        self._check_option("epsilon value", eps)
        _check_betas(self, betas)
        self._check_option("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    @no_grad()
    def step(self, closure=None):
        """One RAdam update; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, decoupled = group["weight_decay"], group["decoupled_weight_decay"]
            rho_inf = 2 / (1 - beta2) - 1
            for p, param, grad, state in self._params_with_grad(group):
                xp = p.device.xp
                if not state:
                    state["step"] = 0.0
                    state["exp_avg"] = self._zeros(p)
                    state["exp_avg_sq"] = self._zeros(p)
                state["step"] += 1
                step = state["step"]
                if weight_decay:
                    if decoupled:
                        param *= 1 - lr * weight_decay
                    else:
                        grad = grad + weight_decay * param
                exp_avg, exp_avg_sq = state["exp_avg"].array, state["exp_avg_sq"].array
                exp_avg += (grad - exp_avg) * (1 - beta1)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * grad * grad
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                corrected = exp_avg / bias_correction1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive = (bias_correction2 ** 0.5) / (xp.sqrt(exp_avg_sq) + eps)
                    param -= corrected * lr * adaptive * rect
                else:
                    param -= corrected * lr
                bump_version(p)
        return loss

