"""Finding an optimizer by name among every registered one (built-in or a third party's plugin)."""

from __future__ import annotations

import inspect

from .config import TrainError

__all__ = ["optimizer_names", "find_optimizer", "make_optimizer"]


def optimizer_names() -> list[str]:
    """Registered optimizer classes (LR schedulers share the registry and are left out)."""
    import ember
    from ember.optim import Optimizer
    registry = ember.plugins.registries["optimizers"]
    return sorted((n for n in registry if inspect.isclass(registry.get(n)) and issubclass(registry.get(n), Optimizer)),
                  key=str.lower)


def find_optimizer(name: str):
    """The optimizer class registered as ``name``, matched case-insensitively (``adamw`` finds AdamW)."""
    import ember
    registry = ember.plugins.registries["optimizers"]
    names = optimizer_names()
    for candidate in names:
        if candidate.lower() == name.lower():
            return registry.get(candidate)
    raise TrainError(f"unknown optimizer {name!r}; registered optimizers: {', '.join(names)}")


def make_optimizer(name: str, params, lr: float, momentum: float):
    """An optimizer over ``params`` with ``lr``, and ``momentum`` when it takes one."""
    cls = find_optimizer(name)
    options = {"lr": lr}
    try:
        accepted = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        accepted = {}
    if "momentum" in accepted and momentum:
        options["momentum"] = momentum
    return cls(params, **options)
