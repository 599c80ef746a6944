"""``ember.nn``: the Module and Parameter base classes here; every layer is bound from the layers registry.

``ember.nn.Linear``, ``ember.nn.ReLU``, ... are set on this module when ember loads its plugins.
"""

from . import functional, init, utils
from . import parallel  # noqa: E402 - light: its wrappers are imported on first use
from .module import LayerSample, Module
from .parameter import Parameter, UninitializedBuffer, UninitializedParameter

__all__ = ["LayerSample", "Module", "Parameter", "UninitializedParameter", "UninitializedBuffer", "functional", "init",
           "utils", "parallel"]


def __getattr__(name):
    # ``ember.nn.modules`` loads on first use (``import ember`` stays fast); ``nn.DataParallel`` as in PyTorch.
    if name == "modules":
        from importlib import import_module
        return import_module(f"{__name__}.{name}")
    if name == "DataParallel":
        return parallel.DataParallel
    raise AttributeError(f"module 'ember.nn' has no attribute {name!r}")
