"""``ember.optim``: the Optimizer base class here; SGD, Adam, ... are bound from the optimizers registry."""

from . import lr_scheduler
from .optimizer import Optimizer

__all__ = ["Optimizer", "lr_scheduler"]
