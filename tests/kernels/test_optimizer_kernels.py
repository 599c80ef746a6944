"""ember_fast's optimizer kernels against the numpy references they replace, on the edge cases the
generic parity suite (tests/optimizers, tiny parameters) does not reach."""

import numpy as np
import pytest

from ember_optim.adam import FusedAdam

needs_numba = pytest.mark.skipif(not __import__("importlib.util").util.find_spec("numba"),
                                 reason="numba (ember[fast]) is not installed")

ADAM = dict(lr=1e-2, beta1=0.9, beta2=0.99, weight_decay=0.0, decoupled=False)


def _adam_state(values, dtype, amsgrad):
    param = np.asarray(values, dtype)
    state = [np.full_like(param, 0.5), np.zeros_like(param), np.zeros_like(param)]  # grad, exp_avg, exp_avg_sq
    return [param], [state[0]], [state[1]], [state[2]], [np.zeros_like(param) if amsgrad else None], [1.0]


@needs_numba
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_kernel_divides_by_zero_as_numpy_does(amsgrad):
    """eps=0 with a zero gradient: 0/0 gives NaN, as in the reference, instead of ZeroDivisionError (the
    loops use numpy's error model, which is also what lets them vectorise)."""
    from ember_fast.adam import fused_adam
    got, want = _adam_state([1.0, 2.0], np.float32, amsgrad), _adam_state([1.0, 2.0], np.float32, amsgrad)
    for operands in (got, want):
        operands[1][0][0] = 0.0  # the first element's gradient is zero
    fused_adam(np, *got, eps=0.0, amsgrad=amsgrad, **ADAM)
    with np.errstate(invalid="ignore", divide="ignore"):
        FusedAdam.forward(np, *want, eps=0.0, amsgrad=amsgrad, **ADAM)
    assert np.isnan(want[0][0][0])
    np.testing.assert_array_equal(got[0][0], want[0][0])


@needs_numba
def test_adam_kernel_amsgrad_keeps_a_nan_maximum_as_numpy_does():
    from ember_fast.adam import fused_adam
    got, want = _adam_state([1.0, 2.0, 3.0], np.float64, True), _adam_state([1.0, 2.0, 3.0], np.float64, True)
    for operands in (got, want):
        operands[4][0][1] = np.nan  # a NaN already in max_exp_avg_sq
    fused_adam(np, *got, eps=1e-8, amsgrad=True, **ADAM)
    FusedAdam.forward(np, *want, eps=1e-8, amsgrad=True, **ADAM)
    np.testing.assert_array_equal(got[4][0], want[4][0])
    np.testing.assert_array_equal(got[0][0], want[0][0])


needs_mkl = pytest.mark.skipif(__import__("ember_fast.gemm").gemm.library_path() is None,
                               reason="the mkl wheel (ember[fast]) is not installed")
SGD_OPTIONS = [dict(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False),
               dict(momentum=0.0, dampening=0.0, weight_decay=0.01, nesterov=False, maximize=True),
               dict(momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False),
               dict(momentum=0.9, dampening=0.0, weight_decay=0.01, nesterov=True, maximize=False),
               dict(momentum=0.5, dampening=0.1, weight_decay=0.01, nesterov=False, maximize=True),
               dict(momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=True, maximize=True)]


def _sgd_operands(seed, dtype, sizes, layout="contiguous"):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(n).astype(dtype) for n in sizes]
    if layout == "strided":
        params[0] = rng.standard_normal(2 * sizes[0]).astype(dtype)[::2]
    grads = [[rng.standard_normal(n).astype(dtype) for n in sizes] for _ in range(3)]
    return params, grads


