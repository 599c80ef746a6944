"""ember.fx traces as torch.fx does: the same node kinds, names and module/attribute targets for the same
program, generated code that computes the module's values, editable graphs and an Interpreter."""

import numpy as np
import pytest

import ember


def _program(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)
            self.scale = nn.Parameter(lib.ones(3))
            self.head = nn.Sequential(nn.ReLU(), nn.Linear(3, 2))

        def forward(self, x):
            y = self.fc(x) * self.scale
            y = F.relu(y) + lib.sigmoid(y)
            y = y.view(y.size(0), -1)
            return self.head(y + 1)
    return Net()


def test_trace_matches_torch_fx_structure(torch):
    e = ember.fx.symbolic_trace(_program(ember))
    t = torch.fx.symbolic_trace(_program(torch))
    assert [(n.op, n.name) for n in e.graph.nodes] == [(n.op, n.name) for n in t.graph.nodes]
    for en, tn in zip(e.graph.nodes, t.graph.nodes):
        if en.op in ("call_module", "get_attr", "call_method"):
            assert en.target == tn.target
        assert len(en.users) == len(tn.users)
    assert sorted(e.state_dict()) == sorted(t.state_dict())


def test_graph_module_and_interpreter_compute_the_module(torch):
    model = _program(ember)
    gm = ember.fx.symbolic_trace(model)
    x = ember.randn(5, 4)
    np.testing.assert_allclose(gm(x).detach().numpy(), model(x).detach().numpy())
    np.testing.assert_allclose(ember.fx.Interpreter(gm).run(x).detach().numpy(), model(x).detach().numpy())
    assert "def forward(self, x)" in gm.code


def test_graphs_can_be_edited_and_recompiled():
    gm = ember.fx.symbolic_trace(_program(ember))
    for node in gm.graph.nodes:
        if node.op == "call_function" and node.target is ember.relu:
            with gm.graph.inserting_after(node):
                new = gm.graph.call_function(ember.nn.functional.gelu, node.args)
            node.replace_all_uses_with(new)
            gm.graph.erase_node(node)
    gm.graph.lint()
    gm.recompile()
    assert "gelu" in gm.code and "relu(" not in gm.code.replace("ReLU", "")
    assert tuple(gm(ember.randn(2, 4)).shape) == (2, 2)


def test_control_flow_on_proxies_is_refused_and_ops_are_restored():
    class Branchy(ember.nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x
    with pytest.raises(ember.fx.proxy.TraceError, match="control flow"):
        ember.fx.symbolic_trace(Branchy())
    assert not hasattr(ember.relu, "__ember_fx__") and ember.nn.Module.__call__.__name__ == "__call__"


def test_functions_trace_and_wrap_keeps_a_function_whole():
    def double_then_add(x, y):
        return helper(x) + y
    graph_module = ember.fx.symbolic_trace(double_then_add)
    assert [n.op for n in graph_module.graph.nodes].count("call_function") == 2
    np.testing.assert_allclose(graph_module(ember.ones(2), ember.ones(2)).numpy(), [3.0, 3.0])


def helper(x):
    return x * 2


ember.fx.wrap("helper")
