"""numpy, with its matrix product taken by MKL: the array namespace ember_fast's kernels hand to the built-in
forwards, so conv, linear and matmul keep their one definition and only the GEMM underneath changes."""

from __future__ import annotations

import types

import numpy as np

from . import gemm

fast_numpy = types.ModuleType("numpy", np.__doc__)
fast_numpy.__dict__.update(vars(np))  # same functions, same ndarray: only matmul differs
fast_numpy.matmul = gemm.matmul
fast_numpy.addmm = gemm.addmm  # Linear's bias folded into the GEMM (beta=1), as PyTorch's addmm
# its matmul runs a batch of small products as one MKL call that threads over the batch itself: the numpy path's
# one-BLAS-thread limit for batches (ember_ops.blas_threads) must not apply to it
fast_numpy.threads_batched_products = True


def on_fast_numpy(forward):
    """A CPU kernel that runs ``forward(xp, ...)`` with ``xp`` = numpy + MKL's GEMM."""
    def kernel(xp, *inputs, **attrs):
        return forward(fast_numpy if xp is np else xp, *inputs, **attrs)
    kernel.__name__ = kernel.__qualname__ = f"mkl_{getattr(forward, '__name__', 'forward')}"
    kernel.__doc__ = f"{forward.__qualname__} with MKL's GEMM."
    return kernel
