"""ember_fast's compiled loops for the CNN's memory-bound steps (2-D tiled max pooling and its gradient, the
fold of a conv's input gradient), each against the numpy reference it replaces, bit for bit; and max
pooling end to end against torch with the kernels active."""

import importlib.util

import numpy as np
import pytest

import ember
from ember_ops.conv import ConvColumns, ConvColumnsFold
from ember_ops.pooling import MaxPoolTiled, TileScatter

pytestmark = pytest.mark.skipif(importlib.util.find_spec("numba") is None,
                                reason="numba (ember[fast]) is not installed")


def _pool_kernels():
    from ember_fast.pooling import max_pool2d_tiled_kernel, tile_scatter_kernel
    return max_pool2d_tiled_kernel(MaxPoolTiled.forward), tile_scatter_kernel(TileScatter.forward)


def _pool_input(case, dtype):
    rng = np.random.default_rng(0)
    if case == "ties":  # small integers: many windows hold their maximum twice; the first offset wins
        return rng.integers(-2, 2, (2, 3, 8, 8)).astype(dtype), (2, 2)
    x = rng.standard_normal({"2x2": (4, 3, 8, 10), "3x3 cropped": (2, 2, 10, 11), "2x3": (1, 2, 7, 9),
                             "nan and -inf": (2, 2, 6, 6), "non-contiguous": (3, 8, 6, 4)}[case]).astype(dtype)
    if case == "nan and -inf":
        x[0, 0, :2, :2] = [[np.nan, 1.0], [np.nan, 5.0]]   # two NaNs: the last one's offset, as PyTorch's scan
        x[0, 1, :2, :2] = -np.inf                           # a window of -inf: offset 0
        x[1, 1, 2, 3] = np.nan
    if case == "non-contiguous":
        x = x.transpose(0, 3, 1, 2)
    kernel = {"3x3 cropped": (3, 3), "2x3": (2, 3)}.get(case, (2, 2))
    return x, kernel


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ["2x2", "3x3 cropped", "2x3", "ties", "nan and -inf", "non-contiguous"])
def test_compiled_max_pool_and_its_gradient_match_the_numpy_path(case, dtype):
    forward, scatter = _pool_kernels()
    x, kernel = _pool_input(case, dtype)
    best, which = forward(np, x, kernel)
    want_best, want_which = MaxPoolTiled.forward(np, x, kernel)
    assert best.dtype == want_best.dtype and which.dtype == want_which.dtype == np.uint8
    np.testing.assert_array_equal(best, want_best)
    np.testing.assert_array_equal(which, want_which)
    g = np.random.default_rng(1).standard_normal(best.shape).astype(dtype)
    got, want = scatter(np, g, which, x.shape[2:], kernel), TileScatter.forward(np, g, want_which, x.shape[2:], kernel)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_compiled_max_pool_leaves_other_ranks_and_dtypes_to_the_numpy_path():
    forward, scatter = _pool_kernels()
    x1 = np.random.default_rng(2).standard_normal((2, 3, 8)).astype(np.float32)
    for got, want in zip(forward(np, x1, (2,)), MaxPoolTiled.forward(np, x1, (2,))):
        np.testing.assert_array_equal(got, want)
    x16 = np.random.default_rng(3).standard_normal((1, 2, 4, 4)).astype(np.float16)
    best, which = forward(np, x16, (2, 2))
    assert best.dtype == np.float16
    np.testing.assert_array_equal(scatter(np, best, which, (4, 4), (2, 2)),
                                  TileScatter.forward(np, best, which, (4, 4), (2, 2)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geometry", [
    dict(size=(14, 14), kernel=(3, 3), stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1)),
    dict(size=(9, 7), kernel=(3, 2), stride=(2, 3), padding=((1, 2), (2, 1)), dilation=(1, 2)),
    dict(size=(5, 5), kernel=(5, 5), stride=(1, 1), padding=((2, 2), (2, 2)), dilation=(1, 1)),
    dict(size=(6, 6), kernel=(2, 2), stride=(2, 2), padding=((0, 1), (1, 0)), dilation=(2, 2)),
], ids=["3x3 same", "strided dilated uneven padding", "kernel as large as the input", "dilated stride 2"])
def test_compiled_conv_fold_matches_the_numpy_path(geometry, dtype):
    from ember_fast.conv_columns import conv_columns_fold_kernel
    fold = conv_columns_fold_kernel(ConvColumnsFold.forward)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 2) + geometry["size"]).astype(dtype)
    spec = dict(stride=geometry["stride"], padding=geometry["padding"], dilation=geometry["dilation"])
    cols = rng.standard_normal(ConvColumns.forward(np, x, geometry["kernel"], **spec).shape).astype(dtype)
    got, want = fold(np, cols, geometry["size"], **spec), ConvColumnsFold.forward(np, cols, geometry["size"], **spec)
    assert got.shape == want.shape and got.dtype == want.dtype and got.flags.c_contiguous
    np.testing.assert_array_equal(got, want)  # the same terms added in the same order


