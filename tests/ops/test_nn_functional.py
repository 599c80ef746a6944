"""Behaviour of the neural-network functional ops that the conformance samples cannot pin down:
dropout's randomness, running statistics updated in place, embedding's padding row and max_norm,
max-pool indices, and second derivatives of conv through its own primitives."""

import numpy as np

import ember
import ember.nn.functional as F


def _pair(torch, shape, seed=0, dtype=np.float64):
    values = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return ember.tensor(values), torch.tensor(values)


# -- dropout -----------------------------------------------------------------------------------------

def test_dropout_zeroes_about_p_of_the_elements():
    x = ember.ones(200, 100)
    out = F.dropout(x, p=0.3)
    assert abs(float((out == 0).float().mean()) - 0.3) < 0.02


def test_dropout_scales_kept_elements_by_one_over_keep_probability():
    x = ember.rand(50, 40) + 1
    out = F.dropout(x, p=0.25)
    kept = out.numpy() != 0
    np.testing.assert_allclose(out.numpy()[kept], x.numpy()[kept] / 0.75, rtol=1e-6)


def test_dropout_is_identity_when_not_training():
    x = ember.randn(4, 5)
    assert F.dropout(x, p=0.9, training=False) is x


def test_dropout_with_the_same_seed_draws_the_same_mask():
    x = ember.ones(30, 30)
    ember.manual_seed(123)
    a = F.dropout(x, p=0.5)
    ember.manual_seed(123)
    b = F.dropout(x, p=0.5)
    c = F.dropout(x, p=0.5)
    assert np.array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(b.numpy(), c.numpy())


def test_dropout_gradient_is_the_mask_scaled():
    x = ember.ones(20, 20, requires_grad=True)
    out = F.dropout(x, p=0.4)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), out.detach().numpy(), rtol=1e-6)


def test_dropout_inplace_writes_into_its_input():
    x = ember.ones(10, 10)
    out = F.dropout(x, p=0.5, inplace=True)
    assert out is x
    assert set(np.unique(x.numpy())) <= {0.0, 2.0}


def test_dropout2d_zeroes_whole_channels():
    x = ember.ones(8, 16, 3, 3)
    out = F.dropout2d(x, p=0.5).numpy()
    per_channel = out.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0 < (per_channel[..., 0] == 0).sum() < 8 * 16


def test_dropout_with_p_one_gives_zeros():
    assert float(F.dropout(ember.ones(3, 3), p=1.0).abs().sum()) == 0


# -- running statistics --------------------------------------------------------------------------------

def test_batch_norm_updates_running_stats_like_torch(torch):
    rm, trm = _pair(torch, (3,), 1)
    rv = ember.ones(3) * 1.5
    trv = torch.ones(3, dtype=torch.float64) * 1.5
    rv = rv.double()
    for step in range(2):
        x, tx = _pair(torch, (4, 3, 2, 2), 10 + step)
        out = F.batch_norm(x, rm, rv, training=True, momentum=0.2)
        tout = torch.nn.functional.batch_norm(tx, trm, trv, training=True, momentum=0.2)
        np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-10)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-10)
    x, tx = _pair(torch, (2, 3, 2, 2), 99)
    np.testing.assert_allclose(F.batch_norm(x, rm, rv).numpy(),
                               torch.nn.functional.batch_norm(tx, trm, trv).numpy(), rtol=1e-10)


def test_batch_norm_bumps_the_running_stats_version():
    rm, rv = ember.zeros(2), ember.ones(2)
    before = rm._version
    F.batch_norm(ember.randn(4, 2), rm, rv, training=True)
    assert rm._version > before


def test_instance_norm_updates_running_stats_like_torch(torch):
    rm, trm = _pair(torch, (2,), 3)
    rv, trv = ember.ones(2).double(), torch.ones(2, dtype=torch.float64)
    x, tx = _pair(torch, (3, 2, 5), 4)
    out = F.instance_norm(x, rm, rv, momentum=0.3)
    tout = torch.nn.functional.instance_norm(tx, trm, trv, momentum=0.3)
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-10)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-10)


# -- embedding ---------------------------------------------------------------------------------------

def test_embedding_padding_row_gets_no_gradient(torch):
    w, tw = _pair(torch, (5, 3), 5)
    w.requires_grad_(True)
    tw.requires_grad_(True)
    idx = [[0, 2, 2], [4, 2, 1]]
    out = F.embedding(ember.tensor(idx), w, padding_idx=2)
    tout = torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx=2)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy())
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)
    assert not w.grad.numpy()[2].any()


def test_embedding_max_norm_renormalizes_looked_up_rows_in_place(torch):
    w, tw = _pair(torch, (4, 3), 6)
    w, tw = w * 3, tw * 3
    idx = [1, 3, 3]
    out = F.embedding(ember.tensor(idx), w, max_norm=1.0)
    tout = torch.nn.functional.embedding(torch.tensor(idx), tw, max_norm=1.0)
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-10)
    np.testing.assert_allclose(w.numpy(), tw.numpy(), rtol=1e-10)


def test_one_hot_infers_the_number_of_classes(torch):
    idx = [[3, 0], [1, 1]]
    out = F.one_hot(ember.tensor(idx))
    assert out.dtype is ember.int64
    np.testing.assert_array_equal(out.numpy(), torch.nn.functional.one_hot(torch.tensor(idx)).numpy())


# -- pooling, conv ------------------------------------------------------------------------------------

def test_max_pool2d_indices_match_torch(torch):
    x, tx = _pair(torch, (2, 3, 7, 6), 7)
    kw = dict(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True, return_indices=True)
    out, idx = F.max_pool2d(x, **kw)
    tout, tidx = torch.nn.functional.max_pool2d(tx, **kw)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    np.testing.assert_allclose(out.numpy(), tout.numpy())


def test_conv2d_second_derivative_matches_torch(torch):
    x, tx = _pair(torch, (2, 2, 5, 5), 8)
    w, tw = _pair(torch, (4, 1, 3, 3), 9)
    for t in (x, w, tx, tw):
        t.requires_grad_(True)
    out = F.conv2d(x, w, stride=2, padding=1, groups=2)
    tout = torch.nn.functional.conv2d(tx, tw, stride=2, padding=1, groups=2)
    (gx,) = ember.autograd.grad((out * out).sum(), [x], create_graph=True)
    (tgx,) = torch.autograd.grad((tout * tout).sum(), [tx], create_graph=True)
    gw = ember.autograd.grad((gx * gx).sum(), [w])[0]
    tgw = torch.autograd.grad((tgx * tgx).sum(), [tw])[0]
    np.testing.assert_allclose(gw.numpy(), tgw.numpy(), rtol=1e-9)


def test_attention_dropout_is_reproducible_with_a_seed():
    q = ember.randn(2, 4, 3)
    ember.manual_seed(5)
    a = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    ember.manual_seed(5)
    b = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    assert np.array_equal(a.numpy(), b.numpy())
