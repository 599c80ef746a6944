"""The autograd tape: accumulation, backward options, autograd.grad, grad modes, hooks, custom
Functions, version counters, higher order, deep graphs and freeing."""

import gc
import weakref

import numpy as np
import pytest

import ember
from ember.testing import assert_close, gradcheck, gradgradcheck


def leaf(*values, dtype=ember.float64):
    return ember.tensor(list(values), dtype=dtype, requires_grad=True)


def test_leaves_accumulate_grad_across_backwards():
    x = leaf(1.0, 2.0)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]
    assert x.is_leaf and x.grad_fn is None and x.grad.requires_grad is False


def test_gradients_sum_where_paths_meet():
    x = leaf(3.0)
    y = x * x
    (y + y * x + x).backward()
    assert x.grad.item() == pytest.approx(2 * 3 + 3 * 9 + 1)


def test_broadcast_dimensions_are_reduced_in_the_gradient():
    w = ember.ones(3, requires_grad=True)
    b = ember.ones(1, 1, requires_grad=True)
    (ember.ones(4, 3) * w + b).sum().backward()
    assert w.grad.tolist() == [4, 4, 4] and b.grad.tolist() == [[12]]


def test_backward_with_gradient_argument_for_non_scalars():
    x = leaf(1.0, 2.0)
    (x * 2).backward(ember.tensor([1.0, 10.0], dtype=ember.float64))
    assert x.grad.tolist() == [2.0, 20.0]


def test_backward_on_non_scalar_without_gradient_names_the_shape():
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\(2,\)"):
        (leaf(1.0, 2.0) * 2).backward()


def test_backward_on_tensor_without_grad_fn():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(2).sum().backward()


def test_second_backward_through_freed_graph_fails_clearly_and_retain_graph_allows_it():
    x = leaf(2.0)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 8.0
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_autograd_grad_returns_without_accumulating():
    x, z = leaf(1.0, 2.0), leaf(5.0)
    y = (x * x).sum() * z
    gx, gz = ember.autograd.grad(y, (x, z))
    assert gx.tolist() == [10.0, 20.0] and gz.tolist() == [5.0]
    assert x.grad is None and z.grad is None


def test_autograd_grad_unused_inputs():
    x, unused = leaf(1.0), leaf(1.0)
    with pytest.raises(RuntimeError, match="allow_unused"):
        ember.autograd.grad((x * 2).sum(), (x, unused))
    gx, gu = ember.autograd.grad((x * 2).sum(), (x, unused), allow_unused=True)
    assert gx.tolist() == [2.0] and gu is None
    _, zero = ember.autograd.grad((x * 2).sum(), (x, unused), materialize_grads=True)
    assert zero.tolist() == [0.0]


def test_autograd_grad_with_respect_to_an_intermediate():
    x = leaf(3.0)
    h = x * x
    (gh,) = ember.autograd.grad((h * 4).sum(), h)
    assert gh.tolist() == [4.0]


def test_second_order_gradients_match_torch(torch):
    values = np.array([0.3, -1.2, 2.0])
    x = ember.tensor(values, requires_grad=True)
    tx = torch.tensor(values, requires_grad=True)
    y = (x.exp() * x * x).sum()
    ty = (tx.exp() * tx * tx).sum()
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    (tg,) = torch.autograd.grad(ty, tx, create_graph=True)
    assert g.requires_grad
    g.sum().backward()
    tg.sum().backward()
    assert_close(g, tg)
    assert_close(x.grad, tx.grad)


def test_third_order_derivative_of_a_cube():
    x = leaf(2.0)
    (g1,) = ember.autograd.grad((x * x * x).sum(), x, create_graph=True)
    (g2,) = ember.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = ember.autograd.grad(g2.sum(), x)
    assert (g1.item(), g2.item(), g3.item()) == (12.0, 12.0, 6.0)


def test_backward_create_graph_makes_grad_differentiable():
    x = leaf(1.5)
    (x * x * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = ember.autograd.grad(x.grad.sum(), x)
    assert gg.item() == pytest.approx(6 * 1.5)


def test_no_grad_enable_grad_set_grad_enabled_inference_mode():
    x = leaf(1.0)
    with ember.no_grad():
        assert not (x * 2).requires_grad
        with ember.enable_grad():
            assert (x * 2).requires_grad
    assert ember.is_grad_enabled()
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()
    ember.set_grad_enabled(False)
    try:
        assert not ember.is_grad_enabled()
    finally:
        ember.set_grad_enabled(True)
    with ember.inference_mode():
        assert not (x * 2).requires_grad and ember.is_inference_mode_enabled()
    assert not ember.is_inference_mode_enabled()

    @ember.no_grad()
    def doubled(t):
        return t * 2
    assert not doubled(x).requires_grad and ember.is_grad_enabled()


def test_detach_shares_memory_and_leaves_the_graph():
    x = leaf(1.0, 2.0)
    d = (x * 1).detach()
    assert not d.requires_grad and d.grad_fn is None
    e = x.detach()
    e.add_(1)
    assert x.tolist() == [2.0, 3.0]


def test_requires_grad_on_non_leaf_cannot_be_turned_off():
    y = leaf(1.0) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_hooks_on_leaves_and_intermediates_can_replace_the_gradient():
    x = leaf(1.0, 2.0)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.tolist()))
    h = x * 3
    h.register_hook(lambda g: g * 10)
    h.sum().backward()
    assert seen == [[30.0, 30.0]] and x.grad.tolist() == [30.0, 30.0]
    handle.remove()
    (x * 1).sum().backward()
    assert len(seen) == 1


