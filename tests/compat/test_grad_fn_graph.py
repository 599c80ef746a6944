"""Code that walks the autograd graph (the 60-minute blitz's ``loss.grad_fn.next_functions[0][0]``,
graph-drawing helpers) sees PyTorch's structure: one ``(node, output_nr)`` pair per input, ``None``
where no gradient flows, and ``AccumulateGrad`` nodes holding the leaves as ``variable``."""

import re

import ember


def _walk(grad_fn):
    """The graph below ``grad_fn`` as nested (name, children) tuples, names without addresses."""
    if grad_fn is None:
        return None
    name = re.sub(r" object at 0x[0-9a-f]+", "", repr(grad_fn))
    return name, tuple((_walk(fn), nr) for fn, nr in grad_fn.next_functions)


def _graph(lib):
    x = lib.ones(3, requires_grad=True)
    w = lib.full((3,), 0.5, requires_grad=True)
    y = ((x * 2 + lib.ones(3)) * w).sum()
    return x, w, y


def test_next_functions_match_pytorch(torch):
    assert _walk(_graph(ember)[2].grad_fn) == _walk(_graph(torch)[2].grad_fn)


def test_accumulate_grad_holds_the_leaf():
    x, w, y = _graph(ember)
    mul = y.grad_fn.next_functions[0][0]
    leaves = [fn.variable for fn, _ in mul.next_functions if type(fn).__name__ == "AccumulateGrad"]
    assert len(leaves) == 1 and leaves[0] is w
    assert mul.next_functions[0][0].next_functions[0][0].next_functions[0][0].variable is x
