"""``a + b``, ``a - b``, ``a * b``, ``a / b`` run their primitive directly for two tensors of one dtype
(:func:`ember.primitive.binary_operator`): the result, errors and graph are those of the op's function."""

import numpy as np
import pytest

import ember
from ember.primitive import binary_operator

OPERATORS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
             "div": lambda a, b: a / b}
DTYPES = ["float32", "float64", "float16", "int64", "int32", "uint8", "bool"]


def _operands(dtype, shapes=((2, 3), (3,))):
    rng = np.random.default_rng(0)
    arrays = [rng.integers(1, 5, shape).astype(dtype) for shape in shapes]
    return [ember.tensor(x) for x in arrays], arrays


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_operator_matches_the_op_and_torch(name, dtype, torch):
    (a, b), (x, y) = _operands(dtype)
    fn = getattr(ember, name)
    try:
        expected = fn(a, b)
    except Exception as exc:  # the operator refuses what the function refuses, with the same error
        with pytest.raises(type(exc), match=str(exc)[:30].replace("(", r"\(").replace(")", r"\)")):
            OPERATORS[name](a, b)
        with pytest.raises(RuntimeError):
            OPERATORS[name](torch.from_numpy(x), torch.from_numpy(y))
        return
    got = OPERATORS[name](a, b)
    ref = OPERATORS[name](torch.from_numpy(x), torch.from_numpy(y))
    assert got.dtype is expected.dtype
    assert str(got.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    np.testing.assert_allclose(got.numpy().astype(np.float64), ref.numpy().astype(np.float64), rtol=1e-3)


def test_shapes_that_do_not_broadcast_give_the_ops_error():
    with pytest.raises(ember.errors.ShapeError, match=r"add\(\).*\(2,\) and \(3,\)"):
        ember.ones(2) + ember.ones(3)


def test_mixed_dtypes_and_numbers_are_promoted():
    assert (ember.ones(2, dtype=ember.int64) + ember.ones(2)).dtype is ember.float32
    assert (ember.ones(2, dtype=ember.int64) / ember.ones(2, dtype=ember.int64)).dtype is ember.float32
    assert (ember.ones(2, dtype=ember.int64) + 2.5).dtype is ember.float32


def test_zero_dim_operands_give_a_zero_dim_tensor():
    out = ember.tensor(1.5) + ember.tensor(2.0)
    assert isinstance(out.numpy(), np.ndarray) and out.shape == () and out.item() == 3.5


def test_recorded_graph_and_gradients(torch):
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = ember.tensor([3.0, 4.0], requires_grad=True)
    out = (a + b) * b - a / b
    assert type(out.grad_fn).__name__ == "SubBackward0"
    out.sum().backward()
    ta = torch.tensor([1.0, 2.0], requires_grad=True)
    tb = torch.tensor([3.0, 4.0], requires_grad=True)
    ((ta + tb) * tb - ta / tb).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-6)


def test_no_grad_records_nothing():
    a = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        out = a + a
    assert out.grad_fn is None and not out.requires_grad


def test_a_kernel_registered_for_the_primitive_is_used():
    from ember_ops.arithmetic import Add
    calls = []

    def kernel(xp, x, y):
        calls.append(1)
        return x + y

    saved = Add.kernels, Add.kernels_from_numel
    Add.kernels, Add.kernels_from_numel = {"cpu": kernel}, 0  # as binding sets them (the kernel declares no floor)
    try:
        out = ember.ones(2) + ember.ones(2)
    finally:
        Add.kernels, Add.kernels_from_numel = saved
    assert calls and out.tolist() == [2.0, 2.0]


def test_the_operator_names_the_op_it_runs():
    assert ember.Tensor.__add__.__name__ == "add"
    assert ember.Tensor.__add__.__wrapped__ is ember.add or ember.Tensor.__add__.__wrapped__.__name__ == "add"


def test_kinds_outside_the_declared_ones_take_the_function():
    seen = []

    def fallback(a, b):
        seen.append((a, b))
        return "fallback"

    from ember_ops.arithmetic import Add
    op = binary_operator(Add, fallback, "f")
    ints = ember.ones(2, dtype=ember.int64)
    assert op(ints, ints) == "fallback" and seen
    assert op(ints, 1) == "fallback"
    assert op(ember.ones(2), ember.ones(2)).tolist() == [2.0, 2.0]
    assert op(ember.ones(2), 1.5).tolist() == [2.5, 2.5]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32"])
@pytest.mark.parametrize("number", [1.5, 3, -2])
@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_a_python_number_gives_what_the_function_gives(name, dtype, number, torch):
    (a,), (x,) = _operands(dtype, shapes=((2, 3),))
    expected = getattr(ember, name)(a, number)
    got = OPERATORS[name](a, number)
    ref = OPERATORS[name](torch.from_numpy(x), number)
    assert got.dtype is expected.dtype
    assert str(got.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_gradients_through_a_python_number(torch):
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    ta = torch.tensor([1.0, 2.0], requires_grad=True)
    ((a * 3 + 0.5) / 2.0 - 1).sum().backward()
    ((ta * 3 + 0.5) / 2.0 - 1).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())
    assert type((a * 2.0).grad_fn).__name__ == "MulBackward0"
