"""conv2d/conv1d/conv3d's fast paths (1x1 pointwise, depthwise) give PyTorch's results, forward and backward."""

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
