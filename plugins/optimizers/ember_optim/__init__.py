"""ember's built-in optimizers and LR schedulers, registered through the ``ember.plugins`` entry point.

The package imports none of its modules: ``ember_families`` names them, and ember imports each on first
use of one of its optimizers or schedulers (see :class:`ember.plugins.Families`).
"""

FAMILIES = tuple(f"{__name__}.{name}" for name in ("sgd", "adam", "adaptive", "lbfgs", "lr_scheduler"))


def register_family(family, registry):
    """Register the optimizers and schedulers one module exports (its ``__all__``)."""
    for name in family.__all__:
        registry.register(getattr(family, name))


# (kind, modules, register): ember.plugins.Families' fields, as a tuple so that this package imports nothing
# (``import ember_optim.<module>`` before ``import ember`` then finds the declaration whole when ember loads it)
ember_families = (("optimizers", FAMILIES, register_family),)
