"""Registration of the fused kernels that a transformer block runs: tanh-GELU, layer_norm and softmax, forward
and backward (softmax's forward registers with the other row kernels in :mod:`ember_fast`). The batched
products of attention need no kernel of their own: they go through the matmul kernel's
:func:`ember_fast.gemm.matmul` like every product.

Each entry names a built-in primitive by module and class (looked up, so that a moved one is skipped) and the
function that makes its kernel from the reference forward.
"""

from __future__ import annotations

import importlib

__all__ = ["BLOCK_KERNELS", "register_block_kernels", "block_primitives"]

BLOCK_KERNELS = (
    ("ember_ops.activation", "Gelu", "gelu", "gelu_kernel"),
    ("ember_ops.activation", "GeluBackward", "gelu", "gelu_backward_kernel"),
    ("ember_ops.activation", "SoftmaxBackwardData", "softmax", "softmax_backward_kernel"),
    ("ember_ops.normalization", "LayerNorm", "layer_norm", "layer_norm_kernel"),
    ("ember_ops.normalization", "LayerNormBackward", "layer_norm", "layer_norm_backward_kernel"),
)


def _primitive(module, name):
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def block_primitives():
    """The primitives of :data:`BLOCK_KERNELS` present in this installation."""
    found = (_primitive(module, name) for module, name, _, _ in BLOCK_KERNELS)
    return [prim for prim in found if prim is not None]


def register_block_kernels(registry):
    """Register the CPU kernels of :data:`BLOCK_KERNELS` (numba must be importable: the caller checks)."""
    for module, name, kernel_module, make in BLOCK_KERNELS:
        prim = _primitive(module, name)
        if prim is not None:
            maker = getattr(importlib.import_module(f"{__package__}.{kernel_module}"), make)
            registry.register_kernel(prim, "cpu", maker(prim.forward))
