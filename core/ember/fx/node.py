"""``Node``: one operation of an fx ``Graph`` (``torch.fx.Node``): its kind (``op``), ``target``, ``args``
and ``kwargs`` (which may hold other nodes), ``users``, and a ``meta`` dict for passes to annotate."""

from __future__ import annotations

__all__ = ["Node", "map_arg", "map_aggregate", "Target", "Argument"]

Target = object  # a callable, a method name, or a module / attribute path, as in torch.fx
Argument = object

OPS = ("placeholder", "get_attr", "call_function", "call_method", "call_module", "output")


def map_aggregate(a, fn):
    """``fn`` applied to every leaf of nested tuples, lists, dicts and slices in ``a``."""
    if isinstance(a, tuple):
        mapped = tuple(map_aggregate(x, fn) for x in a)
        return type(a)(*mapped) if hasattr(a, "_fields") else mapped
    if isinstance(a, list):
        return [map_aggregate(x, fn) for x in a]
    if isinstance(a, dict):
        return {k: map_aggregate(v, fn) for k, v in a.items()}
    if isinstance(a, slice):
        return slice(map_aggregate(a.start, fn), map_aggregate(a.stop, fn), map_aggregate(a.step, fn))
    return fn(a)


def map_arg(a, fn):
    """``fn`` applied to every Node inside ``a`` (other leaves kept)."""
    return map_aggregate(a, lambda x: fn(x) if isinstance(x, Node) else x)


class Node:
    def __init__(self, graph, name: str, op: str, target, args: tuple, kwargs: dict, type_expr=None):
        if op not in OPS:
            raise ValueError(f"fx.Node: op must be one of {OPS}, got {op!r}")
        self.graph, self.name, self.op, self.target = graph, name, op, target
        self.type = type_expr
        self.users: dict = {}
        self.meta: dict = {}
        self._args, self._kwargs = (), {}
        self._update(tuple(args), dict(kwargs))

    def _inputs(self) -> list:
        found = []
        map_arg((self._args, self._kwargs), lambda n: found.append(n) or n)
        return found

    def _update(self, args, kwargs):
        for old in self._inputs():
            old.users.pop(self, None)
        self._args, self._kwargs = args, kwargs
        for new in self._inputs():
            new.users.setdefault(self, None)

    args = property(lambda self: self._args, lambda self, v: self._update(tuple(v), self._kwargs))
    kwargs = property(lambda self: self._kwargs, lambda self, v: self._update(self._args, dict(v)))

    @property
    def all_input_nodes(self) -> list:
        return list(dict.fromkeys(self._inputs()))

    @property
    def next(self):
        nodes = self.graph._nodes
        i = nodes.index(self)
        return nodes[i + 1] if i + 1 < len(nodes) else None

    @property
    def prev(self):
        nodes = self.graph._nodes
        i = nodes.index(self)
        return nodes[i - 1] if i > 0 else None

    def replace_all_uses_with(self, replace_with, delete_user_cb=lambda user: True) -> list:
        """Point every user of this node at ``replace_with`` instead; returns the users changed."""
        changed = []
        for user in list(self.users):
            if not delete_user_cb(user):
                continue
            user.replace_input_with(self, replace_with)
            changed.append(user)
        return changed

    def replace_input_with(self, old, new) -> None:
        swap = (lambda n: new if n is old else n)
        self._update(map_arg(self._args, swap), map_arg(self._kwargs, swap))

    def update_arg(self, index: int, value) -> None:
        args = list(self._args)
        args[index] = value
        self.args = args

    def update_kwarg(self, key, value) -> None:
        kwargs = dict(self._kwargs)
        kwargs[key] = value
        self.kwargs = kwargs

    def format_node(self) -> str:
        if self.op == "placeholder":
            return f"%{self.name} : [num_users={len(self.users)}] = placeholder[target={self.target}]"
        if self.op == "output":
            return f"return {_fmt(self._args[0])}"
        target = _target_name(self.target)
        return (f"%{self.name} : [num_users={len(self.users)}] = {self.op}[target={target}](args = "
                f"{_fmt(self._args)}, kwargs = {_fmt(self._kwargs)})")

    def __repr__(self) -> str:
        return self.name


def _target_name(target) -> str:
    if isinstance(target, str):
        return target
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", repr(target))
    if module in ("_operator", "operator"):
        return f"operator.{name}"
    return f"{module}.{name}" if module else name


def _fmt(a) -> str:
    return str(map_arg(a, lambda n: _Ref(n.name)))


class _Ref:
    def __init__(self, name):
        self.name = name

    def __repr__(self) -> str:
        return f"%{self.name}"
