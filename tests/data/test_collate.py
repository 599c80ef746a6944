"""default_collate and default_convert against torch.utils.data's, over a table of sample kinds: the
same container types (tuple vs list, dict subclasses, namedtuples), the same dtypes, values and errors."""

import collections

import numpy as np
import pytest

import ember
from ember.utils.data import default_collate, default_convert

Point = collections.namedtuple("Point", ["x", "label"])


class Tagged(list):
    """A list subclass: collation keeps the type."""


def tensors(fw):
    return [fw.tensor([1.0, 2.0]), fw.tensor([3.0, 4.0])]


SAMPLES = {
    "tensors": tensors,
    "int tensors": lambda fw: [fw.arange(3), fw.arange(3) * 2],
    "float32 arrays": lambda fw: [np.full((2, 3), i, np.float32) for i in range(3)],
    "int64 arrays": lambda fw: [np.arange(4) + i for i in range(2)],
    "bool arrays": lambda fw: [np.array([True, False]), np.array([False, False])],
    "uint8 arrays": lambda fw: [np.array([1, 255], np.uint8), np.array([0, 7], np.uint8)],
    "numpy float32 scalars": lambda fw: [np.float32(1.5), np.float32(-2)],
    "numpy int32 scalars": lambda fw: [np.int32(3), np.int32(4)],
    "numpy float64 scalars": lambda fw: [np.float64(0.25), np.float64(3)],
    "numpy bool scalars": lambda fw: [np.bool_(True), np.bool_(False)],
    "floats": lambda fw: [0.5, 1.5, 2.0],
    "ints": lambda fw: [1, 2, 3],
    "ints then a float": lambda fw: [1, 2.5],
    "bools": lambda fw: [True, False],
    "strings": lambda fw: ["a", "bc"],
    "bytes": lambda fw: [b"a", b"bc"],
    "numpy strings": lambda fw: [np.str_("a"), np.str_("b")],
    "tuples": lambda fw: [(np.ones(2, np.float32), 1, "a"), (np.zeros(2, np.float32), 2, "b")],
    "lists": lambda fw: [[1, 0.5, "x"], [2, 1.5, "y"]],
    "dicts": lambda fw: [{"x": np.float32(i), "n": i, "name": f"s{i}"} for i in range(3)],
    "ordered dicts": lambda fw: [collections.OrderedDict(b=i, a=float(i)) for i in range(2)],
    "default dicts": lambda fw: [collections.defaultdict(int, k=i) for i in range(2)],
    "namedtuples": lambda fw: [Point(1.0, "a"), Point(2.0, "b")],
    "list subclass": lambda fw: [Tagged([1, 2]), Tagged([3, 4])],
    "nested": lambda fw: [{"pair": (i, [f"w{i}", float(i)]), "point": Point(np.int64(i), (f"t{i}",)),
                           "t": fw.ones(2) * i} for i in range(3)],
    "tuple of tuples": lambda fw: [((1, "a"), (2.0, b"b")), ((3, "c"), (4.0, b"d"))],
    "tensor tuples": lambda fw: [(fw.ones(2), 0), (fw.zeros(2), 1)],
}

ERRORS = {
    "tensors of two shapes": lambda fw: [fw.ones(2), fw.ones(3)],
    "a tensor then a number": lambda fw: [fw.ones(2), 3],
    "arrays of two shapes": lambda fw: [np.ones((2, 3)), np.ones((2, 4))],
    "lists of two lengths": lambda fw: [[1, 2], [1, 2, 3]],
    "None": lambda fw: [None, None],
    "objects": lambda fw: [object(), object()],
    "string arrays": lambda fw: [np.array(["a"]), np.array(["b"])],
    "object arrays": lambda fw: [np.array([1, "a"], dtype=object)] * 2,
}


def same(ours, theirs, torch, where="batch"):
    """Structure, container types, dtypes and values agree (ember.Tensor standing for torch.Tensor)."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ember.Tensor), f"{where}: {type(ours).__name__}, torch gives a tensor"
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], where
        assert tuple(ours.shape) == tuple(theirs.shape), where
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=where)
        return
    assert type(ours) is type(theirs), f"{where}: {type(ours).__name__} where torch gives {type(theirs).__name__}"
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), where
        for key in theirs:
            same(ours[key], theirs[key], torch, f"{where}[{key!r}]")
        if isinstance(theirs, collections.defaultdict):
            assert ours.default_factory is theirs.default_factory, where
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            same(a, b, torch, f"{where}[{i}]")
    elif isinstance(theirs, np.ndarray):
        np.testing.assert_array_equal(ours, theirs, err_msg=where)
    else:
        assert ours == theirs, where


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_default_collate_returns_what_torch_returns(torch, kind):
    from torch.utils.data import default_collate as torch_collate
    same(default_collate(SAMPLES[kind](ember)), torch_collate(SAMPLES[kind](torch)), torch)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_default_convert_returns_what_torch_returns(torch, kind):
    from torch.utils.data import default_convert as torch_convert
    for ours, theirs in zip(SAMPLES[kind](ember), SAMPLES[kind](torch)):
        same(default_convert(ours), torch_convert(theirs), torch)


@pytest.mark.parametrize("kind", sorted(ERRORS))
def test_default_collate_refuses_what_torch_refuses_with_the_same_class(torch, kind):
    from torch.utils.data import default_collate as torch_collate
    with pytest.raises(Exception) as theirs:
        torch_collate(ERRORS[kind](torch))
    with pytest.raises(theirs.type):
        default_collate(ERRORS[kind](ember))


def test_numpy_samples_of_different_shapes_name_both_shapes_and_entries():
    with pytest.raises(RuntimeError, match=r"\(2, 3\) at entry 0 and shape \(2, 4\) at entry 2"):
        default_collate([np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 4))])


def test_tensors_of_different_shapes_name_both_shapes_and_entries():
    with pytest.raises(RuntimeError, match=r"\[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([ember.ones(2), ember.ones(3)])


def test_collate_takes_a_collate_fn_map_as_pytorch_does():
    from ember.utils.data._utils.collate import collate, default_collate_fn_map

    def halves(batch, *, collate_fn_map=None):
        return [x / 2 for x in batch]

    table = {**default_collate_fn_map, float: halves}
    assert collate([(1.0, 2), (3.0, 4)], collate_fn_map=table)[0] == [0.5, 1.5]
    assert collate([(1.0, 2), (3.0, 4)], collate_fn_map=table)[1].tolist() == [2, 4]


def test_collated_tensors_that_require_grad_keep_their_graph():
    a, b = ember.ones(2, requires_grad=True), ember.ones(2, requires_grad=True)
    default_collate([a, b]).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0] and b.grad.tolist() == [1.0, 1.0]
