"""Stochastic gradient descent with momentum, dampening, Nesterov, weight decay and maximize."""

from __future__ import annotations

from ember.autograd.grad_mode import no_grad
from ember.optim import Optimizer
from ember.ops import Primitive, bump_version, wrap
from ember.tensor import Tensor

__all__ = ["SGD"]


def _number(option):
    """A hyperparameter given as a Tensor (PyTorch allows it for ``lr`` and ``weight_decay``) as a float."""
    return option.item() if isinstance(option, Tensor) else option


class SGD(Optimizer):
    """``torch.optim.SGD``: the same update rule, option for option.

    The update works on the parameters' backend arrays in place, off the tape: all parameters of a group
    on one device go to :class:`FusedSGD` at once, whose numpy forward a device plugin may replace.
    ``foreach``, ``fused`` and ``differentiable`` are accepted for PyTorch's signature; ember picks its
    update path itself (``fused=True`` together with ``foreach=True`` is PyTorch's RuntimeError).
    """

    sample_options = ({"lr": 0.1}, {"lr": 0.05, "momentum": 0.9}, {"lr": 0.05, "momentum": 0.9, "nesterov": True},
                      {"lr": 0.05, "momentum": 0.5, "dampening": 0.1, "weight_decay": 0.01},
                      {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01, "maximize": True})

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False, foreach=None,
                 differentiable: bool = False, fused=None):
        self._check_option("learning rate", lr)
        self._check_option("momentum", momentum)
        self._check_option("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: Nesterov momentum requires a momentum > 0 and zero dampening, got "
                             f"momentum={momentum}, dampening={dampening}")
        if fused and foreach:
            raise RuntimeError("SGD: `fused` and `foreach` cannot be `True` together")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    @no_grad()
    def step(self, closure=None):
        """One SGD update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            momentum = group["momentum"]
            by_device = {}  # device -> (tensors, params, grads, momentum buffers), in parameter order
            for p in group["params"]:
                if p.grad is None:
                    continue
                lists = by_device.get(p.device) or by_device.setdefault(p.device, ([], [], [], []))
                lists[0].append(p)
                lists[1].append(p.array)
                lists[2].append(p.grad.array)
                buf = self.state[p].get("momentum_buffer") if momentum else None
                lists[3].append(None if buf is None else buf.array)
            for device, (tensors, params, grads, buffers) in by_device.items():
                update = FusedSGD.kernels.get(device.type, FusedSGD.forward)
                update(device.xp, params, grads, buffers, lr=_number(group["lr"]), momentum=momentum,
                       dampening=group["dampening"], weight_decay=_number(group["weight_decay"]),
                       nesterov=group["nesterov"], maximize=group["maximize"])
                for p, buf in zip(tensors, buffers):
                    if momentum and "momentum_buffer" not in self.state[p]:
                        self.state[p]["momentum_buffer"] = wrap(buf, p.device)
                    bump_version(p)
        return loss


class FusedSGD(Primitive):
    """The SGD update of many parameters at once, in place and off the tape (ATen's ``_fused_sgd_``).

    ``forward(xp, params, grads, momentum_buffers, *, lr, momentum, dampening, weight_decay, nesterov,
    maximize)`` takes lists of arrays and updates ``params`` (and, with momentum, the buffers) in place.
    ``momentum_buffers`` holds each parameter's buffer, or None where it has none yet: with momentum, such
    an entry is replaced in the list by a new buffer (the first step's direction, as in PyTorch); without
    momentum the list is not read. This numpy forward is the reference; a device plugin may register a
    faster kernel for it."""

    name = "_fused_sgd_"
    differentiable = False

    @staticmethod
    def forward(xp, params, grads, momentum_buffers, *, lr, momentum, dampening, weight_decay, nesterov,
                maximize):
        for i, (param, d_p) in enumerate(zip(params, grads)):
            if maximize:
                d_p = -d_p
            if weight_decay:
                d_p = d_p + weight_decay * param
            if momentum:
                buf = momentum_buffers[i]
                if buf is None:
                    buf = momentum_buffers[i] = d_p.copy()
                else:
                    buf *= momentum
                    buf += (1 - dampening) * d_p
                d_p = d_p + momentum * buf if nesterov else buf
            param -= lr * d_p
