"""ember_fast's transformer-block kernels (tanh-GELU, layer_norm, long-row softmax, their backwards, and the
batched MKL product) against the numpy reference they replace, against PyTorch end to end, and their
registration. Sizes above ember_fast.parallel.GRAIN run the threaded loops; small ones the one-thread path."""

import importlib.util

import numpy as np
import pytest

import ember
from ember_fast import gemm
from ember_fast.block import block_primitives
from ember_ops.activation import Gelu, GeluBackward, Softmax, SoftmaxBackwardData
from ember_ops.normalization import LayerNorm, LayerNormBackward

HAS_NUMBA = importlib.util.find_spec("numba") is not None
LOADED = any(info.name == "fast" and info.status == "loaded" for info in ember.plugins.report())
needs_numba = pytest.mark.skipif(not HAS_NUMBA, reason="numba (ember[fast]) is not installed")
needs_mkl = pytest.mark.skipif(gemm.library_path() is None, reason="the mkl wheel (ember[fast]) is not installed")
BIG, SMALL = (40, 1100), (3, 7)  # 44,000 elements: above the threading grain; 21: below it


def _random(shape, dtype=np.float32, scale=3.0, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def _gelu_kernels():
    from ember_fast.gelu import gelu_backward_kernel, gelu_kernel
    return gelu_kernel(Gelu.forward), gelu_backward_kernel(GeluBackward.forward)


@needs_numba
@pytest.mark.parametrize("shape", [BIG, SMALL, (2, 3, 4000)])
def test_gelu_tanh_kernels_agree_with_the_numpy_reference(shape):
    forward, backward = _gelu_kernels()
    x, g = _random(shape), _random(shape, seed=1)
    # float32's reference cancels in 1 + tanh for negative inputs; the float64 reference does not
    want = Gelu.forward(np, x.astype(np.float64), "tanh")
    want_grad = GeluBackward.forward(np, g.astype(np.float64), x.astype(np.float64), "tanh")
    np.testing.assert_allclose(forward(np, x, "tanh"), want, rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(backward(np, g, x, "tanh"), want_grad, rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(backward(np, g, x, "tanh"), GeluBackward.forward(np, g, x, "tanh"), rtol=1e-5,
                               atol=1e-5 * np.abs(want_grad).max())


@needs_numba
def test_gelu_tanh_kernel_keeps_the_reference_on_extreme_inputs():
    forward, backward = _gelu_kernels()
    x = np.tile(np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e20, -1e20, 50.0, -50.0, 1e-40], np.float32), 5000)
    with np.errstate(all="ignore"):
        want, want_grad = Gelu.forward(np, x, "tanh"), GeluBackward.forward(np, np.ones_like(x), x, "tanh")
    np.testing.assert_array_equal(forward(np, x, "tanh"), want)
    got_grad = backward(np, np.ones_like(x), x, "tanh")
    np.testing.assert_array_equal(np.isnan(got_grad), np.isnan(want_grad))
    np.testing.assert_allclose(got_grad[~np.isnan(want_grad)], want_grad[~np.isnan(want_grad)], rtol=1e-6)


@needs_numba
@pytest.mark.parametrize("case", ["erf form", "float64", "non-contiguous", "empty"])
def test_gelu_kernels_leave_what_they_do_not_take_to_numpy(case):
    forward, backward = _gelu_kernels()
    x, approximate = {"erf form": (_random(BIG), "none"), "float64": (_random(BIG, np.float64), "tanh"),
                      "non-contiguous": (_random((1100, 40)).T, "tanh"),
                      "empty": (np.zeros((0, 3), np.float32), "tanh")}[case]
    g = np.ones_like(x)
    np.testing.assert_array_equal(forward(np, x, approximate), Gelu.forward(np, x, approximate))
    np.testing.assert_array_equal(backward(np, g, x, approximate), GeluBackward.forward(np, g, x, approximate))


def _layer_norm_kernels():
    from ember_fast.layer_norm import layer_norm_backward_kernel, layer_norm_kernel
    return layer_norm_kernel(LayerNorm.forward), layer_norm_backward_kernel(LayerNormBackward.forward)


@needs_numba
@pytest.mark.parametrize("affine", ["weight and bias", "weight", "bias", "none"])
@pytest.mark.parametrize("shape, n", [((8, 128, 64), 1), ((3, 5), 1), ((4, 30, 40), 2)])
def test_layer_norm_kernels_agree_with_the_numpy_reference(affine, shape, n):
    forward, backward = _layer_norm_kernels()
    x, g = _random(shape) + 1, _random(shape, seed=1)
    normalized = shape[len(shape) - n:]
    weight = _random(normalized, seed=2) if "weight" in affine else None
    bias = _random(normalized, seed=3) if "bias" in affine else None
    np.testing.assert_allclose(forward(np, x, weight, bias, n, 1e-5), LayerNorm.forward(np, x, weight, bias, n, 1e-5),
                               rtol=1e-5, atol=1e-5)
    for need in [(True, True, True), (True, False, False), (False, True, True)]:
        got = backward(np, g, x, weight, n, 1e-5, need)
        want = LayerNormBackward.forward(np, g, x, weight, n, 1e-5, need)
        for name, a, b in zip(("input", "weight", "bias"), got, want):
            assert (a is None) == (b is None), name
            if b is not None:
                assert a.shape == b.shape and a.dtype == b.dtype, name
                np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max(), err_msg=name)


