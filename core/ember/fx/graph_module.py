"""``GraphModule``: a Module whose forward is the code generated from an fx ``Graph``
(``torch.fx.GraphModule``). It copies from ``root`` the submodules, parameters and buffers the graph
refers to, under the same dotted names."""

from __future__ import annotations

import copy

from ..nn.module import Module
from .graph import Graph

__all__ = ["GraphModule"]


def _fetch(obj, path: str):
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _install(target: Module, path: str, value) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        if part not in target._modules:
            target.add_module(part, Module())
        target = target._modules[part]
    if isinstance(value, Module):
        target.add_module(leaf, value)
    elif type(value).__name__ == "Parameter":
        target.register_parameter(leaf, value)
    else:
        target.register_buffer(leaf, value)


class GraphModule(Module):
    def __init__(self, root, graph: Graph, class_name: str = "GraphModule"):
        super().__init__()
        self.__class__ = type(class_name, (GraphModule,), {})
        for node in graph.nodes:
            if node.op in ("call_module", "get_attr") and isinstance(root, Module):
                _install(self, node.target, _fetch(root, node.target))
            elif node.op in ("call_module", "get_attr"):
                _install(self, node.target, root[node.target])
        self._graph = graph
        graph.owning_module = self
        self.recompile()

    @property
    def graph(self) -> Graph:
        return self._graph

    @graph.setter
    def graph(self, g: Graph) -> None:
        self._graph = g
        g.owning_module = self
        self.recompile()

    @property
    def code(self) -> str:
        return self._code

    def recompile(self):
        """Regenerate ``code`` and ``forward`` from the graph (after editing it)."""
        python = self._graph.python_code("self")
        namespace = dict(python.globals)
        exec(compile(python.src, f"<eval_with_key>.{id(self)}", "exec"), namespace)  # noqa: S102 - our own codegen
        type(self).forward = namespace["forward"]
        object.__setattr__(self, "_code", python.src)
        return python

    def print_readable(self, print_output: bool = True) -> str:
        text = f"class {type(self).__name__}(ember.nn.Module):\n" + \
            "".join(f"    {line}\n" for line in self._code.splitlines())
        if print_output:
            print(text)
        return text

    def __deepcopy__(self, memo):
        fake = Module()
        fake.__dict__ = copy.deepcopy(self.__dict__, memo)
        return GraphModule(fake, fake.__dict__["_graph"], type(self).__name__)

    def __str__(self) -> str:
        return super().__str__() + "\n\n\n" + self._code
