"""Batched small matmuls run with one BLAS thread (no thread wake-ups per tiny product); others keep theirs."""

import numpy as np
import pytest

threadpoolctl = pytest.importorskip("threadpoolctl", reason="the BLAS thread limit is set through threadpoolctl")

import ember  # noqa: E402,F401  (loads the plugins first)
from ember_ops import blas_threads  # noqa: E402


def _blas_threads():
    """Threads of numpy's BLAS (other libraries, e.g. SciPy's own OpenBLAS, do not run numpy's matmul)."""
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info()
            if lib["user_api"] == "blas" and "numpy" in lib["filepath"]]


def test_a_batch_of_small_products_runs_on_one_blas_thread():
    before = _blas_threads()
    if not before:
        pytest.skip("numpy's BLAS library is not identifiable by its path in this installation")
    with blas_threads.for_batched_product(np, np.zeros((12, 256, 32)), np.zeros((12, 32, 256))):
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


def test_single_and_large_products_keep_every_thread():
    before = _blas_threads()
    with blas_threads.for_batched_product(np, np.zeros((300, 400)), np.zeros((400, 500))):
        assert _blas_threads() == before
    with blas_threads.for_batched_product(np, np.zeros((2, 1024, 1024)), np.zeros((2, 1024, 1024))):
        assert _blas_threads() == before
