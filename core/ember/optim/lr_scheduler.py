"""``ember.optim.lr_scheduler``: the LRScheduler base class; schedulers are bound from the registry.

The base follows PyTorch's protocol exactly (``last_epoch``, ``base_lrs``, an initial step at
construction, chainable ``get_lr`` that reads the current ``group["lr"]``, ``_get_closed_form_lr``
for ``step(epoch)``), so that every scheduler built on it yields PyTorch's sequence of rates.
"""

from __future__ import annotations

__all__ = ["LRScheduler", "check_optimizer"]


def check_optimizer(scheduler_name: str, optimizer) -> None:
    """Raise TypeError naming the scheduler when it is not attached to an ember Optimizer."""
    from .optimizer import Optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{scheduler_name}: expected an ember.optim.Optimizer to schedule, got "
                        f"{type(optimizer).__name__}")


class LRScheduler:
    """Base class of learning-rate schedulers (``torch.optim.lr_scheduler.LRScheduler``).

    Subclasses implement ``get_lr()`` (the rates for ``self.last_epoch``, usually from the current
    ``group["lr"]`` so that schedulers chain); ``step()`` advances ``last_epoch`` and writes the new
    rates into the optimizer's param groups.
    """

    _is_initial: bool = False

    def __init__(self, optimizer, last_epoch: int = -1):
        check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param 'initial_lr' is not specified in param_groups[{i}] "
                                   f"when resuming with last_epoch={last_epoch} (load the optimizer's state first)")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr()")

    def get_last_lr(self) -> list[float]:
        """The rates the last ``step`` set, one per param group."""
        return self._last_lr

    def step(self, epoch=None) -> None:
        """Advance one epoch (or jump to ``epoch``, using the closed form where there is one)."""
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch=None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _group_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Everything but the optimizer (functions the scheduler holds are the subclasses' business)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={getattr(self, '_last_lr', None)})"
