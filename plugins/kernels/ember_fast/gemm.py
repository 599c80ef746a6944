"""MKL's GEMM for float32/float64 matrix products, called through ctypes from the ``mkl`` wheel.

Chosen over numpy's OpenBLAS and BLIS by measurement on the 2-core machines ember is budgeted on
(``bench/gemm_kernels.py``; numbers in bench/README.md): one MKL thread took 0.40-0.93x OpenBLAS's time
on the conv-shaped products of a LeNet step and 0.62x on 1024^2, about 1x on the MLP's; BLIS
(``blis`` wheel) took 1.1-1.8x OpenBLAS's on the same shapes.

:func:`matmul` is ``numpy.matmul`` for the products it takes (two-operand, float32/float64, non-empty,
2-D @ 2-D, N-d @ 2-D, and batches with broadcasting, these as one ``gemm_batch`` call); anything else goes to
numpy unchanged. The library
is loaded on the first product, not at ``import ember``.
"""

from __future__ import annotations

import ctypes
import os
import warnings

import numpy as np

from ember import thread_policy

from . import openmp

__all__ = ["matmul", "addmm", "available", "library_path"]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
SMALL_PRODUCT = 16 ** 3   # m * k * n below which numpy's call is cheaper than ctypes' (~3 us)
_lib = None               # the loaded libmkl_rt, or False when it cannot be loaded


def library_path() -> str | None:
    """Where the ``mkl`` wheel put ``libmkl_rt`` (its ``lib/`` data files: under the environment's prefix,
    the base interpreter's for a venv that sees system packages, or the user base), or None. A glob, not
    ``importlib.metadata``, whose file listing costs ~50 ms of ``import ember``."""
    import glob
    import site
    import sys
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix, site.getuserbase())):
        found = sorted(glob.glob(os.path.join(prefix, "lib", "libmkl_rt.so*")))
        if found:
            return os.path.realpath(found[-1])
    return None


def _load():
    global _lib
    path = library_path()
    try:
        if path is None:
            raise OSError("the mkl wheel is not installed (pip install 'ember[fast]')")
        lib = ctypes.CDLL(path)
        openmp.select_mkl_threading(lib)  # before MKL's first call: one OpenMP pool with the numba loops
    except OSError as exc:
        warnings.warn(f"ember_fast: cannot load MKL ({exc}); matrix products stay on numpy", RuntimeWarning,
                      stacklevel=3)
        _lib = False
        return _lib
    pointer, size, trans = ctypes.c_void_p, ctypes.c_int, ctypes.c_int
    for name, scalar in (("cblas_sgemm", ctypes.c_float), ("cblas_dgemm", ctypes.c_double)):
        fn = getattr(lib, name)
        fn.restype = None
        fn.argtypes = [ctypes.c_int, trans, trans, size, size, size, scalar, pointer, size, pointer, size,
                       scalar, pointer, size]
    for name in ("cblas_sgemm_batch", "cblas_dgemm_batch"):
        fn = getattr(lib, name)
        fn.restype = None
        fn.argtypes = [ctypes.c_int] + [pointer] * 5 + [pointer, pointer, pointer, pointer, pointer, pointer,
                                                       pointer, pointer, size, pointer]
    _lib = lib
    thread_policy.refresh()  # MKL's pool joins numpy's under set_num_threads and the adaptive policy
    return _lib


def available() -> bool:
    """Whether MKL loads here (loads it)."""
    return bool(_lib if _lib is not None else _load())


def _operand(x):
    """(transpose flag, leading dimension, array) describing the 2-D ``x`` to cblas without a copy when
    its rows or its columns are contiguous."""
    item = x.itemsize
    s0, s1 = x.strides
    if s1 == item and s0 >= max(1, x.shape[1]) * item and s0 % item == 0:
        return _NO_TRANS, s0 // item, x
    if s0 == item and s1 >= max(1, x.shape[0]) * item and s1 % item == 0:
        return _TRANS, s1 // item, x
    x = np.ascontiguousarray(x)
    return _NO_TRANS, max(1, x.shape[1]), x


def _gemm(a, b, out, beta=0.0):
    """out (C-contiguous, m x n) = a (m x k) @ b (k x n) + beta * out."""
    (m, k), n = a.shape, b.shape[1]
    ta, lda, a = _operand(a)
    tb, ldb, b = _operand(b)
    fn = _lib.cblas_sgemm if out.dtype == np.float32 else _lib.cblas_dgemm
    fn(_ROW_MAJOR, ta, tb, m, n, k, 1.0, a.ctypes.data, lda, b.ctypes.data, ldb, beta, out.ctypes.data, max(1, n))
    return out


