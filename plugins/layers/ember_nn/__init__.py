"""ember's built-in layers and losses, registered through the ``ember.plugins`` entry point."""

import ember

from . import (activation, attention, container, conv, dropout, linear, loss, normalization, pooling, reshape, rnn,
               sparse, transformer)
from . import distance, embedding_bag, fold, lazy, loss_margin, padding, pooling3d, sync_batchnorm  # noqa: E402  (padding modules, Fold/Unfold, distance layers, 3-d pooling)

FAMILIES = (linear, activation, container, loss, conv, pooling, normalization, dropout, sparse, reshape, rnn,
            attention, transformer, distance, embedding_bag, fold, loss_margin, padding, pooling3d, sync_batchnorm, lazy)


@ember.hookimpl
def ember_register_layers(registry):
    for family in FAMILIES:
        for name in family.__all__:
            registry.register(getattr(family, name))
