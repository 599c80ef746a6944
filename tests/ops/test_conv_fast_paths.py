"""conv2d/conv1d/conv3d's paths (1x1 pointwise, depthwise, and channel-major columns times one GEMM per group)
give PyTorch's results, forward and backward."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F

CASES = [
    # (input shape, weight shape, kwargs)
    ((2, 6, 7, 9), (4, 6, 1, 1), {}),  # pointwise
    ((2, 6, 7, 9), (4, 6, 1, 1), {"bias": True}),
    ((2, 6, 7, 9), (6, 1, 3, 3), {"groups": 6, "padding": 1}),  # depthwise
    ((2, 6, 8, 8), (6, 1, 5, 5), {"groups": 6, "stride": 2, "padding": 2}),
    ((1, 4, 9, 8), (4, 1, 3, 2), {"groups": 4, "stride": (2, 1), "dilation": (1, 2)}),
    ((2, 4, 9, 11), (4, 1, 3, 2), {"groups": 4, "padding": (2, 1), "dilation": (2, 1)}),  # stride 1, dilated
    ((1, 4, 6, 7), (4, 1, 3, 3), {"groups": 4}),  # stride 1, unpadded
    ((2, 3, 10), (3, 1, 3), {"groups": 3, "padding": 1}),  # 1-D depthwise
    ((1, 2, 4, 5, 6), (2, 1, 3, 3, 3), {"groups": 2, "padding": 1}),  # 3-D depthwise
    ((2, 5, 4, 4, 3), (7, 5, 1, 1, 1), {}),  # 3-D pointwise
    # columns and a GEMM (the training path, whose weight gradient reuses the forward's columns)
    ((3, 1, 12, 12), (6, 1, 5, 5), {"padding": 2, "bias": True}),  # LeNet's first layer
    ((2, 6, 9, 8), (4, 6, 3, 2), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2)}),
    ((2, 4, 7, 7), (6, 2, 3, 3), {"groups": 2, "padding": "same"}),
    ((1, 6, 5, 6), (3, 2, 2, 2), {"groups": 3, "stride": 2}),
    ((2, 3, 11), (4, 3, 4), {"stride": 3, "padding": 2}),  # 1-D
    ((1, 2, 4, 5, 6), (3, 2, 2, 3, 2), {"padding": 1, "stride": (1, 2, 1)}),  # 3-D
    ((2, 3, 6, 6), (5, 3, 1, 1), {"stride": 2}),  # strided 1x1: not pointwise
]


@pytest.mark.parametrize("x_shape, w_shape, kwargs", CASES)
def test_fast_paths_match_torch(torch, x_shape, w_shape, kwargs):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape).astype(np.float32), rng.standard_normal(w_shape).astype(np.float32)
    kwargs = dict(kwargs)
    b = rng.standard_normal(w_shape[0]).astype(np.float32) if kwargs.pop("bias", False) else None
    conv = {3: "conv1d", 4: "conv2d", 5: "conv3d"}[len(x_shape)]
    ex, ew = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    eb = None if b is None else ember.tensor(b)
    tb = None if b is None else torch.tensor(b)
    ours = getattr(F, conv)(ex, ew, eb, **kwargs)
    theirs = getattr(torch.nn.functional, conv)(tx, tw, tb, **kwargs)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(tuple(theirs.shape)).astype(np.float32)
    ours.backward(ember.tensor(g))
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_conv_weight_gradient_without_input_gradient(torch):
    """Images do not require grad: only the weight gradient is computed, from the forward's columns."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 1, 10, 10)).astype(np.float32)
    w = rng.standard_normal((3, 1, 3, 3)).astype(np.float32)
    ew, tw = ember.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    F.conv2d(ember.tensor(x), ew, padding=1).square().sum().backward()
    torch.nn.functional.conv2d(torch.tensor(x), tw, padding=1).square().sum().backward()
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kwargs", [{"padding": 1}, {"stride": 2, "groups": 2}])
def test_conv_by_columns_second_derivatives(kwargs):
    rng = np.random.default_rng(2)
    x = ember.tensor(rng.standard_normal((2, 2, 5, 4)), dtype=ember.float64, requires_grad=True)
    w = ember.tensor(rng.standard_normal((2, 2 // kwargs.get("groups", 1), 3, 2)), dtype=ember.float64,
                     requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda a, b: F.conv2d(a, b, **kwargs), (x, w))
