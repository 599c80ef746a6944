"""Tensor creation, metadata, conversion, printing, operators and indexing, against PyTorch."""

import numpy as np
import pytest

import ember
from ember.testing import assert_close


def test_creation_functions_match_torch(torch):
    pairs = [
        (ember.zeros(2, 3), torch.zeros(2, 3)), (ember.ones((2, 3)), torch.ones((2, 3))),
        (ember.full((2, 2), 7), torch.full((2, 2), 7)), (ember.full((2,), 1.5), torch.full((2,), 1.5)),
        (ember.arange(5), torch.arange(5)), (ember.arange(1, 2, 0.25), torch.arange(1, 2, 0.25)),
        (ember.arange(10, 0, -3), torch.arange(10, 0, -3)), (ember.linspace(0, 1, 5), torch.linspace(0, 1, 5)),
        (ember.eye(3), torch.eye(3)), (ember.eye(2, 3), torch.eye(2, 3)),
        (ember.zeros_like(ember.ones(2, dtype=ember.int32)), torch.zeros_like(torch.ones(2, dtype=torch.int32))),
        (ember.full_like(ember.ones(2), 3), torch.full_like(torch.ones(2), 3)),
        (ember.tensor([[1, 2], [3, 4]]), torch.tensor([[1, 2], [3, 4]])),
        (ember.tensor(3.5), torch.tensor(3.5)),
    ]
    for ours, theirs in pairs:
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
        assert_close(ours, theirs, rtol=0, atol=0)


def test_empty_has_shape_and_dtype():
    t = ember.empty(3, 0, dtype=ember.int16)
    assert t.shape == (3, 0) and t.dtype is ember.int16 and t.numel() == 0


def test_from_numpy_shares_memory_and_keeps_dtype():
    array = np.arange(4, dtype=np.float64)
    t = ember.from_numpy(array)
    assert t.dtype is ember.float64
    array[0] = 42
    assert t[0].item() == 42
    t.add_(1)
    assert array[1] == 2


def test_tensor_copies_and_as_tensor_shares():
    array = np.zeros(3, dtype=np.float32)
    copied, shared = ember.tensor(array), ember.as_tensor(array)
    array[0] = 5
    assert copied[0].item() == 0 and shared[0].item() == 5


def test_random_factories_are_seeded():
    ember.manual_seed(123)
    first = (ember.rand(3), ember.randn(2, 2), ember.randint(0, 10, (4,)), ember.randperm(5))
    ember.manual_seed(123)
    second = (ember.rand(3), ember.randn(2, 2), ember.randint(0, 10, (4,)), ember.randperm(5))
    for a, b in zip(first, second):
        assert a.tolist() == b.tolist()
    assert first[2].dtype is ember.int64 and sorted(first[3].tolist()) == [0, 1, 2, 3, 4]
    r = ember.rand(1000)
    assert 0 <= r.numpy().min() and r.numpy().max() < 1


def test_generator_objects_give_independent_reproducible_streams():
    g1, g2 = ember.Generator().manual_seed(7), ember.Generator().manual_seed(7)
    assert ember.rand(3, generator=g1).tolist() == ember.rand(3, generator=g2).tolist()
    state = g1.get_state()
    a = ember.randn(4, generator=g1)
    g1.set_state(state)
    assert ember.randn(4, generator=g1).tolist() == a.tolist()


def test_metadata():
    t = ember.zeros(2, 3, 4)
    assert t.shape == ember.Size([2, 3, 4]) and t.size() == (2, 3, 4) and t.size(-1) == 4
    assert t.dim() == 3 and t.ndim == 3 and t.numel() == 24 and t.element_size() == 4
    assert str(t.device) == "cpu" and t.device == ember.device("cpu")
    assert repr(t.shape) == "ember.Size([2, 3, 4])"
    with pytest.raises(IndexError, match="dimension out of range"):
        t.size(3)


def test_item_tolist_numpy():
    t = ember.tensor([[1.5, 2.0]])
    assert t.tolist() == [[1.5, 2.0]] and t[0, 1].item() == 2.0
    assert isinstance(t.numpy(), np.ndarray)
    with pytest.raises(RuntimeError, match="2 elements"):
        t.item()
    with pytest.raises(RuntimeError, match="detach"):
        ember.ones(1, requires_grad=True).numpy()


