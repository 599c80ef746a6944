"""ember's built-in optimizers and LR schedulers, registered through the ``ember.plugins`` entry point."""

import ember

from . import adam, adaptive, lbfgs, lr_scheduler, sgd

FAMILIES = (sgd, adam, adaptive, lbfgs, lr_scheduler)


@ember.hookimpl
def ember_register_optimizers(registry):
    for family in FAMILIES:
        for name in family.__all__:
            registry.register(getattr(family, name))
