"""ember's built-in ops, registered through the ``ember.plugins`` entry point like any third party's.

Each module declares one family of ops in an ``OpTable``; the hook registers them all.
"""

import ember

from . import activation, arithmetic, ctc, fill_copy, gather_scatter, index_put, linalg, loss, masks, reduction, shape, triangular

from . import conv, pooling, normalization, dropout, embedding, similarity, attention, padding, vision  # noqa: E402  (neural-network functional families)
from . import comparison, elementwise_math, selection, sorting  # noqa: E402  (more elementwise families, sorting)
from . import activation_inplace, embedding_bag, linalg_decompositions, loss_margin, pooling3d, random_ops, special, tensor_api, tensor_api_more, windows  # noqa: E402  (decompositions and norms; sampling; gamma family; everyday Tensor API)
from . import distance_matrix, elementwise_composites, membership, order_statistics, spatial_transform  # noqa: E402,E501  (cdist; hypot, logit, xlogy, diff; isin; kthvalue, quantile, searchsorted, histc; affine_grid, grid_sample)
FAMILIES = (arithmetic, elementwise_math, comparison, selection, reduction, sorting, shape, gather_scatter, masks, index_put,
            triangular, fill_copy, linalg, activation, loss, ctc, conv, pooling, normalization, dropout, embedding, similarity, attention, padding, vision, activation_inplace, embedding_bag, linalg_decompositions, loss_margin, pooling3d, random_ops, special, tensor_api, tensor_api_more, windows, membership, spatial_transform, elementwise_composites, order_statistics, distance_matrix)


@ember.hookimpl
def ember_register_ops(registry):
    for family in FAMILIES:
        family.ops.register(registry)