def matmul(a, b, **kwargs):
    """``numpy.matmul(a, b)``, through MKL where it takes the product."""
    if a.__class__ is np.ndarray and b.__class__ is np.ndarray and a.ndim == 2 == b.ndim and not kwargs \
            and a.shape[0] * a.shape[1] * b.shape[1] < SMALL_PRODUCT:
        return np.matmul(a, b)  # a small matrix product (an MLP's at batch 4): numpy, before the checks below
    if (kwargs or not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray) or a.dtype != b.dtype
            or a.dtype.char not in "fd" or a.ndim < 2 or b.ndim < 2 or not a.size or not b.size
            or a.shape[-1] != b.shape[-2] or a.shape[-2] * a.shape[-1] * b.shape[-1] < SMALL_PRODUCT
            or (_lib is None and not _load()) or _lib is False):
        return np.matmul(a, b, **kwargs)
    thread_policy.adapt()
    if b.ndim == 2:
        if a.ndim == 2:
            return _gemm(a, b, np.empty((a.shape[0], b.shape[1]), a.dtype))
        if a.flags.c_contiguous:  # (..., m, k) @ (k, n) is one (rows, k) @ (k, n) product
            rows = a.reshape(-1, a.shape[-1])
            return _gemm(rows, b, np.empty((rows.shape[0], b.shape[1]), a.dtype)).reshape(
                a.shape[:-1] + (b.shape[1],))
    return _batched(a, b)


def _batch_pointers(x, batch):
    """The address of each matrix of ``x`` broadcast to the batch shape ``batch``, in C order, as uintp."""
    x = np.broadcast_to(x, batch + x.shape[-2:])
    offsets = np.zeros(batch, np.intp)
    for axis, (size, stride) in enumerate(zip(batch, x.strides[:-2])):
        if stride and size > 1:
            shape = [1] * len(batch)
            shape[axis] = size
            offsets = offsets + np.arange(0, size * stride, stride, dtype=np.intp).reshape(shape)
    return (offsets.reshape(-1) + x.ctypes.data).astype(np.uintp)


def _batched(a, b):
    """(..., m, k) @ (..., k, n) with broadcast batch dims as one ``cblas_?gemm_batch`` call: MKL runs the small
    products of a batch (attention's per-head scores and context) on all its threads at once, where numpy's
    matmul makes one single-threaded BLAS call per matrix. Matrices that are neither row- nor column-contiguous
    are copied first; each operand's batch layout may be anything (transposed heads, broadcast dims)."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    (m, k), n = a.shape[-2:], b.shape[-1]
    out = np.empty(batch + (m, n), a.dtype)
    count = out.size // max(1, m * n)
    if not out.size:
        return out
    a, (ta, lda) = _batch_operand(a)
    b, (tb, ldb) = _batch_operand(b)
    a_ptrs, b_ptrs = _batch_pointers(a, batch), _batch_pointers(b, batch)
    c_ptrs = (np.arange(count, dtype=np.intp) * (m * n * out.itemsize) + out.ctypes.data).astype(np.uintp)
    ints = lambda *values: (ctypes.c_int * len(values))(*values)  # noqa: E731
    scalar = ctypes.c_float if out.dtype == np.float32 else ctypes.c_double
    fn = _lib.cblas_sgemm_batch if out.dtype == np.float32 else _lib.cblas_dgemm_batch
    fn(_ROW_MAJOR, ints(ta), ints(tb), ints(m), ints(n), ints(k), (scalar * 1)(1.0), a_ptrs.ctypes.data, ints(lda),
       b_ptrs.ctypes.data, ints(ldb), (scalar * 1)(0.0), c_ptrs.ctypes.data, ints(max(1, n)), 1, ints(count))
    return out


def _batch_operand(x):
    """(x or a C-contiguous copy, (transpose flag, leading dimension)) so that every matrix of ``x`` is
    described to cblas by the same flag and leading dimension."""
    item = x.itemsize
    s0, s1 = x.strides[-2:]
    rows, cols = x.shape[-2:]
    if s1 == item and s0 >= max(1, cols) * item and s0 % item == 0:
        return x, (_NO_TRANS, s0 // item)
    if s0 == item and s1 >= max(1, rows) * item and s1 % item == 0:
        return x, (_TRANS, s1 // item)
    x = np.ascontiguousarray(x)
    return x, (_NO_TRANS, max(1, cols))


def addmm(bias, a, b):
    """``a @ b + bias`` (``torch.addmm``'s order: bias broadcast over the rows) for the linear layer: where
    MKL takes the 2-D product, the output starts as the broadcast bias and the GEMM adds into it (beta=1), so
    the bias costs no separate pass over the output (PyTorch's addmm does the same); else matmul, then +=."""
    if (type(a) is np.ndarray and type(b) is np.ndarray and type(bias) is np.ndarray and a.ndim == 2
            and b.ndim == 2 and a.dtype == b.dtype == bias.dtype and a.dtype.char in "fd" and a.size and b.size
            and a.shape[1] == b.shape[0] and bias.shape in ((b.shape[1],), (1, b.shape[1]))
            and a.shape[0] * a.shape[1] * b.shape[1] >= SMALL_PRODUCT and (_lib is not None or _load()) and _lib):
        thread_policy.adapt()
        out = np.empty((a.shape[0], b.shape[1]), a.dtype)
        np.copyto(out, bias.reshape(-1))
        return _gemm(a, b, out, beta=1.0)
    out = matmul(a, b)
    if out.dtype != a.dtype:
        out = out.astype(a.dtype)
    out += bias
    return out
