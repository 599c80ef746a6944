"""Tensor.register_post_accumulate_grad_hook, which DDP starts its all-reduces from, against PyTorch."""

import numpy as np
import pytest

import ember


def _two_layer(lib, w_data, b_data, x_data):
    w = lib.tensor(w_data, requires_grad=True)
    b = lib.tensor(b_data, requires_grad=True)
    return w, b, lib.tensor(x_data)


def test_hooks_run_once_per_backward_after_the_leaf_is_complete_in_torchs_order(torch):
    rng = np.random.default_rng(0)
    data = [rng.standard_normal(s).astype(np.float32) for s in [(3, 3), (3,), (2, 3)]]
    runs = {}
    for name, lib in (("ember", ember), ("torch", torch)):
        w, b, x = _two_layer(lib, *data)
        seen = []
        # w is used twice: its hook must see the sum of both contributions
        w.register_post_accumulate_grad_hook(lambda p: seen.append(("w", p.grad.detach().numpy().copy())))
        b.register_post_accumulate_grad_hook(lambda p: seen.append(("b", p.grad.detach().numpy().copy())))
        ((x @ w + b) @ w).sum().backward()
        runs[name] = (seen, w.grad.detach().numpy(), b.grad.detach().numpy())
    (ours, ours_w, ours_b), (theirs, theirs_w, theirs_b) = runs["ember"], runs["torch"]
    assert [n for n, _ in ours] == [n for n, _ in theirs]
    np.testing.assert_allclose(dict(ours)["w"], ours_w)
    np.testing.assert_allclose(ours_w, theirs_w, rtol=1e-5)
    np.testing.assert_allclose(dict(ours)["b"], theirs_b, rtol=1e-5)


def test_hook_sees_accumulated_grad_across_backwards():
    w = ember.ones(2, requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    (w * 2).sum().backward()
    (w * 3).sum().backward()
    assert seen == [[2.0, 2.0], [5.0, 5.0]]


def test_a_leaf_is_accumulated_as_soon_as_complete_not_at_the_end_of_backward(torch):
    orders = {}
    for name, lib in (("ember", ember), ("torch", torch)):
        late, w = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
        order = []
        h = (late * 2).exp()  # recorded first, so backward reaches it last
        h.register_hook(lambda g: order.append("older branch"))
        w.register_post_accumulate_grad_hook(lambda p: order.append("w accumulated"))
        (h.sum() + (w * 3).sum()).backward()
        orders[name] = order
    assert orders["ember"] == orders["torch"] == ["w accumulated", "older branch"]


def test_removable_handle():
    w = ember.ones(2, requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda p: seen.append(1))
    handle.remove()
    w.sum().backward()
    assert seen == []


def test_non_leaf_and_no_grad_tensors_are_refused_as_in_torch(torch):
    with pytest.raises(RuntimeError, match="non-leaf"):
        (ember.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (torch.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(2).register_post_accumulate_grad_hook(print)
