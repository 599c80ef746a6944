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


def _blitz_loss(lib):
    """The 60-minute blitz's network tail: ``nn.Linear`` layers with ReLU, then ``nn.MSELoss``."""
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Linear(8, 6), lib.nn.ReLU(), lib.nn.Linear(6, 3))
    return lib.nn.MSELoss()(net(lib.randn(1, 8)), lib.randn(1, 3))


def test_the_blitz_walk_from_the_loss_sees_pytorchs_nodes(torch):
    """``loss.grad_fn.next_functions[0][0].next_functions[0][0]``, as the tutorial prints it: MseLoss,
    then addmm, whose first input is the bias (ATen's ``addmm(bias, input, weight.T)``), then its
    AccumulateGrad; the input's ReLU comes second."""
    names = []
    for lib in (ember, torch):
        fn = _blitz_loss(lib).grad_fn
        addmm = fn.next_functions[0][0]
        names.append((type(fn).__name__, type(addmm).__name__,
                      [type(f).__name__ for f, _ in addmm.next_functions[:2]]))
    assert names[0] == names[1] == ("MseLossBackward0", "AddmmBackward0", ["AccumulateGrad", "ReluBackward0"])
