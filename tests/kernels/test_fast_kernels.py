"""ember_fast, the optional kernel plugin: each kernel against the numpy reference it replaces, and the
plugin's registration (present only with its dependencies, absent when disabled). The conformance suite
(tests/ops, tests/optimizers) covers the same kernels end to end whenever ember[fast] is installed."""

import os
import subprocess
import sys

import numpy as np
import pytest

import ember
import ember_fast
from ember_fast import gemm
from ember_optim.adam import FusedAdam

LOADED = any(info.name == "fast" and info.status == "loaded" for info in ember.plugins.report())
needs_mkl = pytest.mark.skipif(gemm.library_path() is None, reason="the mkl wheel (ember[fast]) is not installed")
needs_numba = pytest.mark.skipif(not __import__("importlib.util").util.find_spec("numba"),
                                 reason="numba (ember[fast]) is not installed")
needs_plugin = pytest.mark.skipif(not LOADED, reason="the fast plugin is disabled here (EMBER_DISABLE_PLUGINS)")


def _random(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


@needs_mkl
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ["2-D", "a transposed", "b transposed", "row slice", "N-d @ 2-D", "batch",
                                  "broadcast batch", "non-contiguous", "small"])
def test_mkl_matmul_agrees_with_numpy(case, dtype):
    rng = np.random.default_rng(0)
    make = {
        "2-D": lambda: (_random(rng, (40, 50), dtype), _random(rng, (50, 30), dtype)),
        "a transposed": lambda: (_random(rng, (50, 40), dtype).T, _random(rng, (50, 30), dtype)),
        "b transposed": lambda: (_random(rng, (40, 50), dtype), _random(rng, (30, 50), dtype).T),
        "row slice": lambda: (_random(rng, (40, 80), dtype)[:, 10:60], _random(rng, (50, 30), dtype)),
        "N-d @ 2-D": lambda: (_random(rng, (2, 3, 40, 50), dtype), _random(rng, (50, 30), dtype)),
        "batch": lambda: (_random(rng, (3, 40, 50), dtype), _random(rng, (3, 50, 30), dtype)),
        "broadcast batch": lambda: (_random(rng, (1, 40, 50), dtype), _random(rng, (3, 50, 30), dtype)),
        "non-contiguous": lambda: (_random(rng, (40, 100), dtype)[:, ::2], _random(rng, (50, 30), dtype)),
        "small": lambda: (_random(rng, (2, 3), dtype), _random(rng, (3, 4), dtype)),
    }[case]
    a, b = make()
    got, want = gemm.matmul(a, b), np.matmul(a, b)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-4)


@needs_mkl
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ["2-D", "weight transposed view", "bias row (1, n)", "non-contiguous input",
                                  "small", "1-D input", "int"])
def test_mkl_addmm_is_the_product_plus_the_bias(case, dtype):
    """Linear's bias folded into MKL's GEMM (beta=1) where it takes the product; matmul + bias elsewhere."""
    rng = np.random.default_rng(0)
    x, weight, bias = _random(rng, (40, 50), dtype), _random(rng, (30, 50), dtype), _random(rng, 30, dtype)
    if case == "bias row (1, n)":
        bias = bias.reshape(1, -1)
    elif case == "non-contiguous input":
        x = _random(rng, (40, 100), dtype)[:, ::2]
    elif case == "small":
        x, weight, bias = x[:2, :3], weight[:4, :3], bias[:4]
    elif case == "1-D input":
        x = x[0]
    elif case == "int":
        x, weight, bias = (np.arange(a.size).reshape(a.shape) % 7 for a in (x, weight, bias))
    got, want = gemm.addmm(bias, x, weight.T), x @ weight.T + bias
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-4)


@needs_plugin
@needs_mkl
def test_linear_with_bias_runs_mkls_addmm(monkeypatch):
    from ember_fast.namespace import fast_numpy
    calls = []
    real = gemm.addmm
    monkeypatch.setattr(fast_numpy, "addmm", lambda *a: calls.append(1) or real(*a))
    x, layer = ember.randn(64, 100), ember.nn.Linear(100, 50)
    got = layer(x).detach().numpy()
    want = x.numpy() @ layer.weight.detach().numpy().T + layer.bias.detach().numpy()
    assert calls and np.allclose(got, want, rtol=1e-5, atol=1e-5)


@needs_mkl
def test_mkl_matmul_leaves_other_dtypes_and_empty_operands_to_numpy():
    a, b = np.arange(12).reshape(3, 4), np.arange(8).reshape(4, 2)
    np.testing.assert_array_equal(gemm.matmul(a, b), a @ b)
    assert gemm.matmul(np.zeros((0, 4), np.float32), np.zeros((4, 2), np.float32)).shape == (0, 2)