def test_max_pool_and_conv_train_like_torch_with_the_kernels_active(torch):
    """conv2d -> relu -> max_pool2d(2) and their gradients through ember (kernels registered when the
    plugin is loaded) against torch."""
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((4, 3, 12, 12)).astype(np.float32), rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    outs = []
    for lib in (ember, torch):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.max_pool2d(lib.nn.functional.conv2d(xt, wt, padding=1).relu(), 2)
        (y * y).sum().backward()
        outs.append([t.detach().numpy() for t in (y, xt.grad, wt.grad)])
    for got, want in zip(*outs):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_the_plugin_registers_the_cnn_kernels_when_it_is_loaded():
    from ember_fast import cnn
    loaded = any(info.name == "fast" and info.status == "loaded" for info in ember.plugins.report())
    found = cnn.primitives()
    assert {prim.__name__ for prim, _ in found} == {name for _, name in cnn.PRIMITIVES}
    for prim, _ in found:
        assert ("cpu" in prim.kernels) == loaded, prim.__name__


def test_the_loops_split_over_two_threads_give_the_same_results():
    """Inputs over the OpenMP grain size run on the policy's threads (two here): still bit for bit."""
    from ember_fast.conv_columns import conv_columns_fold_kernel
    forward, scatter = _pool_kernels()
    fold = conv_columns_fold_kernel(ConvColumnsFold.forward)
    rng = np.random.default_rng(6)
    before = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        x = rng.standard_normal((16, 16, 28, 28)).astype(np.float32)  # 200K elements
        best, which = forward(np, x, (2, 2))
        want_best, want_which = MaxPoolTiled.forward(np, x, (2, 2))
        np.testing.assert_array_equal(best, want_best)
        np.testing.assert_array_equal(which, want_which)
        g = rng.standard_normal(best.shape).astype(np.float32)
        np.testing.assert_array_equal(scatter(np, g, which, (28, 28), (2, 2)),
                                      TileScatter.forward(np, g, which, (28, 28), (2, 2)))
        spec = dict(stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1))
        cols = rng.standard_normal((16, 3, 3, 16, 14, 14)).astype(np.float32)
        np.testing.assert_array_equal(fold(np, cols, (14, 14), **spec), ConvColumnsFold.forward(np, cols, (14, 14), **spec))
    finally:
        ember.set_num_threads(before)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_loops_run_on_the_thread_policys_count(threads):
    """Each loop runs on the policy's threads from the grain size and on one below it (their thread count was
    once computed and dropped, so they ran on whatever count the last loop of another kernel had set)."""
    import numba

    from ember_fast import openmp
    from ember_fast.conv_columns import conv_columns_fold_kernel
    forward, scatter = _pool_kernels()
    fold = conv_columns_fold_kernel(ConvColumnsFold.forward)
    spec = dict(stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1))
    rng = np.random.default_rng(7)
    before = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        for planes, expected in ((16, threads), (1, 1)):  # 200K elements, then 784: under the grain
            x = rng.standard_normal((planes, 16, 28, 28) if planes > 1 else (1, 1, 28, 28)).astype(np.float32)
            assert (x.size >= openmp.GRAIN) == (planes > 1)
            numba.set_num_threads(3 - expected)  # the other count, as another kernel may have left it
            best, which = forward(np, x, (2, 2))
            assert numba.get_num_threads() == expected
            numba.set_num_threads(3 - expected)
            scatter(np, np.ones_like(best), which, (28, 28), (2, 2))
            assert numba.get_num_threads() == (threads if x.size >= openmp.GRAIN else 1)
            cols = rng.standard_normal((planes, 3, 3, 16, 14, 14)).astype(np.float32)
            numba.set_num_threads(3 - expected)
            fold(np, cols, (14, 14), **spec)
            assert numba.get_num_threads() == (threads if cols.size >= openmp.GRAIN else 1)
    finally:
        ember.set_num_threads(before)
