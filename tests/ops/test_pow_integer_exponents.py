"""``pow`` with an integer exponent (Python int or integral float) multiplies instead of calling numpy's
``power``, which is ~300x slower for negative bases: the results still are PyTorch's."""

import numpy as np
import pytest

import ember

EXPONENTS = [0, 1, 2, 3, 4, 5, 7, 10, -1, -2, -3, -6, 3.0, -2.0]


def _input():
    x = np.random.default_rng(0).standard_normal(200) * 3
    x[:6] = [0.0, -0.0, np.nan, np.inf, -np.inf, -1.5]
    return x


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("exponent", EXPONENTS)
def test_integer_exponent_matches_torch(torch, dtype, exponent):
    x = _input().astype(dtype)
    ours = (ember.tensor(x) ** exponent).numpy()
    theirs = (torch.tensor(x) ** exponent).numpy()
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol={"float16": 1e-3}.get(dtype, 1e-6), atol=0, equal_nan=True)


def test_exponents_two_and_three_are_bitwise_torch(torch):
    x = _input().astype(np.float32)
    for exponent in (2, 3):
        np.testing.assert_array_equal((ember.tensor(x) ** exponent).numpy(), (torch.tensor(x) ** exponent).numpy())


def test_integer_exponent_gradient_matches_torch(torch):
    x = np.random.default_rng(1).standard_normal(20).astype(np.float32)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ex ** 5 + ex ** -2.0).sum().backward()
    (tx ** 5 + tx ** -2.0).sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-5)


def test_integer_tensors_keep_their_dtype(torch):
    x = np.arange(-4, 5)
    np.testing.assert_array_equal((ember.tensor(x) ** 3).numpy(), (torch.tensor(x) ** 3).numpy())
    assert (ember.tensor(x) ** 3).dtype == ember.int64
