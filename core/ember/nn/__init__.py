"""``ember.nn``: the Module and Parameter base classes here; every layer is bound from the layers registry.

``ember.nn.Linear``, ``ember.nn.ReLU``, ... are set on this module when ember loads its plugins.
"""

from . import functional, init, utils
from . import parallel  # noqa: E402 - light: DDP imports nothing of MPI until constructed
from .module import LayerSample, Module
from .parameter import Parameter

__all__ = ["LayerSample", "Module", "Parameter", "functional", "init", "utils", "parallel"]
