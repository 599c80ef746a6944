"""One BLAS thread for batches of small matrix products.

numpy runs a batched ``matmul`` as one BLAS call per matrix. For small matrices (attention's
(L, d) @ (d, L) per head) every call wakes and joins all of the BLAS library's threads, which costs
more than the product itself and collapses when another process shares the cores (measured 0.79 s
with two OpenBLAS threads against 0.05 s with one, for 144 products of 256x32x256 on a busy 2-core
machine). One thread per call avoids that; large single products keep every thread. The limit is set
through threadpoolctl where it is installed (about 10 us per call), and is a no-op otherwise.
"""

from __future__ import annotations

import contextlib

_controller = None
SMALL_PRODUCT = 1 << 22  # m * k * n below which one BLAS thread beats waking the others


def _blas_controller():
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
            _controller = ThreadpoolController()
        except ImportError:  # threadpoolctl is optional
            _controller = False
    return _controller


def for_batched_product(xp, a, b):
    """A context in which numpy multiplies the batch ``a @ b``: one BLAS thread when it is a batch of
    small products on numpy, nothing otherwise (nor for a kernel plugin's numpy whose matmul threads a batch as
    one call, marked ``threads_batched_products``)."""
    if xp.__name__ != "numpy" or (a.ndim <= 2 and b.ndim <= 2) or getattr(xp, "threads_batched_products", False):
        return contextlib.nullcontext()
    rows, cols = (a.shape[-2] if a.ndim > 1 else 1), (b.shape[-1] if b.ndim > 1 else 1)
    if rows * a.shape[-1] * cols > SMALL_PRODUCT:
        return contextlib.nullcontext()
    controller = _blas_controller()
    return controller.limit(limits=1, user_api="blas") if controller else contextlib.nullcontext()
