"""``ember.fx``: symbolic tracing and graph transformation with ``torch.fx``'s interface.

``symbolic_trace(module)`` records the module's forward as a :class:`Graph` of :class:`Node` objects and
returns a :class:`GraphModule` that runs generated Python code for it; graphs can be edited (insert,
replace, erase nodes) and recompiled, or run node by node with an :class:`Interpreter`. Tracing works as
PyTorch's does: on proxies, recording ember ops, Tensor methods, operators and leaf-module calls, and
refusing data-dependent control flow (:class:`proxy.TraceError`). Not provided: subgraph rewriting
(``replace_pattern``), ``fx.experimental`` and the passes package.
"""

from . import graph, node, proxy  # noqa: F401
from .graph import Graph
from .graph_module import GraphModule
from .interpreter import Interpreter
from .node import Node, map_arg
from .proxy import Proxy
from .tracer import Tracer, symbolic_trace, wrap

__all__ = ["symbolic_trace", "Tracer", "Graph", "GraphModule", "Node", "Proxy", "Interpreter", "wrap", "map_arg"]