@needs_mkl
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", SGD_OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items() if v))
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
def test_sgd_kernel_follows_the_numpy_reference_over_three_steps(dtype, options, layout):
    """Parameters above and below MIN_BLAS_SIZE (BLAS and numpy in one call), the momentum buffer's first
    step (created) and the next two (updated in place)."""
    from ember_fast.sgd import MIN_BLAS_SIZE, fused_sgd
    from ember_optim.sgd import FusedSGD
    sizes = [MIN_BLAS_SIZE + 3, 10, MIN_BLAS_SIZE * 2]
    got, grads = _sgd_operands(0, dtype, sizes, layout)
    want, _ = _sgd_operands(0, dtype, sizes, layout)
    got_buffers, want_buffers = [None] * 3, [None] * 3
    for step_grads in grads:
        fused_sgd(np, got, step_grads, got_buffers, lr=0.05, **options)
        FusedSGD.forward(np, want, step_grads, want_buffers, lr=0.05, **options)
    tolerance = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-15)
    for g, w in zip(got + got_buffers, want + want_buffers):
        if w is None:
            assert g is None and not options["momentum"]
        else:
            assert g.dtype == w.dtype
            np.testing.assert_allclose(g, w, **tolerance)


@needs_mkl
def test_sgd_kernel_updates_in_place():
    """The parameter and momentum buffer arrays are the ones updated (views of them stay live)."""
    from ember_fast.sgd import MIN_BLAS_SIZE, fused_sgd
    params, grads = _sgd_operands(1, np.float32, [MIN_BLAS_SIZE])
    param, view = params[0], params[0][:5]
    buffers = [np.ones_like(param)]
    before = param.copy()
    fused_sgd(np, params, grads[0], buffers, lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0,
              nesterov=False, maximize=False)
    assert params[0] is param
    np.testing.assert_allclose(view, (before - 0.1 * (0.9 + grads[0][0]))[:5], rtol=1e-6)


@needs_mkl
@pytest.mark.parametrize("index", range(5))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sgd_through_blas_matches_torch(torch, monkeypatch, index, dtype):
    """ember.optim.SGD with every parameter forced through the BLAS path follows torch.optim.SGD over
    20 steps on the same non-quadratic function, two param groups."""
    import ember
    import ember_fast.sgd
    from ember_optim.sgd import FusedSGD
    if FusedSGD.kernels.get("cpu") is not ember_fast.sgd.fused_sgd:
        pytest.skip("the fast plugin's SGD kernel is not registered here (EMBER_DISABLE_PLUGINS)")
    monkeypatch.setattr(ember_fast.sgd, "MIN_BLAS_SIZE", 1)
    options = ember.optim.SGD.sample_options[index]
    start = np.random.default_rng(2).standard_normal((2, 40)).astype(dtype)
    runs = []
    for lib in (ember, torch):
        w, b = (lib.nn.Parameter(lib.tensor(x.copy())) for x in start)
        runs.append((lib, [w, b], lib.optim.SGD([{"params": [w]}, {"params": [b], "lr": options["lr"] / 2}],
                                                **options)))
    tolerance = dict(rtol=1e-9, atol=1e-11) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-5)
    sign = -1 if options.get("maximize") else 1  # maximize -f: the same descent, the other way round
    for step in range(20):
        for lib, params, opt in runs:
            for p in params:
                x = p.detach().numpy()
                p.grad = lib.tensor(sign * (np.tanh(x) + 0.1 * x ** 3))
            opt.step()
        for mine, theirs in zip(runs[0][1], runs[1][1]):
            np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), **tolerance,
                                       err_msg=f"SGD{options}: step {step}")


def test_sgd_kernel_without_mkl_is_the_numpy_reference(monkeypatch):
    """Where MKL does not load, every parameter takes the reference (bit for bit)."""
    import ember_fast.sgd
    from ember_optim.sgd import FusedSGD
    monkeypatch.setattr(ember_fast.sgd, "_blas", False)
    options = dict(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=0.01, nesterov=True, maximize=False)
    sizes = [ember_fast.sgd.MIN_BLAS_SIZE, 7]
    got, grads = _sgd_operands(3, np.float32, sizes)
    want, _ = _sgd_operands(3, np.float32, sizes)
    got_buffers, want_buffers = [None] * 2, [None] * 2
    for step_grads in grads:
        ember_fast.sgd.fused_sgd(np, got, step_grads, got_buffers, **options)
        FusedSGD.forward(np, want, step_grads, want_buffers, **options)
    for g, w in zip(got + got_buffers, want + want_buffers):
        np.testing.assert_array_equal(g, w)
