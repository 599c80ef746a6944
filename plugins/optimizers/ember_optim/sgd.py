"""Stochastic gradient descent with momentum, dampening, Nesterov, weight decay and maximize."""

from __future__ import annotations

from ember.autograd.grad_mode import no_grad
from ember.optim import Optimizer
from ember.ops import bump_version, wrap

__all__ = ["SGD"]


class SGD(Optimizer):
    """``torch.optim.SGD``: the same update rule, option for option.

    The update works on the parameters' backend arrays in place: no tape, one fused expression per
    parameter.
    """

    sample_options = ({"lr": 0.1}, {"lr": 0.05, "momentum": 0.9}, {"lr": 0.05, "momentum": 0.9, "nesterov": True},
                      {"lr": 0.05, "momentum": 0.5, "dampening": 0.1, "weight_decay": 0.01},
                      {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01, "maximize": True})

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False):
        self._check_option("learning rate", lr)
        self._check_option("momentum", momentum)
        self._check_option("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: Nesterov momentum requires a momentum > 0 and zero dampening, got "
                             f"momentum={momentum}, dampening={dampening}")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad.array
                if maximize:
                    d_p = -d_p
                if weight_decay:
                    d_p = d_p + weight_decay * p.array
                if momentum:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = wrap(d_p.copy(), p.device)
                    else:
                        buf.array *= momentum
                        buf.array += (1 - dampening) * d_p
                    d_p = d_p + momentum * buf.array if nesterov else buf.array
                p.array -= lr * d_p
                bump_version(p)
        return loss
