"""A batch times one matrix, (..., m, k) @ (k, n), runs as one GEMM (and so does its gradient in the
matrix): the results are PyTorch's for every layout of the batch."""

import numpy as np
import pytest

import ember

CASES = [
    ((8, 16, 32), (32, 24), False),
    ((2, 3, 5, 4), (4, 6), False),
    ((5, 6, 4), (4, 3), True),  # a non-contiguous batch: (6, 5, 4), a transposed view
    ((2, 5, 4), (4,), False),  # batch @ vector
    ((2, 3, 5, 4), (1, 4, 6), False),  # a matrix with a batch dim of one, broadcast
    ((2, 3, 5, 4), (1, 1, 4, 6), False),
]


@pytest.mark.parametrize("a_shape, b_shape, transposed", CASES)
def test_batch_times_matrix_matches_torch(torch, a_shape, b_shape, transposed):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    ea, eb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ours = (ea.transpose(0, 1) if transposed else ea) @ eb
    theirs = (ta.transpose(0, 1) if transposed else ta) @ tb
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(tuple(theirs.shape)).astype(np.float32)
    ours.backward(ember.tensor(g))
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(ea.grad.numpy(), ta.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(eb.grad.numpy(), tb.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_batch_times_matrix_second_derivatives():
    rng = np.random.default_rng(1)
    a = ember.tensor(rng.standard_normal((2, 3, 4)), dtype=ember.float64, requires_grad=True)
    b = ember.tensor(rng.standard_normal((4, 2)), dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda x, y: x @ y, (a, b))