@needs_numba
@pytest.mark.parametrize("case", ["float64", "non-contiguous input", "non-contiguous weight"])
def test_layer_norm_kernels_leave_what_they_do_not_take_to_numpy(case):
    forward, backward = _layer_norm_kernels()
    x, weight = {"float64": (_random((6, 8), np.float64), _random(8, np.float64)),
                 "non-contiguous input": (_random((8, 6)).T, _random(8)),
                 "non-contiguous weight": (_random((6, 8)), _random(16)[::2])}[case]
    np.testing.assert_array_equal(forward(np, x, weight, None, 1, 1e-5), LayerNorm.forward(np, x, weight, None, 1, 1e-5))
    got = backward(np, np.ones_like(x), x, weight, 1, 1e-5, (True, True, True))
    want = LayerNormBackward.forward(np, np.ones_like(x), x, weight, 1, 1e-5, (True, True, True))
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def _softmax_kernels():
    from ember_fast.softmax import softmax_backward_kernel, softmax_kernel
    return softmax_kernel(Softmax.forward), softmax_backward_kernel(SoftmaxBackwardData.forward)


@needs_numba
@pytest.mark.parametrize("shape", [(8, 4, 16, 128), (3, 33), (2, 1000)])
def test_long_row_softmax_kernels_agree_with_the_numpy_reference(shape):
    forward, backward = _softmax_kernels()
    x, g = _random(shape), _random(shape, seed=1)
    out = Softmax.forward(np, x, len(shape) - 1)
    np.testing.assert_allclose(forward(np, x, -1), out, rtol=2e-6, atol=1e-7)
    for dtype in (np.float32, np.float64):
        got = backward(np, g.astype(dtype), out.astype(dtype), -1)
        want = SoftmaxBackwardData.forward(np, g.astype(dtype), out.astype(dtype), -1)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@needs_numba
def test_long_row_softmax_kernel_keeps_numpys_results_for_infinities_and_nan():
    forward, _ = _softmax_kernels()
    x = _random((5, 40))
    x[0, 3] = -np.inf        # below a finite maximum: exactly 0
    x[1] = -np.inf           # a row of -inf: NaN, as numpy
    x[2, 7] = np.nan
    x[3, 1] = np.inf
    x[4, :20] = -200.0       # exp underflows to 0
    with np.errstate(all="ignore"):
        want = Softmax.forward(np, x, 1)
        got = forward(np, x, 1)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(want)], want[~np.isnan(want)], rtol=2e-6, atol=0)
    assert got[0, 3] == 0.0 and (got[4, :20] == 0.0).all()


@needs_numba
@pytest.mark.parametrize("case", ["other dim", "non-contiguous", "float64"])
def test_softmax_kernels_leave_what_they_do_not_take_to_numpy(case):
    forward, backward = _softmax_kernels()
    x, dim = {"other dim": (_random((64, 6)), 0), "non-contiguous": (_random((64, 50)).T, 1),
              "float64": (_random((6, 64), np.float64), 1)}[case]
    out = Softmax.forward(np, x, dim)
    np.testing.assert_array_equal(forward(np, x, dim), out)
    if case != "float64":
        np.testing.assert_array_equal(backward(np, np.ones_like(out), out, dim),
                                      SoftmaxBackwardData.forward(np, np.ones_like(out), out, dim))


