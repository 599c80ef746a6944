"""``Tracer`` and ``symbolic_trace`` (``torch.fx``): run a module's forward on proxies and record a graph.

While tracing, the ops bound from ember's registry (``ember.*``, ``Tensor`` methods and operators,
``ember.nn.functional.*``) and the functions registered with :func:`wrap` are swapped for wrappers that
record a ``call_function`` node when a proxy is among their arguments; ``Module.__call__`` records a
``call_module`` node for leaf modules (ember's own layers, except containers) and traces into the
others. Parameters and buffers met as arguments become ``get_attr`` nodes. Everything is restored when
tracing ends.
"""

from __future__ import annotations

import functools
import inspect
import operator

from .. import nn
from ..nn.module import Module
from ..nn.parameter import Parameter
from ..tensor import Tensor
from .graph import Graph
from .node import map_aggregate
from .proxy import Proxy, TraceError

__all__ = ["Tracer", "symbolic_trace", "wrap"]

_wrapped: list = []  # (globals dict, name) registered with wrap()
_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")


def wrap(fn_or_name):
    """Record calls of a module-level function as ``call_function`` nodes instead of tracing through it
    (``torch.fx.wrap``); call at module scope with the function or its name."""
    if callable(fn_or_name):
        _wrapped.append((fn_or_name.__globals__, fn_or_name.__name__))
        return fn_or_name
    frame = inspect.currentframe().f_back
    _wrapped.append((frame.f_globals, fn_or_name))
    return fn_or_name


def _find_proxy(args, kwargs):
    found = []
    map_aggregate((args, kwargs), lambda x: found.append(x) if isinstance(x, Proxy) else None)
    return found[0] if found else None


_REFLECTED = {"radd": "add", "rsub": "sub", "rmul": "mul", "rtruediv": "truediv", "rfloordiv": "floordiv",
              "rpow": "pow", "rmatmul": "matmul", "rmod": "mod", "rand": "and_", "ror": "or_", "rxor": "xor"}


def _recording(fn, attr):
    """``fn`` that records a node when called with a proxy (dunders as ``operator`` functions)."""
    target, swap = fn, False
    if attr.startswith("__") and attr.endswith("__"):
        core = attr[2:-2]
        if core in _REFLECTED:
            target, swap = getattr(operator, _REFLECTED[core]), True
        elif hasattr(operator, core) or hasattr(operator, core + "_"):
            target = getattr(operator, core, None) or getattr(operator, core + "_")
        elif core.startswith("i") and hasattr(operator, core):
            target = getattr(operator, core)

    @functools.wraps(fn)
    def recorder(*args, **kwargs):
        proxy = _find_proxy(args, kwargs)
        if proxy is None:
            return fn(*args, **kwargs)
        if swap and len(args) == 2:
            args = (args[1], args[0])
        return proxy.tracer.create_proxy("call_function", target, args, kwargs)
    recorder.__ember_fx__ = fn
    return recorder


def _is_builtin_layer(cls) -> bool:
    """Whether ``cls`` is one of ember's layers (PyTorch's leaves are ``torch.nn``'s): defined in
    ``ember.nn`` or published there by a layers plugin under its own name (user subclasses are not)."""
    return cls.__module__.startswith("ember.nn") or getattr(nn, cls.__name__, None) is cls


class Tracer:
    """Records a graph from a module or function (``torch.fx.Tracer``); subclass and override
    :meth:`is_leaf_module` to choose which modules appear as ``call_module`` nodes."""

    def __init__(self, autowrap_modules=(), autowrap_functions=(), param_shapes_constant=False):
        self.graph = None
        self.root = None
        self._attr_names: dict = {}

    def is_leaf_module(self, m, module_qualified_name: str) -> bool:
        cls = type(m)
        return _is_builtin_layer(cls) and cls.__name__ not in _CONTAINERS

    def path_of_module(self, mod) -> str:
        for name, m in self.root.named_modules():
            if m is mod:
                return name
        raise NameError("module is not installed as a submodule")

    def create_arg(self, a):
        def convert(x):
            if isinstance(x, Proxy):
                return x.node
            if isinstance(x, Tensor) and id(x) in self._attr_names:
                return self.graph.get_attr(self._attr_names[id(x)])
            if isinstance(x, Parameter):
                raise NameError("parameter is not a member of the traced module")
            return x
        return map_aggregate(a, convert)

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        return self.graph.create_node(kind, target, args, kwargs, name, type_expr)

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, proxy_factory_fn=None):
        node = self.create_node(kind, target, self.create_arg(tuple(args)), self.create_arg(dict(kwargs)), name,
                                type_expr)
        return Proxy(node, self)

    def call_module(self, m, forward, args, kwargs):
        qualname = self.path_of_module(m)
        if not self.is_leaf_module(m, qualname):
            return forward(*args, **kwargs)
        return self.create_proxy("call_module", qualname, args, kwargs)

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        return attr_val

    def trace(self, root, concrete_args=None) -> Graph:
        from .. import plugins
        self.root = root if isinstance(root, Module) else Module()
        fn = type(root).forward if isinstance(root, Module) else root
        self.graph = Graph(tracer_cls=type(self))
        self._attr_names = {id(t): n for n, t in list(self.root.named_parameters()) + list(self.root.named_buffers())}
        params = list(inspect.signature(fn).parameters.values())
        if isinstance(root, Module):
            params = params[1:]
        concrete_args = concrete_args or {}
        args = []
        for p in params:
            if p.name in concrete_args:
                args.append(concrete_args[p.name])
            elif p.kind is inspect.Parameter.VAR_POSITIONAL or p.kind is inspect.Parameter.VAR_KEYWORD:
                raise TraceError(f"symbolic_trace: *args/**kwargs ({p.name}) are not supported; pass concrete_args")
            else:
                default = () if p.default is inspect.Parameter.empty else (p.default,)
                args.append(self.create_proxy("placeholder", p.name, default, {}))
        patches = self._patch(plugins._bound)
        try:
            result = fn(root, *args) if isinstance(root, Module) else fn(*args)
        finally:
            for namespace, attr, original in reversed(patches):
                if isinstance(namespace, dict):
                    namespace[attr] = original
                else:
                    setattr(namespace, attr, original)
        self.create_node("output", "output", (self.create_arg(result),), {})
        return self.graph

    def _patch(self, bound) -> list:
        patches = []
        for namespace, attr, _ in bound:
            current = namespace.__dict__.get(attr) if isinstance(namespace, type) else getattr(namespace, attr, None)
            if callable(current) and not isinstance(current, type) and not hasattr(current, "__ember_fx__"):
                patches.append((namespace, attr, current))
                setattr(namespace, attr, _recording(current, attr))
        for globals_, name in _wrapped:
            if name in globals_ and not hasattr(globals_[name], "__ember_fx__"):
                patches.append((globals_, name, globals_[name]))
                globals_[name] = _recording(globals_[name], name)
        tracer = self
        original_call = Module.__call__

        def module_call(m, *args, **kwargs):
            return tracer.call_module(m, lambda *a, **k: original_call(m, *a, **k), args, kwargs)
        patches.append((Module, "__call__", original_call))
        Module.__call__ = module_call
        return patches


def symbolic_trace(root, concrete_args=None):
    """Trace ``root`` (a Module or function) into a :class:`GraphModule` (``torch.fx.symbolic_trace``)."""
    from .graph_module import GraphModule
    tracer = Tracer()
    graph = tracer.trace(root, concrete_args)
    name = type(root).__name__ if isinstance(root, Module) else root.__name__
    return GraphModule(tracer.root, graph, name)
