"""``ember.nn``: the Module and Parameter base classes here; every layer is bound from the layers registry.

``ember.nn.Linear``, ``ember.nn.ReLU``, ... are set on this module when ember loads its plugins.
"""

from . import functional, init, utils
from .module import LayerSample, Module
from .parameter import Parameter

__all__ = ["LayerSample", "Module", "Parameter", "functional", "init", "utils"]


def __getattr__(name):
    # ``ember.nn.modules`` and ``ember.nn.parallel`` load on first use (``import ember`` stays fast).
    if name in ("modules", "parallel"):
        from importlib import import_module
        return import_module(f"{__name__}.{name}")
    if name == "DataParallel":
        from .parallel import DataParallel
        return DataParallel
    raise AttributeError(f"module 'ember.nn' has no attribute {name!r}")
