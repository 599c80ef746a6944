"""ember's built-in layers and losses, registered through the ``ember.plugins`` entry point.

The package imports none of its modules: ``ember_families`` names them, and ember imports each on first
use of one of its layers (see :class:`ember.plugins.Families`), so that ``import ember`` stays fast.
"""

FAMILIES = tuple(f"{__name__}.{name}" for name in (
    "linear", "activation", "container", "loss", "conv", "pooling", "normalization", "dropout", "sparse", "reshape",
    "rnn", "attention", "transformer",
    # distance layers, EmbeddingBag, Fold/Unfold, margin losses, padding modules, 3-d pooling, lazy modules
    "distance", "embedding_bag", "fold", "loss_margin", "padding", "pooling3d", "sync_batchnorm", "lazy",
))


def register_family(family, registry):
    """Register the layers one module exports (its ``__all__``)."""
    for name in family.__all__:
        registry.register(getattr(family, name))


# (kind, modules, register): ember.plugins.Families' fields, as a tuple so that this package imports nothing
# (``import ember_nn.<module>`` before ``import ember`` then finds the declaration whole when ember loads it)
ember_families = (("layers", FAMILIES, register_family),)
