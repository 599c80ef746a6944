"""A spatial-transformer step (PyTorch tutorial style): affine_grid + grid_sample agree with torch."""

import numpy as np
import pytest

import ember


def _run(lib, img, theta, noise, align_corners, mode, padding_mode):
    F = lib.nn.functional
    img = lib.tensor(img, requires_grad=True)
    theta = lib.tensor(theta, requires_grad=True)
    grid = F.affine_grid(theta, (2, 3, 4, 7), align_corners=align_corners)
    out = F.grid_sample(img, grid, mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    (out * lib.tensor(noise)).sum().backward()
    return grid, out, img.grad, theta.grad


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border"])
def test_affine_grid_and_grid_sample_match_pytorch(torch, align_corners, mode, padding_mode):
    rng = np.random.default_rng(0)
    img = rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    theta = np.array([[[0.9, 0.1, 0.0], [-0.1, 1.1, 0.05]], [[1.3, -0.2, 0.3], [0.4, 0.7, -0.5]]], np.float32)
    noise = rng.standard_normal((2, 3, 4, 7)).astype(np.float32)
    ours = _run(ember, img, theta, noise, align_corners, mode, padding_mode)
    theirs = _run(torch, img, theta, noise, align_corners, mode, padding_mode)
    for a, b in zip(ours, theirs):  # grid, output, and the gradients of the image and of theta
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_border_padding_passes_grid_gradient_strictly_inside_only(torch):
    img = np.arange(12, dtype=np.float32).reshape(1, 1, 3, 4) ** 1.5
    grid = np.array([[[[1.0, 0.2], [-1.0, 1.0], [1.4, -0.3], [0.5, 0.0]]]], np.float32)
    grads = []
    for lib in (ember, torch):
        g = lib.tensor(grid, requires_grad=True)
        lib.nn.functional.grid_sample(lib.tensor(img), g, padding_mode="border", align_corners=True).sum().backward()
        grads.append(g.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)


def test_grid_sample_rejects_what_it_does_not_support():
    img, grid = ember.zeros(1, 1, 2, 2), ember.zeros(1, 1, 1, 2)
    with pytest.raises(NotImplementedError, match="bicubic"):
        ember.nn.functional.grid_sample(img, grid, mode="bicubic")
    with pytest.raises(ember.ShapeError, match="same N"):
        ember.nn.functional.grid_sample(img, ember.zeros(2, 1, 1, 2))
