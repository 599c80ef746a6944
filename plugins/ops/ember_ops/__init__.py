"""ember's built-in ops, registered through the ``ember.plugins`` entry point like any third party's.

Each module declares one family of ops in an ``OpTable``. The package itself imports none of them:
``ember_families`` names them, and ember imports each on first use of one of its ops (from a name manifest
it caches; see :class:`ember.plugins.Families`), so that ``import ember`` stays fast.
"""

FAMILIES = tuple(f"{__name__}.{name}" for name in (
    "arithmetic", "elementwise_math", "comparison", "selection", "reduction", "sorting", "shape", "gather_scatter",
    "masks", "index_put", "triangular", "fill_copy", "linalg", "activation", "loss", "ctc",
    # neural-network functional families
    "conv", "pooling", "normalization", "dropout", "embedding", "similarity", "attention", "padding", "vision",
    # decompositions and norms; sampling; gamma family; everyday Tensor API
    "activation_inplace", "embedding_bag", "linalg_decompositions", "loss_margin", "pooling3d", "random_ops", "special",
    "tensor_api", "tensor_api_more", "windows",
    # isin; affine_grid, grid_sample; hypot, logit, xlogy, diff; kthvalue, quantile, searchsorted, histc; cdist
    "membership", "spatial_transform", "elementwise_composites", "order_statistics", "distance_matrix",
))


def register_family(family, registry):
    """Register one family module's ops (its ``ops`` table)."""
    family.ops.register(registry)


# (kind, modules, register): ember.plugins.Families' fields, as a tuple so that this package imports nothing
# (``import ember_ops.<module>`` before ``import ember`` then finds the declaration whole when ember loads it)
ember_families = (("ops", FAMILIES, register_family),)
