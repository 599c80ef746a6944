"""``out=`` with PyTorch's rules, on every op that has it in PyTorch and on the creation functions.

Every registered op bound in ``ember`` / ``ember.linalg`` is called with ``out=`` from its first declared
sample; ember must accept ``out=`` exactly where torch does, return ``out`` itself and hold torch's
values in it. Then the rules: resize of an empty (or, with a warning, a mis-shaped) ``out``, the dtype
checks, and no autograd through ``out=``.
"""

import warnings

import numpy as np
import pytest

import ember
from ember.plugins import registries
from ember.testing import SampleMaker
from ember.testing.conformance import to_torch

PUBLIC = sorted((name, place) for name, e in registries["ops"].entries.items()
                for place in e.obj.namespaces if place in ("ember", "linalg"))


# PyTorch has out= on some overloads of these only; ember takes it on all of them.
PARTIAL_OUT = {"sum", "prod", "argsort", "median", "repeat_interleave"}


def _detached(value):
    if isinstance(value, ember.Tensor):
        return value.detach()
    if isinstance(value, (tuple, list)):
        return type(value)(_detached(v) for v in value)
    return value


def _first_sample(op):
    sample = next(iter(op.samples(SampleMaker(dtype=ember.float64))))
    return _detached(sample.args), _detached(dict(sample.kwargs))


def _function(lib, name, place):
    if place == "linalg":  # ATen's naming: the op "linalg_svd" is linalg.svd
        return getattr(lib.linalg, name[len("linalg_"):] if name.startswith("linalg_") else name)
    return getattr(lib, name)


def _empty_like_result(lib, result):
    if isinstance(result, tuple):
        return tuple(_empty_like_result(lib, r) for r in result)
    return lib.empty(0, dtype=getattr(lib, str(result.dtype).split(".")[-1]))


def _flat(value):
    return list(value) if isinstance(value, tuple) else [value]


@pytest.mark.parametrize("name,place", PUBLIC)
def test_out_where_torch_has_it(torch, name, place):
    op = registries["ops"][name]
    if op.torch is None:
        pytest.skip("no PyTorch counterpart")
    args, kwargs = _first_sample(op)
    try:
        t_fn = _function(torch, name, place)
    except AttributeError:  # e.g. ember.expand, bound for its alias torch.broadcast_to
        pytest.skip(f"torch has no {place}.{name}")
    t_args, t_kwargs = to_torch(args), to_torch(kwargs)
    try:
        expected = t_fn(*t_args, **t_kwargs)
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"torch rejects the sample: {exc}")
    if not isinstance(expected, (torch.Tensor, tuple)) or isinstance(expected, tuple) and not all(
            isinstance(e, torch.Tensor) for e in expected):
        pytest.skip("not a tensor-valued op")
    t_out = _empty_like_result(torch, expected)
    try:
        t_fn(*t_args, **t_kwargs, out=t_out)
        torch_has_out = True
    except TypeError:
        torch_has_out = False
    fn = _function(ember, name, place)
    result = fn(*args, **kwargs)
    out = _empty_like_result(ember, result)
    if not torch_has_out and name in PARTIAL_OUT:
        return
    if not torch_has_out:
        with pytest.raises(TypeError):
            fn(*args, **kwargs, out=out)
        return
    returned = fn(*args, **kwargs, out=out)
    for r, o, t in zip(_flat(returned), _flat(out), _flat(t_out)):
        assert r is o
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-6, atol=1e-6, equal_nan=True)