@needs_mkl
@needs_plugin
def test_conv_through_the_kernel_matches_the_numpy_path():
    """conv2d through ember (the MKL kernel, active here) and the reference forward called on numpy."""
    from ember_ops.conv import Convolution
    rng = np.random.default_rng(1)
    x, w = _random(rng, (4, 3, 12, 12), np.float32), _random(rng, (8, 3, 5, 5), np.float32)
    assert "cpu" in Convolution.kernels
    got = ember.nn.functional.conv2d(ember.tensor(x), ember.tensor(w), padding=2).numpy()
    want = Convolution.forward(np, x, w, stride=(1, 1), padding=((2, 2), (2, 2)), dilation=(1, 1), groups=1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


def _adam_operands(rng, dtype, amsgrad, contiguous=True):
    shapes = [(30, 20), (20,), (5, 3, 2)]
    params = [_random(rng, s, dtype) for s in shapes]
    if not contiguous:
        params[0] = np.asfortranarray(params[0])
    grads = [_random(rng, s, dtype) for s in shapes]
    avgs = [np.abs(_random(rng, s, dtype)) * 0.1 for s in shapes]
    sqs = [np.abs(_random(rng, s, dtype)) * 0.01 for s in shapes]
    maxes = [sq * 1.5 for sq in sqs] if amsgrad else [None] * len(shapes)
    return params, grads, avgs, sqs, maxes, [3.0] * len(shapes)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [dict(weight_decay=0.0, amsgrad=False, decoupled=False),
                                     dict(weight_decay=0.1, amsgrad=False, decoupled=False),
                                     dict(weight_decay=0.1, amsgrad=True, decoupled=True),
                                     dict(weight_decay=0.0, amsgrad=True, decoupled=False)])
@pytest.mark.parametrize("contiguous", [True, False])
def test_fused_adam_kernel_agrees_with_the_numpy_reference(dtype, options, contiguous):
    from ember_fast.adam import fused_adam
    hyper = dict(lr=1e-2, beta1=0.9, beta2=0.99, eps=1e-8, **options)
    got = _adam_operands(np.random.default_rng(2), dtype, options["amsgrad"], contiguous)
    want = _adam_operands(np.random.default_rng(2), dtype, options["amsgrad"], contiguous)
    fused_adam(np, *got, **hyper)
    FusedAdam.forward(np, *want, **hyper)
    tolerance = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    for got_arrays, want_arrays in zip(got[:5], want[:5]):
        for g, w in zip(got_arrays, want_arrays):
            if w is not None:
                np.testing.assert_allclose(g, w, **tolerance)


def test_the_plugin_registers_a_kernel_for_each_primitive_it_finds():
    for prim in ember_fast.registered_primitives():
        if not LOADED:
            assert "cpu" not in prim.kernels, prim.__name__
            continue
        wanted = (gemm.library_path() is not None if prim.__name__ not in ("FusedAdam", "Softmax", "LogSoftmax")
                  else __import__("importlib.util").util.find_spec("numba") is not None)
        assert ("cpu" in prim.kernels) == wanted, prim.__name__


def test_each_kernel_is_registered_under_its_primitives_name():
    from ember_fast import cnn
    tables = ember_fast.GEMM_PRIMITIVES + (ember_fast.FUSED_ADAM,) + ember_fast.SOFTMAX_PRIMITIVES
    tables += tuple((module, cls, cnn.NAMES[cls]) for module, cls in cnn.PRIMITIVES)
    for module, cls, name in tables:
        assert getattr(__import__("importlib").import_module(module), cls).name == name, (module, cls)


def test_the_kernels_bind_when_their_modules_are_first_used_not_at_import():
    code = ("import sys, ember; print(any(m in sys.modules for m in ('ember_ops.linalg', 'ember_ops.conv'))); "
            "from ember_ops.linalg import Matmul; ember.ones(2, 2) @ ember.ones(2, 2); print(sorted(Matmul.kernels))")
    env = {k: v for k, v in os.environ.items() if k != "EMBER_LAZY_PLUGINS"}
    subprocess.run([sys.executable, "-c", "import ember"], env=env, check=True)  # the manifests are written
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "['cpu']" if LOADED and gemm.library_path() is not None else "[]"]


def test_disabling_the_plugin_leaves_the_numpy_path():
    code = ("import ember; from ember_ops.linalg import Matmul; from ember_optim.adam import FusedAdam; "
            "print(sorted(Matmul.kernels), sorted(FusedAdam.kernels))")
    env = dict(os.environ, EMBER_DISABLE_PLUGINS="fast")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "[]"]


@needs_numba
@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ["logits", "3-D", "long rows", "other dim", "with -inf", "non-contiguous"])
def test_short_row_softmax_kernels_agree_with_the_numpy_reference(name, dtype, case):
    from ember_ops import activation
    from ember_fast.softmax import log_softmax_kernel, softmax_kernel
    reference = getattr(activation, name).forward
    kernel = (softmax_kernel if name == "Softmax" else log_softmax_kernel)(reference)
    rng = np.random.default_rng(3)
    x, dim = {"logits": (_random(rng, (64, 10), dtype), -1), "3-D": (_random(rng, (2, 5, 7), dtype), 2),
              "long rows": (_random(rng, (4, 100), dtype), -1), "other dim": (_random(rng, (6, 10), dtype), 0),
              "with -inf": (np.array([[-np.inf, 0.0, 1.0], [-np.inf] * 3], dtype), -1),
              "non-contiguous": (_random(rng, (10, 6), dtype).T, -1)}[case]
    with np.errstate(invalid="ignore"):
        want = reference(np, x, dim)
        got = kernel(np, x, dim)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=2e-6 if dtype == np.float32 else 1e-13, atol=1e-7)
