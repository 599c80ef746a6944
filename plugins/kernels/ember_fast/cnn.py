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


# Each primitive's name (``Primitive.name``): the kernels are registered by name with a factory, so that
# ``import ember`` imports none of their modules (each kernel is made when ember first imports its module).
NAMES = {"MaxPool2dTiled": "max_pool2d_tiled", "TileScatter": "tile_scatter", "ConvColumnsFold": "conv_columns_fold"}


def register(registry):
    """Register a CPU kernel for each primitive, by name (called by ember_fast's device hook when numba is
    installed)."""
    for (_, name), (home, factory) in PRIMITIVES.items():
        registry.register_kernel(NAMES[name], "cpu", factory=_from_forward(home, factory))


def _from_forward(home: str, factory: str):
    def make(primitive):
        return getattr(importlib.import_module(f"{__package__}.{home}"), factory)(primitive.forward)
    make.__name__ = f"{factory}_factory"
    return make
