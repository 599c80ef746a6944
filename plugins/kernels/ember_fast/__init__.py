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
- large elementwise ops run as multi-threaded compiled loops (:mod:`ember_fast.elementwise`);
- a transformer block's tanh-GELU, layer_norm and long-row softmax, forward and backward, run as threaded
  vectorised loops (:mod:`ember_fast.block`), and its batched attention products as one MKL call;
- 2-D max pooling over windows that tile the input (2x2/stride 2) and its gradient, and the fold of a
  conv's input gradient, run as one compiled pass each (:mod:`ember_fast.pooling`,
  :mod:`ember_fast.conv_columns`).

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

# The built-in primitives whose forwards are matrix products: (module, class name, primitive name). The
# kernels are registered by primitive name with a factory, so that ``import ember`` imports none of these
# modules: each kernel is made from its class when ember imports the module, on first use of its ops.
GEMM_PRIMITIVES = (
    ("ember_ops.linalg", "Matmul", "matmul"), ("ember_ops.linalg", "Linear", "linear"),
    ("ember_ops.linalg", "LinearWeightGrad", "linear_weight_grad"),
    ("ember_ops.conv", "Convolution", "convolution"), ("ember_ops.conv", "ConvInputGrad", "conv_input_grad"),
    ("ember_ops.conv", "ConvWeightGrad", "conv_weight_grad"),
    ("ember_ops.conv", "ColumnsConvolution", "columns_convolution"),  # conv's GEMM when recorded for backward
)
FUSED_ADAM = ("ember_optim.adam", "FusedAdam", "_fused_adam_")
SOFTMAX_PRIMITIVES = (("ember_ops.activation", "Softmax", "_softmax"),
                      ("ember_ops.activation", "LogSoftmax", "_log_softmax"))


def _primitive(module: str, name: str, *_):
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def registered_primitives():
    """The built-in primitives this plugin has kernels for, as present in this installation (their modules
    imported, and ember's plugin modules loaded so that the kernels are bound to them)."""
    ember.plugins.load_all()
    found = [_primitive(*where) for where in GEMM_PRIMITIVES + (FUSED_ADAM,) + SOFTMAX_PRIMITIVES]
    return [prim for prim in found if prim is not None]


@ember.hookimpl
def ember_register_devices(registry):
    """CPU kernels for what this installation can run: the GEMM kernels where the ``mkl`` wheel is
    installed, the numba loops where numba is (both come with ``ember[fast]``)."""
    from . import sgd; sgd.register(registry)  # noqa: E702 (one line: others add theirs)
    if library_path() is not None:
        for _, _, primitive in GEMM_PRIMITIVES:
            registry.register_kernel(primitive, "cpu", factory=_on_fast_numpy_forward)
    if importlib.util.find_spec("numba") is None:
        return
    from . import elementwise; elementwise.register(registry)  # noqa: E702 (one line: others add theirs)
    from .adam import fused_adam
    registry.register_kernel(FUSED_ADAM[2], "cpu", fused_adam)
    from .softmax import log_softmax_kernel, softmax_kernel
    for (_, _, primitive), make in zip(SOFTMAX_PRIMITIVES, (softmax_kernel, log_softmax_kernel)):
        registry.register_kernel(primitive, "cpu", factory=_from_forward(make))
    from .block import register_block_kernels
    register_block_kernels(registry)
    from . import cnn; cnn.register(registry)  # noqa: E702 (one line: others add theirs)


def _on_fast_numpy_forward(primitive):
    """The primitive's own forward, run on the numpy namespace whose products go to MKL."""
    from .namespace import on_fast_numpy
    return on_fast_numpy(primitive.forward)


def _from_forward(make):
    def factory(primitive):
        return make(primitive.forward)
    factory.__name__ = f"{make.__name__}_factory"
    return factory
