"""Registration of the fused kernels that a transformer block runs: tanh-GELU, layer_norm and softmax, forward
and backward (softmax's forward registers with the other row kernels in :mod:`ember_fast`). The batched
products of attention need no kernel of their own: they go through the matmul kernel's
:func:`ember_fast.gemm.matmul` like every product.

Kernels are registered by primitive name with a factory that makes each from its primitive's forward when ember
first imports the op's module (so ``import ember`` imports none of them), or, with a registry that takes no
factories, from the primitives imported now.
"""

from __future__ import annotations

import importlib

__all__ = ["BLOCK_KERNELS", "register_block_kernels", "block_primitives"]

# (module declaring the primitive, the primitive's name) -> (ember_fast module, function making its kernel)
BLOCK_KERNELS = {
    ("ember_ops.activation", "gelu"): ("gelu", "gelu_kernel"),
    ("ember_ops.activation", "gelu_backward"): ("gelu", "gelu_backward_kernel"),
    ("ember_ops.activation", "_softmax_backward_data"): ("softmax", "softmax_backward_kernel"),
    ("ember_ops.normalization", "native_layer_norm"): ("layer_norm", "layer_norm_kernel"),
    ("ember_ops.normalization", "native_layer_norm_backward"): ("layer_norm", "layer_norm_backward_kernel"),
}


def _primitive_named(module: str, name: str):
    """The primitive called ``name`` once ``module`` is imported, or None where this installation lacks it."""
    try:
        importlib.import_module(module)
    except ImportError:
        return None
    from ember.primitive import Primitive
    stack = [Primitive]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub.name == name and "forward" in sub.__dict__:
                return sub
            stack.append(sub)
    return None


def block_primitives():
    """The primitives of :data:`BLOCK_KERNELS` present in this installation (imports their modules)."""
    found = (_primitive_named(*where) for where in BLOCK_KERNELS)
    return [prim for prim in found if prim is not None]


def _maker(kernel_module: str, make: str):
    return getattr(importlib.import_module(f"{__package__}.{kernel_module}"), make)


def _from_forward(kernel_module: str, make: str):
    def factory(primitive):
        return _maker(kernel_module, make)(primitive.forward)
    factory.__name__ = f"{make}_factory"
    return factory


def register_block_kernels(registry) -> None:
    """Register the CPU kernels of :data:`BLOCK_KERNELS` (numba must be installed: the caller checks)."""
    for (module, name), (kernel_module, make) in BLOCK_KERNELS.items():
        try:
            registry.register_kernel(name, "cpu", factory=_from_forward(kernel_module, make))
        except TypeError:  # a registry without factories
            prim = _primitive_named(module, name)
            if prim is not None:
                registry.register_kernel(prim, "cpu", _maker(kernel_module, make)(prim.forward))