def test_repr_looks_like_pytorch():
    assert repr(ember.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(ember.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(ember.tensor(3.0)) == "tensor(3.)"
    assert repr(ember.tensor([0.12345, 1.0])) == "tensor([0.1235, 1.0000])"
    assert repr(ember.tensor([1.0], dtype=ember.float64)) == "tensor([1.], dtype=ember.float64)"
    assert repr(ember.ones(1, requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(ember.ones(1, requires_grad=True) * 2) == "tensor([2.], grad_fn=<MulBackward0>)"
    assert repr(ember.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert repr(ember.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"


def test_operators_and_reflections_match_torch(torch):
    a = np.array([[1.0, -2.0, 3.0]], dtype=np.float32)
    b = np.array([[2.0], [0.5]], dtype=np.float32)
    x, y = ember.tensor(a), ember.tensor(b)
    tx, ty = torch.tensor(a), torch.tensor(b)
    for op in (lambda p, q: p + q, lambda p, q: p - q, lambda p, q: p * q, lambda p, q: p / q,
               lambda p, q: 2 - p, lambda p, q: 3 / p, lambda p, q: p ** 2, lambda p, q: 2 ** q,
               lambda p, q: -p, lambda p, q: p * 1.5,
               lambda p, q: p < q, lambda p, q: p >= 1, lambda p, q: p == q, lambda p, q: 1 + p):
        assert_close(op(x, y), op(tx, ty))


def test_bitwise_operators_on_bool_and_int_tensors_match_torch(torch):
    a, b = np.array([True, False, True]), np.array([True, True, False])
    for p, q in ((a, b), (np.array([6, 5]), 3), (np.array([6, -5]), np.array([3, 12]))):
        x, tx = ember.tensor(p), torch.tensor(p)
        y, ty = (ember.tensor(q), torch.tensor(q)) if isinstance(q, np.ndarray) else (q, q)
        for op in (lambda s, t: s & t, lambda s, t: s | t, lambda s, t: s ^ t, lambda s, t: ~s):
            ours, theirs = op(x, y), op(tx, ty)
            assert ours.tolist() == theirs.tolist() and ours.dtype.name == str(theirs.dtype).replace("torch.", "")


def test_numpy_array_on_the_left_gives_a_tensor():
    result = np.ones(3, dtype=np.float32) + ember.ones(3)
    assert isinstance(result, ember.Tensor)


def test_inplace_operators_update_memory_and_version():
    t = ember.zeros(3)
    before = t._version
    same = t
    t += 1
    t *= 3
    assert same is t and t.tolist() == [3, 3, 3] and t._version == before + 2
    with pytest.raises(RuntimeError, match="can't be cast"):
        ember.zeros(2, dtype=ember.int64).add_(1.5)


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"add\(\).*size of tensor a \(3\) must match.*\(4\)"):
        ember.ones(2, 3) + ember.ones(4)


def test_getitem_matches_torch(torch):
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x, tx = ember.tensor(a), torch.tensor(a)
    mask = a > 10
    indices = [1, (0, 2), (slice(None), 1), (Ellipsis, 1), (None, 0), (0, slice(1, None, 2)),
               (slice(None), [0, 2]), ([1, 0], [2, 1]), (0, [0, 0, 2])]
    for index in indices:
        assert_close(x[index], tx[index], rtol=0, atol=0)
    assert_close(x[ember.tensor(mask)], tx[torch.tensor(mask)], rtol=0, atol=0)
    assert_close(x[ember.tensor([1, 0])], tx[torch.tensor([1, 0])], rtol=0, atol=0)


def test_getitem_is_differentiable_and_accumulates_repeats(torch):
    x = ember.arange(5.0, requires_grad=True)
    x[ember.tensor([0, 2, 2, 4])].sum().backward()
    assert x.grad.tolist() == [1, 0, 2, 0, 1]


def test_basic_indexing_gives_views():
    t = ember.zeros(3, 4)
    row = t[1]
    row.add_(7)
    assert t[1].tolist() == [7, 7, 7, 7]


def test_index_out_of_range_names_the_shape():
    with pytest.raises(IndexError, match=r"shape \(3,\)"):
        ember.zeros(3)[5]


def test_to_dtype_and_device():
    t = ember.tensor([1.7, -2.2])
    assert t.to(ember.int64).tolist() == [1, -2]
    assert t.to("cpu") is t
    assert t.to(ember.float64).dtype is ember.float64 and t.double().dtype is ember.float64
    assert t.to(ember.zeros(1, dtype=ember.float16)).dtype is ember.float16
    copy = t.to(ember.float32, copy=True)
    assert copy is not t and copy.tolist() == t.tolist()
    with pytest.raises(ember.DeviceError, match="unknown device type 'tpu'"):
        t.to("tpu")


def test_cast_is_differentiable():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x.to(ember.float64) * 3).sum().backward()
    assert x.grad.dtype is ember.float32 and x.grad.tolist() == [3, 3]


def test_cuda_device_is_known_but_reports_unavailable_without_a_gpu():
    backend = ember.device("cuda").backend
    if backend.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ember.DeviceError, match="not available"):
        ember.zeros(1, device="cuda")


def test_bool_and_len_and_iteration():
    assert bool(ember.tensor([1.0])) and not bool(ember.tensor(0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ember.ones(2))
    assert len(ember.zeros(4, 2)) == 4
    assert [row.tolist() for row in ember.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]
    assert float(ember.tensor(2.5)) == 2.5 and int(ember.tensor(3)) == 3


def test_requires_grad_only_for_floating_tensors():
    with pytest.raises(RuntimeError, match="floating point"):
        ember.ones(2, dtype=ember.int64, requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2]).requires_grad_()


def test_legacy_constructor_and_new_factories(torch):
    assert ember.Tensor([1, 2]).dtype is ember.float32 and ember.Tensor(2, 3).shape == (2, 3)
    base = ember.ones(2, dtype=ember.float64)
    assert base.new_zeros(3).dtype is ember.float64 and base.new_ones((1, 2)).shape == (1, 2)
    assert base.new_full((2,), 4).tolist() == [4.0, 4.0]
    assert base.new_tensor([1, 2]).dtype is ember.float64
    assert ember.ones(1).type_as(base).dtype is ember.float64
    assert ember.ones(1).get_device() == torch.ones(1).get_device() == -1
