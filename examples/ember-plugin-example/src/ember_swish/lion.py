"""``ember.optim.Lion``: EvoLved Sign Momentum (Chen et al., 2023, "Symbolic Discovery of Optimization
Algorithms"); PyTorch has no Lion.

The update is the sign of an interpolation between the momentum and the gradient, so every
coordinate moves by exactly ``lr``: use a learning rate 3-10x smaller than AdamW's.
"""

from ember import enable_grad, no_grad, zeros_like
from ember.optim import Optimizer


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
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if group["maximize"] else p.grad
                state = self.state[p]
                if "exp_avg" not in state:
                    state["exp_avg"] = zeros_like(p)
                exp_avg = state["exp_avg"]
                # in-place tensor ops, as in PyTorch's optimizers: they record the change (version
                # counter), so a graph that saved p cannot silently use the new value
                update = exp_avg.mul(beta1).add_(grad, alpha=1 - beta1).sign_()
                if weight_decay:
                    p.mul_(1 - lr * weight_decay)
                p.add_(update, alpha=-lr)
                exp_avg.mul_(beta2).add_(grad, alpha=1 - beta2)
        return loss