@needs_mkl
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ["heads", "heads @ transposed", "transposed @ heads", "broadcast batch",
                                  "column-major matrices", "strided matrices", "batch @ matrix, non-contiguous",
                                  "empty batch"])
def test_batched_mkl_matmul_agrees_with_numpy(case, dtype):
    rng = np.random.default_rng(0)

    def heads(rows, cols):  # (batch, heads, rows, cols) read out of a (batch, rows, heads, cols) array
        return rng.standard_normal((2, rows, 3, cols)).astype(dtype).transpose(0, 2, 1, 3)

    a, b = {
        "heads": lambda: (heads(20, 16), heads(16, 24)),
        "heads @ transposed": lambda: (heads(20, 16), heads(24, 16).swapaxes(-1, -2)),
        "transposed @ heads": lambda: (heads(16, 20).swapaxes(-1, -2), heads(16, 24)),
        "broadcast batch": lambda: (heads(20, 16)[:1], heads(16, 24)),
        "column-major matrices": lambda: (np.asfortranarray(rng.standard_normal((20, 16, 4)).astype(dtype)).T,
                                          rng.standard_normal((4, 20, 24)).astype(dtype)),
        "strided matrices": lambda: (rng.standard_normal((3, 40, 32)).astype(dtype)[:, ::2, ::2],
                                     rng.standard_normal((3, 16, 24)).astype(dtype)),
        "batch @ matrix, non-contiguous": lambda: (heads(20, 16), rng.standard_normal((16, 24)).astype(dtype)),
        "empty batch": lambda: (np.zeros((0, 20, 16), dtype), np.zeros((0, 16, 24), dtype)),
    }[case]()
    got, want = gemm.matmul(a, b), np.matmul(a, b)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-4)


def test_the_plugin_registers_the_block_kernels_where_numba_is():
    prims = block_primitives()
    assert {p.__name__ for p in prims} == {"Gelu", "GeluBackward", "SoftmaxBackwardData", "LayerNorm",
                                           "LayerNormBackward"}
    for prim in prims:
        assert ("cpu" in prim.kernels) == (LOADED and HAS_NUMBA), prim.__name__


def test_a_transformer_block_matches_pytorch(torch):
    """Causal attention, pre-LN and a tanh-GELU MLP at sizes that take the threaded kernels, forward and
    gradients."""
    rng = np.random.default_rng(5)
    arrays = {"x": rng.standard_normal((2, 64, 48)), "wq": rng.standard_normal((48, 48)) * 0.2,
              "w1": rng.standard_normal((48, 384)) * 0.2, "ln_w": 1 + rng.standard_normal(48) * 0.1,
              "ln_b": rng.standard_normal(48) * 0.1}
    arrays = {k: v.astype(np.float32) for k, v in arrays.items()}

    def run(lib, F):
        t = {k: lib.tensor(v, requires_grad=True) for k, v in arrays.items()}
        h = F.layer_norm(t["x"], (48,), t["ln_w"], t["ln_b"])
        q = (h @ t["wq"]).reshape(2, 64, 4, 12).transpose(1, 2)
        causal = lib.tensor(np.triu(np.ones((64, 64), bool), 1))  # -inf above the diagonal, as a GPT masks
        attn = F.softmax((q @ q.transpose(-2, -1) * 0.3).masked_fill(causal, float("-inf")), dim=-1) @ q
        y = t["x"] + attn.transpose(1, 2).reshape(2, 64, 48)
        out = F.gelu(F.layer_norm(y, (48,), t["ln_w"], t["ln_b"]) @ t["w1"], approximate="tanh")
        loss = (out * out).mean()
        loss.backward()
        return loss.item(), {k: v.grad.numpy() for k, v in t.items()}

    loss, grads = run(ember, ember.nn.functional)
    want_loss, want_grads = run(torch, torch.nn.functional)
    assert loss == pytest.approx(want_loss, rel=1e-5)
    for name, want in want_grads.items():
        np.testing.assert_allclose(grads[name], want, rtol=1e-3, atol=1e-4 * np.abs(want).max(), err_msg=name)
