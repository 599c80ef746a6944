"""ember-swish: a third-party ember plugin, published as its own distribution.

Installing it (``pip install ember-swish``) makes ``ember.swish`` / ``Tensor.swish`` /
``ember.nn.functional.swish``, ``ember.nn.Swish`` and ``ember.optim.Lion`` appear; ember finds this
module through the ``ember.plugins`` entry point in pyproject.toml and calls the hooks below.
"""

import ember

from .layers import Swish
from .lion import Lion
from .ops import ops, swish

__version__ = "0.1.0"
__all__ = ["swish", "Swish", "Lion"]


@ember.hookimpl
def ember_register_ops(registry):
    ops.register(registry)


@ember.hookimpl
def ember_register_layers(registry):
    registry.register(Swish)


@ember.hookimpl
def ember_register_optimizers(registry):
    registry.register(Lion)
