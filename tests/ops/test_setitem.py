"""``x[idx] = v`` with autograd: the write is recorded (x's history becomes an index-put node whose inputs
are x's old value and v), gradients reach both and match PyTorch, the version counter is bumped, and
the in-place rules (leaf that requires grad, saved tensors) apply."""

import numpy as np
import pytest

import ember
from ember.testing import gradcheck, gradgradcheck


def pair(shape, seed=0, requires_grad=True):
    import torch
    data = np.random.default_rng(seed).standard_normal(shape)
    return (ember.tensor(data, requires_grad=requires_grad),
            torch.tensor(data, requires_grad=requires_grad))


INDICES = [
    ("int", lambda lib: 1, (3,)),
    ("slice and int", lambda lib: (slice(1, 3), 0), (2,)),
    ("ellipsis", lambda lib: (Ellipsis, 1), (4,)),
    ("index tensor", lambda lib: lib.tensor([0, 2]), (2, 3)),
    ("broadcast value", lambda lib: lib.tensor([0, 3]), (3,)),
    ("bool mask", lambda lib: lib.tensor([True, False, True, False]), (2, 3)),
    ("two index tensors", lambda lib: (lib.tensor([0, 3]), lib.tensor([2, 1])), (2,)),
]


@pytest.mark.parametrize("name, index, vshape", INDICES, ids=[i[0] for i in INDICES])
def test_setitem_gradients_match_torch(torch, name, index, vshape):
    xe, xt = pair((4, 3))
    ve, vt = pair(vshape, seed=1)
    ye, yt = xe * 2, xt * 2
    ye[index(ember)] = ve
    yt[index(torch)] = vt
    assert ye.grad_fn is not None
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy())
    w = np.random.default_rng(2).standard_normal((4, 3))
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy())
    np.testing.assert_allclose(ve.grad.numpy(), vt.grad.numpy())


def test_setitem_double_backward_by_finite_differences(torch):
    x, _ = pair((4, 3))
    v, _ = pair((2, 3), seed=1)

    def fn(x, v):
        y = x * x
        y[ember.tensor([0, 2])] = v * v
        return y * x

    gradcheck(fn, [x, v])
    gradgradcheck(fn, [x, v])


def test_setitem_into_tensor_without_grad_records_value_history(torch):
    out = ember.zeros(3, 2)
    v, _ = pair((2,))
    out[1] = v * 3
    assert out.requires_grad and out.grad_fn is not None
    out.sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), [3.0, 3.0])


def test_setitem_on_leaf_that_requires_grad_raises(torch):
    x, _ = pair((3,))
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x[0] = 1.0
    with ember.no_grad():
        x[0] = 1.0  # allowed without recording, as in PyTorch
    assert x[0].item() == 1.0 and x.grad_fn is None


def test_setitem_bumps_version_and_invalidates_saved_tensors(torch):
    x, _ = pair((3,))
    y = x * 1
    z = y * y  # mul saves y
    before = y._version
    y[0] = 5.0
    assert y._version > before
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


def test_setitem_without_grad_is_a_plain_write():
    x = ember.zeros(2, 3)
    version = x._version
    x[:, 1] = ember.tensor([1.0, 2.0])
    x[0, 0] = 7
    assert x.tolist() == [[7.0, 1.0, 0.0], [0.0, 2.0, 0.0]]
    assert x._version == version + 2 and not x.requires_grad


def test_setitem_casts_value_to_target_dtype():
    x = ember.zeros(3, dtype=ember.int64)
    x[1] = ember.tensor(2.7)
    assert x.dtype is ember.int64 and x.tolist() == [0, 2, 0]
    y = ember.zeros(2, dtype=ember.float64)
    v = ember.ones(2, requires_grad=True)  # float32 value into float64 tensor: grad comes back as float32
    y2 = y * 1
    y2[:] = v
    y2.sum().backward()
    assert v.grad.dtype is ember.float32


def test_copy_fill_zero_in_place(torch):
    src, _ = pair((3,))
    y = ember.zeros(2, 3, dtype=ember.float64)
    y.copy_(src * 2)
    y.sum().backward()
    np.testing.assert_allclose(src.grad.numpy(), [4.0, 4.0, 4.0])
    a, _ = pair((2, 2))
    b = a * 1
    b.fill_(3.0)
    assert b.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    b.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.zeros((2, 2)))
    c = ember.ones(2)
    assert c.zero_() is c and c.tolist() == [0.0, 0.0]
