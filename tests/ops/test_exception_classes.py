"""ember raises an instance of the exception class PyTorch raises (a subclass is fine), so that
``except RuntimeError`` (or ``AssertionError``, ``IndexError``...) written for PyTorch keeps working;
and accepts what PyTorch accepts. Each case runs the same lambda on ember and on torch."""

import pytest

import ember


def _nonleaf_requires_grad(T, flag):
    b = T.ones(2, requires_grad=True) * 2
    b.requires_grad = flag


def _x4(T):
    return T.ones(1, 1, 4, 4)


CASES = {
    "pad: more than two per dim": lambda T, F: F.pad(T.ones(2, 3), (1, 1, 1, 1, 1, 1)),
    "pad: odd length": lambda T, F: F.pad(T.ones(2, 3), (1, 1, 1)),
    "pad: reflect wider than input": lambda T, F: F.pad(T.ones(1, 2, 3), (3, 3), mode="reflect"),
    "max_pool2d: padding > kernel/2": lambda T, F: F.max_pool2d(_x4(T), 2, padding=2),
    "avg_pool2d: padding > kernel/2": lambda T, F: F.avg_pool2d(_x4(T), 2, padding=2),
    "max_pool2d: zero kernel": lambda T, F: F.max_pool2d(_x4(T), 0),
    "max() of empty": lambda T, F: T.tensor([]).max(),
    "min() of empty": lambda T, F: T.tensor([]).min(),
    "argmax() of empty": lambda T, F: T.tensor([]).argmax(),
    "amax() of empty": lambda T, F: T.tensor([]).amax(),
    "int mean": lambda T, F: T.tensor([1, 2]).mean(),
    "int std": lambda T, F: T.tensor([1, 2]).std(),
    "embedding: padding_idx out of range": lambda T, F: F.embedding(T.tensor([0]), T.ones(3, 2), padding_idx=5),
    "Embedding: padding_idx out of range": lambda T, F: T.nn.Embedding(3, 2, padding_idx=5),
    "Embedding: negative padding_idx out of range": lambda T, F: T.nn.Embedding(3, 2, padding_idx=-4),
    "cross_entropy: probabilities with ignore_index >= 0":
        lambda T, F: F.cross_entropy(T.ones(2, 3), T.full((2, 3), 1 / 3), ignore_index=1),
    "cross_entropy: probabilities with ignore_index -1":
        lambda T, F: F.cross_entropy(T.ones(2, 3), T.full((2, 3), 1 / 3), ignore_index=-1),
    "cross_entropy: negative label_smoothing":
        lambda T, F: F.cross_entropy(T.tensor([[1.0, 2, 3], [0, 1, 0]]), T.tensor([0, 1]), label_smoothing=-0.1),
    "cross_entropy: negative label_smoothing, probabilities":
        lambda T, F: F.cross_entropy(T.tensor([[1.0, 2, 3], [0, 1, 0]]), T.tensor([[0.2, 0.3, 0.5], [0, 1, 0]]),
                                     label_smoothing=-0.1),
    "cross_entropy: label_smoothing > 1":
        lambda T, F: F.cross_entropy(T.ones(2, 3), T.tensor([0, 1]), label_smoothing=1.5),
    "nonleaf.requires_grad = True": lambda T, F: _nonleaf_requires_grad(T, True),
    "nonleaf.requires_grad = False": lambda T, F: _nonleaf_requires_grad(T, False),
    "int requires_grad_": lambda T, F: T.tensor([1, 2]).requires_grad_(),
    "matmul shapes": lambda T, F: T.ones(2, 3) @ T.ones(2, 3),
    "matmul dtypes": lambda T, F: T.ones(2, 2) @ T.ones(2, 2, dtype=T.int64),
    "cat sizes": lambda T, F: T.cat([T.ones(2, 3), T.ones(3, 2)]),
    "view size": lambda T, F: T.ones(2, 3).view(4),
    "index out of range": lambda T, F: T.ones(3)[5],
    "gather index out of range": lambda T, F: T.ones(3).gather(0, T.tensor([5])),
    "dim out of range": lambda T, F: T.ones(3).sum(2),
    "conv2d channels": lambda T, F: F.conv2d(T.ones(1, 2, 4, 4), T.ones(1, 3, 3, 3)),
    "bool - bool": lambda T, F: T.tensor([True]) - T.tensor([True]),
    "-bool": lambda T, F: -T.tensor([True]),
    "float & float": lambda T, F: T.ones(2) & T.ones(2),
    "softmax of int": lambda T, F: F.softmax(T.tensor([1, 2]), 0),
    "broadcast": lambda T, F: T.ones(2) + T.ones(3),
    "nll_loss float target": lambda T, F: F.nll_loss(T.ones(2, 3), T.ones(2)),
    "topk k > size": lambda T, F: T.ones(3).topk(5),
    "permute repeated dim": lambda T, F: T.ones(2, 3).permute(0, 0),
    "expand": lambda T, F: T.ones(2, 3).expand(3, 3),
    "stack sizes": lambda T, F: T.stack([T.ones(2), T.ones(3)]),
    "batch_norm running_mean size": lambda T, F: F.batch_norm(T.ones(2, 3), T.ones(4), T.ones(4)),
    "dropout p > 1": lambda T, F: F.dropout(T.ones(3), p=1.5),
    "one_hot negative class": lambda T, F: F.one_hot(T.tensor([-1]), 3),
    "chunk(0)": lambda T, F: T.ones(3).chunk(0),
    "split(-1)": lambda T, F: T.ones(3).split(-1),
    "narrow past the end": lambda T, F: T.ones(3).narrow(0, 2, 5),
    "index_select index out of range": lambda T, F: T.ones(3).index_select(0, T.tensor([5])),
    "index_select float index": lambda T, F: T.ones(3).index_select(0, T.tensor([0.0])),
    "item of many": lambda T, F: T.ones(3).item(),
    "randint low >= high": lambda T, F: T.randint(5, 3, (2,)),
    "arange step sign": lambda T, F: T.arange(0, 5, -1),
}


def _outcome(T, case):
    try:
        return CASES[case](T, T.nn.functional)
    except Exception as exc:  # noqa: BLE001 - the exception is the result compared
        return exc


@pytest.mark.parametrize("case", list(CASES))
def test_exception_class_matches_torch(torch, case):
    expected = _outcome(torch, case)
    got = _outcome(ember, case)
    if isinstance(expected, Exception):
        assert isinstance(got, type(expected)), f"{case}: torch raised {expected!r}, ember gave {got!r}"
    else:
        assert not isinstance(got, Exception), f"{case}: torch accepted it, ember raised {got!r}"
        if hasattr(expected, "item"):
            assert got.item() == pytest.approx(expected.item(), rel=1e-5)
