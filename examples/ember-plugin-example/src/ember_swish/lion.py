"""``ember.optim.Lion``: EvoLved Sign Momentum (Chen et al., 2023, "Symbolic Discovery of Optimization
Algorithms"); PyTorch has no Lion.

The update is the sign of an interpolation between the momentum and the gradient, so every
coordinate moves by exactly ``lr``: use a learning rate 3-10x smaller than AdamW's.
"""

from ember.autograd.grad_mode import no_grad
from ember.optim import Optimizer
from ember.tensor import bump_version, zeros_like


class Lion(Optimizer):
    """``Lion(params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, *, maximize=False)``.

    Per step: ``c = b1*m + (1-b1)*g``; ``p -= lr * (sign(c) + weight_decay * p)``;
    ``m = b2*m + (1-b2)*g`` (weight decay decoupled, as in the paper).
    """

    sample_options = ({"lr": 0.02}, {"lr": 0.02, "betas": (0.8, 0.95), "weight_decay": 0.1},
                      {"lr": 0.02, "maximize": True})

    def __init__(self, params, lr: float = 1e-4, betas=(0.9, 0.99), weight_decay: float = 0.0, *,
                 maximize: bool = False):
        if lr < 0.0:
            raise ValueError(f"Lion: invalid learning rate: {lr} (expected >= 0)")
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"Lion: invalid betas: {betas} (expected both in [0, 1))")
        if weight_decay < 0.0:
            raise ValueError(f"Lion: invalid weight_decay value: {weight_decay} (expected >= 0)")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), weight_decay=weight_decay, maximize=maximize))

    @no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            from ember.autograd.grad_mode import enable_grad
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = p._device.xp
                grad = -p.grad._data if group["maximize"] else p.grad._data
                state = self.state[p]
                if "exp_avg" not in state:
                    state["exp_avg"] = zeros_like(p)
                exp_avg = state["exp_avg"]._data
                update = xp.sign(beta1 * exp_avg + (1 - beta1) * grad)
                if weight_decay:
                    p._data *= 1 - lr * weight_decay
                p._data -= lr * update
                exp_avg *= beta2
                exp_avg += (1 - beta2) * grad
                bump_version(p)
        return loss
