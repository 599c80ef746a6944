"""``Proxy``: the value that flows through a function while fx traces it (``torch.fx.Proxy``). Every
operation on a proxy (an operator, a Tensor method, an ember op, a leaf module call) is recorded as a
node of the tracer's graph instead of being computed; using a proxy for control flow raises
:class:`TraceError`, as in PyTorch."""

from __future__ import annotations

import operator

__all__ = ["Proxy", "Attribute", "TraceError", "GraphAppendingTracer"]


class TraceError(ValueError):
    pass


class Proxy:
    def __init__(self, node, tracer=None):
        if tracer is None:
            tracer = GraphAppendingTracer(node.graph)
        self.node, self.tracer = node, tracer

    def __repr__(self) -> str:
        return f"Proxy({self.node.name})"

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return Attribute(self, name)

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", "__call__", (self,) + args, kwargs)

    def __iter__(self):
        raise TraceError("Proxy object cannot be iterated. This can be attempted when the Proxy is used in a loop "
                         "or as a *args or **kwargs function argument. See the torch.fx docs on pytorch.org for a "
                         "more detailed explanation of what types of control flow can be traced, and check out the "
                         "Proxy docstring for help troubleshooting Proxy iteration errors")

    def __bool__(self):
        raise TraceError("symbolically traced variables cannot be used as inputs to control flow")

    def __len__(self):
        raise RuntimeError("'len' is not supported in symbolic tracing by default. If you want this call to be "
                           "recorded, please call torch.fx.wrap('len') at module scope")

    def keys(self):
        return self.tracer.create_proxy("call_method", "keys", (self,), {})


class Attribute(Proxy):
    """``proxy.name``: a method when called (``call_method``), else a ``getattr`` node made on first use."""

    def __init__(self, root: Proxy, attr: str):
        self.root, self.attr, self.tracer = root, attr, root.tracer
        self._node = None

    @property
    def node(self):
        if self._node is None:
            self._node = self.tracer.create_proxy("call_function", getattr, (self.root, self.attr), {}).node
        return self._node

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", self.attr, (self.root,) + args, kwargs)


_BINARY = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_", "xor", "lshift",
           "rshift", "eq", "ne", "lt", "le", "gt", "ge", "getitem")
_UNARY = ("neg", "pos", "invert", "abs")


def _binary(name):
    target = getattr(operator, name)

    def forward(self, other):
        return self.tracer.create_proxy("call_function", target, (self, other), {})

    def reflected(self, other):
        return self.tracer.create_proxy("call_function", target, (other, self), {})
    return forward, reflected


for _name in _BINARY:
    _dunder = _name.rstrip("_")
    _fwd, _ref = _binary(_name)
    setattr(Proxy, f"__{_dunder}__", _fwd)
    if _name not in ("eq", "ne", "lt", "le", "gt", "ge", "getitem"):
        setattr(Proxy, f"__r{_dunder}__", _ref)
for _name in _UNARY:
    setattr(Proxy, f"__{_name}__", (lambda target: lambda self: self.tracer.create_proxy(
        "call_function", target, (self,), {}))(getattr(operator, _name)))
Proxy.__hash__ = object.__hash__


class GraphAppendingTracer:
    """The minimal tracer a Proxy made by hand uses: it appends nodes to ``graph``."""

    def __init__(self, graph):
        self.graph = graph
        self.root = None

    def create_arg(self, a):
        from .node import map_aggregate
        return map_aggregate(a, lambda x: x.node if isinstance(x, Proxy) else x)

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        return self.graph.create_node(kind, target, args, kwargs, name, type_expr)

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = self.create_node(kind, target, self.create_arg(tuple(args)), self.create_arg(dict(kwargs)), name,
                                type_expr)
        return Proxy(node, self)
