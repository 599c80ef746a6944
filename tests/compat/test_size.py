"""Shapes stay shapes: slicing, concatenating and repeating a ``Size`` give a ``Size``, as in PyTorch
(scripts print ``x.shape[1:]`` and call ``.numel()`` on it)."""

import pytest

import ember

EXPRESSIONS = ["s[1:]", "s[::-1]", "s[0]", "s[-1]", "s + (5,)", "(1,) + s", "s * 2", "2 * s", "s + S([1])",
               "s.count(2)", "s.index(3)", "s == (2, 3, 4)", "list(s)", "s[1:].numel()", "len(s[:0])"]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_size_operations_match_pytorch(torch, expression):
    ours = eval(expression, {"s": ember.ones(2, 3, 4).shape, "S": ember.Size})
    theirs = eval(expression, {"s": torch.ones(2, 3, 4).shape, "S": torch.Size})
    assert type(ours).__name__ == type(theirs).__name__
    assert ours == theirs
    if isinstance(theirs, torch.Size):
        assert repr(ours).replace("ember.", "torch.") == repr(theirs)
