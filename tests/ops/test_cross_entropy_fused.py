"""cross_entropy of (N, C) logits and class indices runs as one fused node (``CrossEntropyLoss``): values,
gradients and second derivatives as PyTorch's, ignore_index included."""

import numpy as np
import pytest

import ember
from ember.testing import gradgradcheck

TARGETS = {"all counted": [0, 4, 2, 2], "one ignored": [0, 4, -100, 2], "ignore a class": [1, 3, 1, 0]}


def _pair(torch, dtype=np.float32, shape=(4, 5)):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    return ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("targets", sorted(TARGETS))
def test_values_and_gradients_match_torch(torch, reduction, targets):
    ignore_index = 1 if targets == "ignore a class" else -100
    t = TARGETS[targets]
    a, ta = _pair(torch)
    loss = ember.nn.functional.cross_entropy(a, ember.tensor(t), reduction=reduction, ignore_index=ignore_index)
    tloss = torch.nn.functional.cross_entropy(ta, torch.tensor(t), reduction=reduction, ignore_index=ignore_index)
    assert type(loss.grad_fn).__name__ == "NllLossBackward0"
    np.testing.assert_allclose(loss.detach().numpy(), tloss.detach().numpy(), rtol=1e-5, atol=1e-6)
    cot = np.linspace(0.5, 2.0, 4).astype(np.float32) if reduction == "none" else np.float32(1.5)
    loss.backward(ember.tensor(cot))
    tloss.backward(torch.tensor(cot))
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_one_node_between_the_logits_and_the_loss():
    a = ember.randn(3, 4, requires_grad=True)
    loss = ember.nn.functional.cross_entropy(a, ember.tensor([0, 1, 3]))
    assert loss.grad_fn.next_functions[0][0].variable is a


def test_every_target_ignored_gives_nan_loss_and_zero_gradient(torch):
    a, ta = _pair(torch, shape=(2, 3))
    loss = ember.nn.functional.cross_entropy(a, ember.tensor([1, 1]), ignore_index=1)
    tloss = torch.nn.functional.cross_entropy(ta, torch.tensor([1, 1]), ignore_index=1)
    loss.backward()
    tloss.backward()
    assert np.isnan(loss.item()) and np.isnan(tloss.item())
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())


def test_out_of_range_target_is_refused():
    with pytest.raises(ember.errors.OutOfRangeError, match=r"cross_entropy\(\): target 5 is out of bounds for 5"):
        ember.nn.functional.cross_entropy(ember.randn(2, 5), ember.tensor([0, 5]))
    with pytest.raises(ember.errors.OutOfRangeError, match=r"target -100 is out of bounds"):
        ember.nn.functional.cross_entropy(ember.randn(2, 5), ember.tensor([0, -100]), ignore_index=1)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_twice_differentiable(reduction):
    x = ember.tensor(np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True)
    target = ember.tensor([0, -100, 3])

    def fn(x):
        return ember.nn.functional.cross_entropy(x, target, reduction=reduction)
    assert gradgradcheck(fn, (x,))


def test_row_max_of_many_short_rows_is_numpys_max():
    from ember_ops.loss import _row_max
    rng = np.random.default_rng(0)
    for shape in [(512, 10), (128, 2), (300, 32), (100, 10), (512, 33), (512, 1)]:
        x = rng.standard_normal(shape).astype(np.float32)
        x[0, -1], x[1, 0], x[2, :] = np.nan, np.inf, -np.inf
        np.testing.assert_array_equal(_row_max(np, x), x.max(axis=1, keepdims=True))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_many_rows_of_class_scores_match_torch(torch, reduction):
    """512 rows of 10 classes: the shape where the row maximum runs column by column."""
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((512, 10)).astype(np.float32) * 4, rng.integers(0, 10, 512)
    a, ta = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss = ember.nn.functional.cross_entropy(a, ember.tensor(t), reduction=reduction)
    tloss = torch.nn.functional.cross_entropy(ta, torch.tensor(t), reduction=reduction)
    np.testing.assert_allclose(loss.detach().numpy(), tloss.detach().numpy(), rtol=1e-5, atol=1e-6)
    loss.sum().backward()
    tloss.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-5, atol=1e-6)  # 1 ulp of 1.0
