"""The op edge cases the reliability fuzz (issue 12) found, each run on ember and on torch: values, dtypes,
shapes, gradient shapes, and exception classes (ember's may be a subclass of torch's)."""

import math

import numpy as np
import pytest

import ember


def _grad_shapes(T, f, *shapes):
    xs = [T.zeros(*s, requires_grad=True) for s in shapes]
    f(T, *xs).sum().backward()
    return [tuple(x.grad.shape) if x.grad is not None else None for x in xs]


def _max_pool_all_padding(T):
    x = T.full((1, 1, 2, 2), -math.inf, requires_grad=True)
    T.nn.functional.max_pool2d(x, 2, stride=1, padding=1).sum().backward()
    return x.grad


def _cat_empty_grad(T):
    a, b = T.zeros(0, requires_grad=True), T.ones(2, requires_grad=True)
    T.cat([a, b]).sum().backward()
    return a.grad


def _F(T):
    return T.nn.functional


CASES = {
    "mse_loss with an integer target": lambda T: _F(T).mse_loss(T.tensor([0.5, 1.5, 2.5]), T.tensor([0, 0, 0]),
                                                               reduction="none"),
    "l1_loss with an integer target": lambda T: _F(T).l1_loss(T.tensor([0.5, 1.5, 2.5]), T.tensor([0, 0, 0]),
                                                             reduction="none"),
    "binary_cross_entropy above 1": lambda T: _F(T).binary_cross_entropy(T.tensor([1.5]), T.tensor([1.0])),
    "binary_cross_entropy of NaN": lambda T: _F(T).binary_cross_entropy(T.tensor([math.nan]), T.tensor([1.0])),
    "int // 0": lambda T: T.tensor([1]) // 0,
    "int % 0": lambda T: T.tensor([1]) % T.tensor([0]),
    "int fmod 0": lambda T: T.fmod(T.tensor([1]), 0),
    "int div trunc by 0": lambda T: T.tensor([1]).div(0, rounding_mode="trunc"),
    "int div floor by 0": lambda T: T.tensor([1]).div(T.tensor(0), rounding_mode="floor"),
    "float // 0": lambda T: T.tensor([1.0]) // 0,
    "empty int // 0": lambda T: T.zeros(0, dtype=T.int64) // T.zeros(3, 0, dtype=T.int64),
    "min(dim=1) of 0-d": lambda T: T.tensor(1.0).min(1),
    "cummin(dim=1) of 0-d": lambda T: T.tensor(1.0).cummin(1),
    "transpose of 0-d": lambda T: T.tensor(1.0).transpose(0, 2),
    "flatten(1) of 0-d": lambda T: T.tensor(1.0).flatten(1),
    "softmax(1) of 0-d": lambda T: T.tensor(1.0).softmax(1),
    "sum(-1) of 0-d": lambda T: T.tensor(1.0).sum(-1),
    "int ** -1": lambda T: T.tensor([2]) ** -1,
    "int ** tensor(-1)": lambda T: T.tensor([2, 1, -1, -1]) ** T.tensor([-1, -1, -1, -2]),
    "linear backward, zero in_features": lambda T: _grad_shapes(T, lambda T, x, w: _F(T).linear(x, w), (2, 0), (4, 0)),
    "linear backward, empty batch": lambda T: _grad_shapes(T, lambda T, x, w: _F(T).linear(x, w), (0, 3), (4, 3)),
    "embedding backward, no indices": lambda T: _grad_shapes(
        T, lambda T, w: _F(T).embedding(T.zeros(0, dtype=T.int64), w), (3, 2)),
    "avg_pool2d backward, empty batch": lambda T: _grad_shapes(T, lambda T, x: _F(T).avg_pool2d(x, 2), (0, 1, 4, 4)),
    "conv2d backward, empty batch": lambda T: _grad_shapes(T, lambda T, x, w: _F(T).conv2d(x, w), (0, 1, 4, 4),
                                                          (2, 1, 3, 3)),
    "max_pool2d backward, windows of padding and -inf": _max_pool_all_padding,
    "max_pool2d, empty batch": lambda T: _F(T).max_pool2d(T.zeros(0, 1, 4, 4), 2),
    "max_pool2d backward, empty batch": lambda T: _grad_shapes(T, lambda T, x: _F(T).max_pool2d(x, 2), (0, 1, 4, 4)),
    "index_select of 0-d": lambda T: T.tensor(5.0).index_select(0, T.tensor([0])),
    "topk(k=0) of 0-d": lambda T: T.tensor(5.0).topk(0).values,
    "batch_norm training, empty batch": lambda T: _F(T).batch_norm(T.zeros(0, 3), T.zeros(3), T.ones(3),
                                                                  training=True),
    "pad reflect, negative": lambda T: _F(T).pad(T.arange(12.0).reshape(1, 3, 4), (-1, 1), mode="reflect"),
    "pad replicate, negative": lambda T: _F(T).pad(T.arange(12.0).reshape(1, 3, 4), (-1, 2), mode="replicate"),
    "pad circular, negative": lambda T: _F(T).pad(T.arange(12.0).reshape(1, 3, 4), (1, -2), mode="circular"),
    "masked_fill of 0-d, broadcast mask": lambda T: T.tensor(1.0).masked_fill(T.tensor([[True, False]]), 0.0),
    "sign of bool": lambda T: T.tensor([True, False]).sign(),
    "sign of NaN": lambda T: T.tensor([math.nan, -2.0, 0.0]).sign(),
    "chunk along a 0-size dim": lambda T: [tuple(c.shape) for c in T.zeros(0, 3).chunk(3, 0)],
    "cat: empty input's grad": _cat_empty_grad,
    "any of uint8": lambda T: T.tensor([0, 2], dtype=T.uint8).any(),
    "all of uint8 along a dim": lambda T: T.tensor([[0, 2]], dtype=T.uint8).all(1),
    "relu of bool": lambda T: _F(T).relu(T.tensor([True, False])),
    "batch_norm of float16": lambda T: _F(T).batch_norm(T.ones(2, 3, dtype=T.float16), T.zeros(3), T.ones(3)),
    "elu of int": lambda T: _F(T).elu(T.tensor([1, -1])),
    "hardtanh of int keeps int": lambda T: _F(T).relu6(T.tensor([-3, 2, 9])),
    "threshold of NaN": lambda T: _F(T).threshold(T.tensor([math.nan, 0.5]), 0.1, 20.0),
    "floor of bool": lambda T: T.tensor([True]).floor(),
    "linalg.inv of float16": lambda T: T.linalg.inv(T.eye(2, dtype=T.float16)),
    "scatter reduce='multiply' (no derivative: no conformance sample)": lambda T: T.ones(2, 3).scatter(
        1, T.tensor([[0], [2]]), T.full((2, 1), 2.0), reduce="multiply"),
}


def _outcome(T, case):
    try:
        return CASES[case](T)
    except Exception as exc:  # noqa: BLE001 - the exception is the result compared
        return exc


def _plain(value):
    if hasattr(value, "detach"):
        return np.asarray(value.detach().numpy()), str(value.dtype).rsplit(".", 1)[-1]
    return value, None


@pytest.mark.parametrize("case", list(CASES))
def test_edge_case_matches_torch(torch, case):
    expected, got = _outcome(torch, case), _outcome(ember, case)
    if isinstance(expected, Exception):
        assert isinstance(got, type(expected)), f"{case}: torch raised {expected!r}, ember gave {got!r}"
        return
    assert not isinstance(got, Exception), f"{case}: torch gave {expected}, ember raised {got!r}"
    (e, e_dtype), (g, g_dtype) = _plain(expected), _plain(got)
    assert g_dtype == e_dtype
    if isinstance(e, np.ndarray):
        assert g.shape == e.shape
        np.testing.assert_allclose(g.astype(np.float64), e.astype(np.float64), rtol=1e-3, equal_nan=True)
    else:
        assert g == e
