"""Registration of ember_fast's compiled loops for a CNN's memory-bound steps: 2-D tiled max pooling and
its gradient (:mod:`ember_fast.pooling`), and the fold of a conv's input gradient
(:mod:`ember_fast.conv_columns`)."""

from __future__ import annotations

import importlib

__all__ = ["PRIMITIVES", "primitives", "register"]

# (module, class name) of a built-in primitive -> (ember_fast module, kernel factory taking its forward).
# Looked up, not imported by name, so a renamed or moved primitive is skipped instead of breaking the plugin.
PRIMITIVES = {
    ("ember_ops.pooling", "MaxPool2dTiled"): ("pooling", "max_pool2d_tiled_kernel"),
    ("ember_ops.pooling", "TileScatter"): ("pooling", "tile_scatter_kernel"),
    ("ember_ops.conv", "ConvColumnsFold"): ("conv_columns", "conv_columns_fold_kernel"),
}


def primitives():
    """(primitive class, kernel factory) for each entry of :data:`PRIMITIVES` present in this installation."""
    found = []
    for (module, name), (home, factory) in PRIMITIVES.items():
        try:
            prim = getattr(importlib.import_module(module), name, None)
        except ImportError:
            prim = None
        if prim is not None:
            found.append((prim, getattr(importlib.import_module(f"{__package__}.{home}"), factory)))
    return found


def register(registry):
    """Register a CPU kernel for each primitive found (called by ember_fast's device hook when numba is
    installed)."""
    for prim, make in primitives():
        registry.register_kernel(prim, "cpu", make(prim.forward))
