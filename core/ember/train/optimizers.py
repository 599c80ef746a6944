"""Finding an optimizer by name among every registered one (built-in or a third party's plugin), with
the learning rate (and momentum) a PyTorch user expects of it when none is given."""

from __future__ import annotations

import inspect

from .config import TrainError

__all__ = ["optimizer_names", "find_optimizer", "optimizer_defaults", "make_optimizer", "needs_closure",
           "TRAIN_DEFAULTS"]

# Where an optimizer's own signature default is not what people train with. PyTorch's SGD defaults to
# lr=1e-3 and no momentum, which barely moves in a few epochs; lr 0.01 with momentum 0.9 is the recipe
# of PyTorch's tutorials and examples. Every other optimizer keeps its own default (Adam 1e-3 ...).
TRAIN_DEFAULTS = {"sgd": {"lr": 0.01, "momentum": 0.9}}


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


def _parameters(cls) -> dict:
    try:
        return dict(inspect.signature(cls.__init__).parameters)
    except (TypeError, ValueError):
        return {}


def optimizer_defaults(name: str) -> dict:
    """``{"lr": ..., "momentum": ...}`` for optimizer ``name`` when the user gives neither:
    :data:`TRAIN_DEFAULTS` where listed, else the ``lr`` default of the class's signature (momentum
    None: the optimizer's own). TrainError when the optimizer is unknown or has no default lr."""
    cls = find_optimizer(name)
    if cls.__name__.lower() in TRAIN_DEFAULTS:
        return dict(TRAIN_DEFAULTS[cls.__name__.lower()])
    lr = _parameters(cls).get("lr")
    if lr is None or lr.default is inspect.Parameter.empty or not isinstance(lr.default, (int, float)):
        raise TrainError(f"optimizer {cls.__name__} has no default learning rate; give one with --lr")
    return {"lr": float(lr.default), "momentum": None}


def needs_closure(optimizer) -> bool:
    """Whether ``optimizer.step`` must be given a closure that re-evaluates the loss (L-BFGS does: it
    evaluates the model several times per step)."""
    step = _parameters(type(optimizer).step).get("closure") if hasattr(type(optimizer), "step") else None
    if step is not None and step.default is inspect.Parameter.empty:
        return True
    return type(optimizer).__name__.lower() == "lbfgs"


def make_optimizer(name: str, params, lr: float, momentum: float | None):
    """An optimizer over ``params`` with ``lr``, and ``momentum`` when set and the optimizer takes one."""
    cls = find_optimizer(name)
    options = {"lr": lr}
    if "momentum" in _parameters(cls) and momentum:
        options["momentum"] = momentum
    return cls(params, **options)
