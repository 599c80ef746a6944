"""numpy's RuntimeWarnings never reach ember's users (PyTorch computes NaN and inf silently), even under
``-W error``; the user's own numpy code keeps its warnings."""

import math
import warnings

import numpy as np
import pytest

import ember

CASES = {
    "log of a negative": lambda: ember.tensor([-1.0]).log(),
    "sqrt of a negative": lambda: ember.tensor([-1.0]).sqrt(),
    "0 / 0": lambda: ember.tensor([0.0]) / 0,
    "1 / 0": lambda: ember.tensor([1.0]) / ember.tensor([0.0]),
    "inf - inf in a sum": lambda: ember.tensor([math.inf, -math.inf]).sum(),
    "float16 overflow": lambda: ember.tensor([60000.0], dtype=ember.float16) * 2,
    "det of NaN": lambda: ember.linalg.det(ember.full((2, 2), math.nan)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_no_numpy_warning_even_as_errors(case):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CASES[case]()


def test_backward_through_sqrt_at_zero_is_silent():
    x = ember.tensor([0.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.sqrt().sum().backward()
    assert math.isinf(x.grad.item())


def test_user_numpy_code_still_warns():
    with pytest.warns(RuntimeWarning):
        np.log(np.array([-1.0]))