def test_retain_grad_keeps_an_intermediate_gradient():
    x = leaf(1.0, 2.0)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward()
    assert h.grad.tolist() == [4.0, 8.0] and h.retains_grad


class Cube(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x * ctx.scale, None


def test_custom_function_forward_backward_and_gradcheck():
    x = leaf(1.0, -2.0)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn is not None and y.tolist() == [2.0, -16.0]
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]
    assert gradcheck(lambda t: Cube.apply(t, 0.5), [leaf(0.3, 0.7)])
    assert gradgradcheck(lambda t: Cube.apply(t, 0.5), [leaf(0.3, 0.7)])


def test_custom_function_saved_tensor_changed_in_place_is_detected():
    x = leaf(1.0, 2.0)
    h = x * 1
    y = Cube.apply(h, 1.0)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_in_place_change_of_a_saved_tensor_is_an_error_naming_the_op():
    x = leaf(1.0, 2.0)
    a = x * 1
    b = a * a  # mul saves a
    a.mul_(2)
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation.*'mul'.*version"):
        b.sum().backward()


def test_in_place_on_unsaved_tensor_is_fine_and_history_is_rebased():
    x = leaf(1.0, 2.0)
    a = x * 1
    b = a + 1  # add saves nothing
    a.mul_(3)
    (a.sum() + b.sum()).backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_in_place_on_a_leaf_that_requires_grad_is_refused():
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        leaf(1.0).add_(1)
    x = leaf(1.0)
    with ember.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0]


def test_a_chain_of_twenty_thousand_ops_backprops_without_recursion():
    x = ember.ones(1, requires_grad=True)
    y = x
    for _ in range(20000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.item() == 1.0


def test_the_graph_of_a_finished_step_is_freed():
    w = ember.ones(50, 50, requires_grad=True)
    refs = []
    for _ in range(3):
        h = w * 2
        out = (h.exp() * h).sum()
        refs.append(weakref.ref(h))
        out.backward()
        del h, out
    gc.collect()
    assert all(r() is None for r in refs)


def test_saved_tensors_are_released_after_backward_even_while_the_output_lives():
    w = ember.ones(3, requires_grad=True)
    h = w * 2
    href = weakref.ref(h)
    out = (h * h).sum()
    del h
    out.backward()
    assert href() is None  # out still alive, but its node no longer holds h


def test_non_float_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point dtype"):
        ember.zeros(2, dtype=ember.int32).requires_grad_()


def test_mixed_devices_error_names_op_and_devices():
    from ember.device import Backend, device
    x = ember.ones(2)
    fake = object.__new__(device)
    fake.type, fake.index, fake.backend, fake.xp = "fake", 0, Backend(), np
    y = ember.tensor.__globals__["wrap"](np.ones(2, np.float32), fake)
    with pytest.raises(ember.DeviceError, match=r"add: expected all tensors on the same device.*cpu.*fake:0"):
        x + y


class SplitHalves(ember.autograd.Function):
    """Two outputs from one node: the engine must give backward a zero gradient for an unused one."""

    @staticmethod
    def forward(ctx, x):
        n = x.shape[0] // 2
        return x[:n] * 1, x[n:] * 2

    @staticmethod
    def backward(ctx, grad_first, grad_second):
        return ember.cat([grad_first, grad_second * 2])


def test_multi_output_function_gets_zeros_for_an_unused_output():
    x = leaf(1.0, 2.0, 3.0, 4.0)
    first, second = SplitHalves.apply(x)
    assert first.grad_fn is second.grad_fn
    second.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 2.0, 2.0]


def test_backward_with_inputs_accumulates_only_into_those():
    x, y = leaf(1.0), leaf(2.0)
    (x * y).sum().backward(inputs=[x])
    assert x.grad.tolist() == [2.0] and y.grad is None


def test_assigning_a_mismatched_grad_is_refused_as_in_pytorch():
    p = ember.zeros(2, 3, requires_grad=True)
    with pytest.raises(TypeError, match="different type"):
        p.grad = ember.zeros(2, 3, dtype=ember.float64)
    with pytest.raises(RuntimeError, match="different size"):
        p.grad = ember.zeros(3, 2)
    p.grad = ember.ones(2, 3)
    del p.grad
    assert p.grad is None
