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
