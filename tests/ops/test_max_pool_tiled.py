"""Max pooling whose windows tile the input (kernel == stride, no padding or dilation: every 2x2/stride-2
pool) runs on strided slices; it gives PyTorch's values, indices and gradients, ties and NaN included."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F

CASES = [
    # (op, input shape, kernel_size, extra kwargs)
    ("max_pool2d", (2, 3, 8, 8), 2, {}),
    ("max_pool2d", (2, 3, 9, 7), 2, {}),  # the last row and column belong to no window
    ("max_pool2d", (1, 2, 9, 9), 3, {}),
    ("max_pool2d", (2, 2, 6, 8), (2, 4), {}),
    ("max_pool2d", (2, 2, 6, 8), (2, 4), {"stride": (2, 4)}),
    ("max_pool2d", (3, 8, 8), 2, {}),  # unbatched
    ("max_pool1d", (2, 3, 9), 3, {}),
    ("max_pool3d", (1, 2, 4, 6, 4), 2, {}),
]


def _input(shape, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    flat = x.reshape(-1, *shape[-2:]) if len(shape) > 2 else x.reshape(1, *shape[-2:])
    flat[0, 0, :2] = 5.0  # a tie inside one window: the first one wins
    if flat.shape[0] > 1:
        flat[1, 0, 0] = flat[1, 0, 1] = np.nan  # two NaN in one window: the last one wins, as in PyTorch
        flat[-1, :2, :2] = -np.inf
    return x


@pytest.mark.parametrize("name, shape, kernel, kwargs", CASES)
def test_tiled_max_pool_matches_torch(torch, name, shape, kernel, kwargs):
    rng = np.random.default_rng(0)
    x = _input(shape, rng)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, our_idx = getattr(F, name)(ex, kernel, return_indices=True, **kwargs)
    theirs, their_idx = getattr(torch.nn.functional, name)(tx, kernel, return_indices=True, **kwargs)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    np.testing.assert_array_equal(our_idx.numpy(), their_idx.numpy())
    assert our_idx.dtype == ember.int64
    g = rng.standard_normal(tuple(theirs.shape)).astype(np.float32)
    ours.backward(ember.tensor(g))
    theirs.backward(torch.tensor(g))
    np.testing.assert_array_equal(ex.grad.numpy(), tx.grad.numpy())


def test_tiled_max_pool_second_derivative():
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.standard_normal((2, 2, 6, 5)), dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda t: F.max_pool2d(t, 2) ** 2, (x,))


def test_tiled_and_window_paths_agree():
    """A 2x2 pool of a 7x7 input tiles; with ceil_mode it has a partial last window, so the general window
    kernel runs: both agree on the whole windows."""
    rng = np.random.default_rng(4)
    x = ember.tensor(rng.standard_normal((2, 3, 7, 7)).astype(np.float32))
    tiled = F.max_pool2d(x, 2)
    general = F.max_pool2d(x, 2, ceil_mode=True)[..., :3, :3]
    np.testing.assert_array_equal(tiled.numpy(), general.numpy())