def _cases(T):
    x = T.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
    i = T.tensor([[0, 1, 0]])
    return {
        "add": lambda out: T.add(x, x, out=out),
        "add int": lambda out: T.add(i, i, out=out),
        "div int": lambda out: T.div(i + 1, i + 1, out=out),
        "eq": lambda out: T.eq(x, x, out=out),
        "exp int": lambda out: T.exp(i, out=out),
        "sqrt": lambda out: T.sqrt(x.abs(), out=out),
        "pow": lambda out: T.pow(x, 2, out=out),
        "sum": lambda out: T.sum(x, 0, out=out),
        "mean": lambda out: T.mean(x, 0, out=out),
        "std": lambda out: T.std(x, 0, out=out),
        "cat": lambda out: T.cat([x, x], out=out),
        "stack": lambda out: T.stack([x, x], out=out),
        "mm": lambda out: T.mm(x, x.T, out=out),
        "matmul": lambda out: T.matmul(x, x.T, out=out),
        "bmm": lambda out: T.bmm(x[None], x.T[None], out=out),
        "where": lambda out: T.where(x > 0, x, x, out=out),
        "clamp": lambda out: T.clamp(x, 0, 1, out=out),
        "gather": lambda out: T.gather(x, 0, i, out=out),
        "index_select": lambda out: T.index_select(x, 0, i[0, :1], out=out),
        "argmax": lambda out: T.argmax(x, 0, out=out),
        "softmax": lambda out: T.softmax(x, 0, out=out),
        "zeros": lambda out: T.zeros(2, 3, out=out),
        "zeros with dtype": lambda out: T.zeros(2, 3, dtype=T.float32, out=out),
        "ones": lambda out: T.ones(2, out=out),
        "full": lambda out: T.full((2,), 3, out=out),
        "arange": lambda out: T.arange(5, out=out),
        "linspace": lambda out: T.linspace(0, 1, 5, out=out),
        "eye": lambda out: T.eye(2, out=out),
    }


@pytest.mark.parametrize("case", list(_cases(ember)))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_out_dtype_rules_match_torch(torch, case, dtype):
    def run(T):
        out = T.empty(0, dtype=getattr(T, dtype))
        try:
            return out, _cases(T)[case](out)
        except Exception as exc:  # noqa: BLE001 - the exception is the result compared
            return out, exc
    t_out, expected = run(torch)
    out, got = run(ember)
    if isinstance(expected, Exception):
        assert isinstance(got, type(expected)), f"torch raised {expected!r}, ember gave {got!r}"
        return
    assert got is out, f"torch accepted it; ember gave {got!r}"
    assert str(out.dtype).split(".")[-1] == dtype
    np.testing.assert_allclose(out.numpy(), t_out.numpy(), rtol=1e-6)  # torch may compute in out's dtype


def test_out_of_another_shape_is_resized_with_a_warning():
    out = ember.empty(5)
    with pytest.warns(UserWarning, match="resized"):
        ember.add(ember.ones(2, 3), 1, out=out)
    assert tuple(out.shape) == (2, 3)


def test_empty_out_is_resized_silently_and_same_shape_out_keeps_its_memory():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ember.empty(0)
        ember.mul(ember.ones(2, 3), 2, out=out)
        assert tuple(out.shape) == (2, 3)
        buffer = out.numpy()
        ember.mul(ember.ones(2, 3), 3, out=out)
    assert (buffer == 3).all()


def test_out_refuses_autograd_like_torch(torch):
    for T in (torch, ember):
        x = T.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="out="):
            T.add(x, x, out=T.empty(0))
        with pytest.raises(RuntimeError, match="out="):
            T.add(x.detach(), 1, out=T.empty(0, requires_grad=True))
        with T.no_grad():
            assert T.add(x, x, out=T.empty(0)).tolist() == [2.0, 2.0]


def test_multi_output_out_returns_the_named_tuple_of_outs():
    x = ember.tensor([[1.0, 5.0], [3.0, 2.0]])
    values, indices = ember.empty(0), ember.empty(0, dtype=ember.int64)
    result = ember.max(x, 1, out=(values, indices))
    assert result.values is values and result.indices is indices
    assert values.tolist() == [5.0, 3.0] and indices.tolist() == [1, 0]


def test_factories_take_out_dtype_and_refuse_a_different_dtype(torch):
    out = ember.empty(0, dtype=ember.int32)
    assert ember.randint(5, (4,), out=out) is out and out.dtype is ember.int32
    assert ember.randn(3, out=ember.empty(0, dtype=ember.float64)).dtype is ember.float64
    assert ember.randperm(3, out=ember.empty(0, dtype=ember.int32)).tolist() != []
    with pytest.raises(RuntimeError):
        torch.zeros(2, dtype=torch.float32, out=torch.empty(0, dtype=torch.int64))
    with pytest.raises(RuntimeError):
        ember.zeros(2, dtype=ember.float32, out=ember.empty(0, dtype=ember.int64))
