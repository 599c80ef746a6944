"""dtypes and PyTorch's type promotion, checked against torch.result_type."""

import itertools

import pytest

import ember

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def test_default_dtype_is_float32():
    assert ember.get_default_dtype() is ember.float32
    assert ember.tensor([1.0, 2.0]).dtype is ember.float32
    assert ember.tensor([1, 2]).dtype is ember.int64
    assert ember.tensor([True]).dtype is ember.bool
    assert ember.zeros(2).dtype is ember.float32


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_promotion_of_two_tensors_matches_torch(torch, a, b):
    x, y = ember.zeros(2, dtype=getattr(ember, a)), ember.zeros(2, dtype=getattr(ember, b))
    expected = torch.result_type(torch.zeros(2, dtype=getattr(torch, a)), torch.zeros(2, dtype=getattr(torch, b)))
    assert ember.result_type(x, y).name == str(expected).replace("torch.", "")
    if a != "bool" or b != "bool":
        assert (x + y).dtype.name == str(expected).replace("torch.", "")


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("scalar", [True, 2, 2.5])
def test_python_scalars_are_weak(torch, a, scalar):
    x = ember.zeros(2, dtype=getattr(ember, a))
    expected = torch.result_type(torch.zeros(2, dtype=getattr(torch, a)), scalar)
    assert ember.result_type(x, scalar).name == str(expected).replace("torch.", "")
    if not (a == "bool" and scalar is True):
        assert (x * scalar).dtype.name == str(expected).replace("torch.", "")


@pytest.mark.parametrize("dim_dtype,zero_dtype", [("float32", "float64"), ("int32", "int64"), ("int64", "float64"),
                                                  ("uint8", "int8"), ("float16", "float32")])
def test_zero_dim_tensors_only_win_across_categories(torch, dim_dtype, zero_dtype):
    x = ember.zeros(3, dtype=getattr(ember, dim_dtype))
    z = ember.tensor(1, dtype=getattr(ember, zero_dtype))
    expected = torch.result_type(torch.zeros(3, dtype=getattr(torch, dim_dtype)),
                                 torch.tensor(1, dtype=getattr(torch, zero_dtype)))
    assert (x + z).dtype.name == str(expected).replace("torch.", "")


def test_integer_true_division_gives_default_float():
    assert (ember.tensor([1, 2]) / 2).dtype is ember.float32
    assert (ember.tensor([1, 2]) / ember.tensor([2, 4])).tolist() == [0.5, 0.5]


def test_set_default_dtype_rejects_integers_and_changes_factories():
    with pytest.raises(TypeError, match="floating"):
        ember.set_default_dtype(ember.int64)
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.tensor([1.5]).dtype is ember.float64
        assert ember.ones(1).dtype is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)


def test_dtype_aliases_and_repr():
    assert ember.float is ember.float32 and ember.double is ember.float64 and ember.long is ember.int64
    assert repr(ember.float64) == "ember.float64"
    assert ember.float32.is_floating_point and not ember.int8.is_floating_point
    assert ember.float16.itemsize == 2
