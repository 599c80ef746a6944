"""ember's built-in layers and losses, registered through the ``ember.plugins`` entry point."""

import ember

from . import activation, container, linear, loss

FAMILIES = (linear, activation, container, loss)


@ember.hookimpl
def ember_register_layers(registry):
    for family in FAMILIES:
        for name in family.__all__:
            registry.register(getattr(family, name))
