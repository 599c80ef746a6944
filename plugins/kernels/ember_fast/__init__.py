"""ember_fast: optional CPU kernels, installed with ``pip install 'ember[fast]'``.

A plugin like any third party's: the ``ember.plugins`` entry point ``fast`` registers, through the device
kernel hook (``ember_register_devices`` -> ``registry.register_kernel``), CPU kernels that replace the
forward of built-in primitives:

- the matrix products (``matmul``, ``linear`` and its weight gradient, convolution and its two gradients)
  run the same code on numpy with MKL's GEMM in place of OpenBLAS's (:mod:`ember_fast.gemm`);
- SGD's update of large parameters runs in MKL's BLAS-1 (``axpy``/``axpby``: in place, in MKL's thread
  pool), instead of numpy's expression with a temporary (:mod:`ember_fast.sgd`);
- the Adam/AdamW update of all parameters of a group at once runs as one compiled loop per parameter
  (numba), instead of about ten numpy passes with temporaries (:mod:`ember_fast.adam`);
- softmax and log_softmax (hence cross_entropy) over short rows, class scores, run as one compiled loop
  per row (:mod:`ember_fast.softmax`);
    from .block import register_block_kernels
    register_block_kernels(registry)
    from . import cnn; cnn.register(registry)  # noqa: E702 (one line: others add theirs)

Measured, not registered: the same loop on long rows (numpy's vectorised ``exp`` wins), and BLIS's GEMM
(slower than OpenBLAS here). layer_norm gets its fused form in the numpy path itself.

The numpy path stays the reference: each kernel is checked against it by the conformance suite (run
with the plugin installed) and its own tests. Without the plugin, or with ``EMBER_DISABLE_PLUGINS=fast``,
nothing changes. Nothing heavy is imported at ``import ember``: MKL is loaded at the first large product,
numba at the first optimizer step.
"""

from __future__ import annotations

import importlib
import importlib.util

import ember

from .gemm import library_path

# The built-in primitives whose forwards are matrix products: (module, class name). Looked up, not
# imported by name, so a renamed or moved primitive is skipped instead of breaking the plugin.
GEMM_PRIMITIVES = (
    ("ember_ops.linalg", "Matmul"), ("ember_ops.linalg", "Linear"), ("ember_ops.linalg", "LinearWeightGrad"),
    ("ember_ops.conv", "Convolution"), ("ember_ops.conv", "ConvInputGrad"), ("ember_ops.conv", "ConvWeightGrad"),
    ("ember_ops.conv", "ColumnsConvolution"),  # conv's GEMM when it is recorded for backward
)
FUSED_ADAM = ("ember_optim.adam", "FusedAdam")
SOFTMAX_PRIMITIVES = (("ember_ops.activation", "Softmax"), ("ember_ops.activation", "LogSoftmax"))


def _primitive(module: str, name: str):
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def registered_primitives():
    """The built-in primitives this plugin has kernels for, as present in this installation."""
    found = [_primitive(*where) for where in GEMM_PRIMITIVES + (FUSED_ADAM,) + SOFTMAX_PRIMITIVES]
    return [prim for prim in found if prim is not None]


@ember.hookimpl
def ember_register_devices(registry):
    """CPU kernels for what this installation can run: the GEMM kernels where the ``mkl`` wheel is
    installed, the numba loops where numba is (both come with ``ember[fast]``)."""
    from . import sgd; sgd.register(registry)  # noqa: E702 (one line: others add theirs)
    if library_path() is not None:
        from .namespace import on_fast_numpy
        for where in GEMM_PRIMITIVES:
            prim = _primitive(*where)
            if prim is not None:
                registry.register_kernel(prim, "cpu", on_fast_numpy(prim.forward))
    if importlib.util.find_spec("numba") is None:
        return
    from . import elementwise; elementwise.register(registry)  # noqa: E702 (one line: others add theirs)
    adam = _primitive(*FUSED_ADAM)
    if adam is not None:
        from .adam import fused_adam
        registry.register_kernel(adam, "cpu", fused_adam)
    from .softmax import log_softmax_kernel, softmax_kernel
    for (module, name), make in zip(SOFTMAX_PRIMITIVES, (softmax_kernel, log_softmax_kernel)):
        prim = _primitive(module, name)
        if prim is not None:
            registry.register_kernel(prim, "cpu", make(prim.forward))
    from .block import register_block_kernels
    register_block_kernels(registry)
    from . import cnn; cnn.register(registry)  # noqa: E702 (one line: others add theirs)
