"""SGD's update through MKL's BLAS-1 (``?axpy``, ``?axpby``): the kernel ember_fast registers for ``_fused_sgd_``.

numpy's ``param -= lr * grad`` makes two passes, the first writing ``lr * grad`` to a temporary, on one
thread: on the MLP's 784x512 weight (401,408 float32, past the 2 MiB of L2) that is 270 us where
PyTorch's ``add_`` takes 160 us on one thread and 48 us on two. ``cblas_saxpy`` makes one pass in place,
in MKL's thread pool (the one that runs ember_fast's GEMM, under the same thread policy,
:mod:`ember.thread_policy`): 150 us on one thread, 48 us on two.

Each option is folded into the BLAS calls: weight decay as ``axpby``'s scale of the parameter (or an
``axpy`` of it into the momentum buffer), maximize as the gradient's sign, Nesterov as a second ``axpy``
of the buffer. The result equals the numpy reference's up to rounding (a product and a sum may fuse).
Parameters smaller than :data:`MIN_BLAS_SIZE`, non-contiguous or not float32/float64, and a momentum
buffer's first step (a copy of the gradient) take the numpy reference.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ember import thread_policy

from . import gemm

__all__ = ["fused_sgd", "register", "MIN_BLAS_SIZE"]

MIN_BLAS_SIZE = 65536  # elements; below it a ctypes call's ~6 us cost more than numpy's two passes save
_blas = None           # dtype char -> (axpy, axpby) of the loaded MKL, or False when MKL does not load


def _functions():
    """MKL's ``?axpy`` and ``?axpby`` for float32 and float64, typed for ctypes; False without MKL."""
    global _blas
    if not gemm.available():  # loads MKL and puts its thread pool under the thread policy
        _blas = False
        return _blas
    lib = gemm._lib
    found = {}
    for char, prefix, scalar in (("f", "cblas_s", ctypes.c_float), ("d", "cblas_d", ctypes.c_double)):
        axpy, axpby = getattr(lib, prefix + "axpy"), getattr(lib, prefix + "axpby")
        axpy.restype = axpby.restype = None
        # y = alpha * x + y;  y = alpha * x + beta * y  (n, alpha, x, incx, [beta,] y, incy)
        axpy.argtypes = [ctypes.c_int, scalar, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
        axpby.argtypes = [ctypes.c_int, scalar, ctypes.c_void_p, ctypes.c_int, scalar, ctypes.c_void_p,
                          ctypes.c_int]
        found[char] = axpy, axpby
    _blas = found
    return _blas


def _takes(param, *others) -> bool:
    return (param.size >= MIN_BLAS_SIZE and param.dtype.char in "fd" and param.size < 2 ** 31
            and all(x.dtype == param.dtype and x.flags.c_contiguous and x.shape == param.shape
                    for x in (param,) + others))


def _scaled_add(axpy, axpby, n, alpha, x, scale, y):
    """y = alpha * x + scale * y (``axpy`` where the scale is 1)."""
    if scale == 1.0:
        axpy(n, alpha, x, 1, y, 1)
    else:
        axpby(n, alpha, x, 1, scale, y, 1)


def _update(axpy, axpby, param, grad, buf, *, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """One parameter's update in one to four BLAS passes; ``buf`` is None without momentum."""
    n, p, g = param.size, param.ctypes.data, grad.ctypes.data
    sign = -1.0 if maximize else 1.0  # d_p = sign * grad + weight_decay * param
    if buf is None:  # param -= lr * d_p, the decay folded into param's scale
        _scaled_add(axpy, axpby, n, -lr * sign, g, 1.0 - lr * weight_decay, p)
        return
    b = buf.ctypes.data
    _scaled_add(axpy, axpby, n, (1.0 - dampening) * sign, g, momentum, b)  # buf = momentum*buf + (1-dampening)*d_p
    if weight_decay:
        axpy(n, (1.0 - dampening) * weight_decay, p, 1, b, 1)
    if nesterov:  # param -= lr * (d_p + momentum * buf)
        _scaled_add(axpy, axpby, n, -lr * sign, g, 1.0 - lr * weight_decay, p)
        axpy(n, -lr * momentum, b, 1, p, 1)
    else:  # param -= lr * buf
        axpy(n, -lr, b, 1, p, 1)


def fused_sgd(xp, params, grads, momentum_buffers, *, lr, momentum, dampening, weight_decay, nesterov,
              maximize):
    """``_fused_sgd_``'s CPU kernel: the numpy reference's update, in MKL's BLAS-1 for large parameters."""
    from ember_optim.sgd import FusedSGD
    options = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                   maximize=maximize)
    adapted = False
    for i, (param, grad) in enumerate(zip(params, grads)):
        buf = momentum_buffers[i] if momentum else None
        if (xp is not np or (momentum and buf is None) or not _takes(param, grad, *(() if buf is None else (buf,)))
                or not (_blas if _blas is not None else _functions())):
            cell = [buf]
            FusedSGD.forward(xp, [param], [grad], cell, **options)
            if momentum:
                momentum_buffers[i] = cell[0]
            continue
        if not adapted:  # let the thread policy re-read the load before the first threaded pass
            thread_policy.adapt()
            adapted = True
        _update(*_blas[param.dtype.char], param, grad, buf, **options)


def register(registry) -> None:
    """Register :func:`fused_sgd` for ``_fused_sgd_`` on the CPU where the ``mkl`` wheel is installed (by the
    primitive's name: ``ember_optim.sgd`` need not be imported for it)."""
    if gemm.library_path() is not None:
        registry.register_kernel("_fused_sgd_", "cpu", fused_sgd)
