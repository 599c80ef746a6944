"""``Graph``: the ordered list of nodes that fx tracing produces (``torch.fx.Graph``), with the node
builders, insertion points, dead-code elimination, a consistency check (``lint``) and Python code
generation (what ``GraphModule.code`` shows and runs)."""

from __future__ import annotations

import builtins
import contextlib
import keyword
import operator
import re

from .node import Node, _target_name, map_arg

__all__ = ["Graph", "PythonCode"]


class PythonCode:
    def __init__(self, src: str, globals_: dict):
        self.src, self.globals = src, globals_


class Graph:
    def __init__(self, owning_module=None, tracer_cls=None, tracer_extras=None):
        self._nodes: list[Node] = []
        self._names: dict[str, int] = {}
        self._insert_at = None  # (node, "before" | "after") or None for the end
        self.owning_module = owning_module

    @property
    def nodes(self) -> list:
        return list(self._nodes)

    def find_nodes(self, *, op: str, target=None) -> list:
        return [n for n in self._nodes if n.op == op and (target is None or n.target == target)]

    def _unique(self, candidate: str) -> str:
        name = re.sub(r"[^0-9a-zA-Z_]+", "_", candidate).strip("_") or "_unnamed"
        name = re.sub(r"^([0-9])", r"_\1", name)
        if keyword.iskeyword(name) or name in dir(builtins) or name in ("self", "ember", "operator"):
            name = name + "_1"
        base = re.sub(r"_\d+$", "", name)
        count = self._names.get(base, 0)
        unique = name if count == 0 and name == base else f"{base}_{count}"
        while unique in self._names:
            count += 1
            unique = f"{base}_{count}"
        self._names[base] = count + 1
        self._names[unique] = self._names.get(unique, 1)
        return unique

    def create_node(self, op, target, args=None, kwargs=None, name=None, type_expr=None) -> Node:
        node = Node(self, self._unique(name or _default_name(op, target)), op, target, args or (), kwargs or {},
                    type_expr)
        if self._insert_at is None:
            self._nodes.append(node)
        else:
            anchor, where = self._insert_at
            i = self._nodes.index(anchor) + (1 if where == "after" else 0)
            self._nodes.insert(i, node)
            if where == "after":
                self._insert_at = (node, "after")
        return node

    def placeholder(self, name: str, type_expr=None, default_value=None) -> Node:
        node = self.create_node("placeholder", name, name=name, type_expr=type_expr)
        if default_value is not None:
            node.args = (default_value,)
        return node

    def get_attr(self, qualified_name: str, type_expr=None) -> Node:
        return self.create_node("get_attr", qualified_name, type_expr=type_expr)

    def call_function(self, the_function, args=None, kwargs=None, type_expr=None) -> Node:
        return self.create_node("call_function", the_function, args, kwargs, type_expr=type_expr)

    def call_method(self, method_name: str, args=None, kwargs=None, type_expr=None) -> Node:
        return self.create_node("call_method", method_name, args, kwargs, type_expr=type_expr)

    def call_module(self, module_name: str, args=None, kwargs=None, type_expr=None) -> Node:
        return self.create_node("call_module", module_name, args, kwargs, type_expr=type_expr)

    def output(self, result, type_expr=None) -> Node:
        return self.create_node("output", "output", (result,), type_expr=type_expr)

    @contextlib.contextmanager
    def inserting_before(self, node=None):
        saved = self._insert_at
        self._insert_at = None if node is None else (node, "before")
        try:
            yield
        finally:
            self._insert_at = saved

    @contextlib.contextmanager
    def inserting_after(self, node=None):
        saved = self._insert_at
        self._insert_at = None if node is None else (node, "after")
        try:
            yield
        finally:
            self._insert_at = saved

    def erase_node(self, to_erase: Node) -> None:
        if to_erase.users:
            raise RuntimeError(f"Tried to erase Node {to_erase} but it still had {len(to_erase.users)} users in "
                               f"the graph: {to_erase.users}!")
        to_erase._update((), {})
        self._nodes.remove(to_erase)

    def node_copy(self, node: Node, arg_transform=lambda n: n) -> Node:
        args = map_arg(node.args, arg_transform)
        kwargs = map_arg(node.kwargs, arg_transform)
        copy = self.create_node(node.op, node.target, args, kwargs, node.name, node.type)
        copy.meta = dict(node.meta)
        return copy

    def graph_copy(self, g: "Graph", val_map: dict) -> object:
        result = None
        for node in g._nodes:
            if node.op == "output":
                result = map_arg(node.args[0], lambda n: val_map[n])
                continue
            val_map[node] = self.node_copy(node, lambda n: val_map[n])
        return result

    def eliminate_dead_code(self) -> bool:
        """Remove nodes without users that have no side effects (everything but placeholders and output)."""
        changed = False
        for node in reversed(self._nodes[:]):
            if node.op not in ("placeholder", "output") and not node.users:
                self.erase_node(node)
                changed = True
        return changed

    def lint(self) -> None:
        """Check that every node's inputs belong to this graph and come before it."""
        seen = set()
        for node in self._nodes:
            if node.graph is not self:
                raise RuntimeError(f"Node {node} does not belong to this Graph")
            for arg in node.all_input_nodes:
                if arg not in seen:
                    raise RuntimeError(f"Argument '{arg}' of Node '{node}' was used before it has been defined!")
            seen.add(node)

    def print_tabular(self) -> None:
        rows = [("opcode", "name", "target", "args", "kwargs")]
        rows += [(n.op, n.name, _target_name(n.target), str(n.args), str(n.kwargs)) for n in self._nodes]
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)))

    def python_code(self, root_module: str = "self") -> PythonCode:
        globals_ = {"operator": operator}
        names: dict = {}

        def ref(target):
            if isinstance(target, str):
                return target
            if getattr(target, "__module__", None) in ("_operator", "operator") and \
                    getattr(operator, target.__name__, None) is target:
                return f"operator.{target.__name__}"
            if getattr(builtins, getattr(target, "__name__", ""), None) is target:
                return target.__name__
            key = id(target)
            if key not in names:
                import ember
                short = getattr(target, "__name__", "fn")
                for prefix, space in (("ember", ember), ("ember.nn.functional", ember.nn.functional)):
                    if getattr(space, short, None) is target:
                        globals_["ember"] = ember
                        names[key] = f"{prefix}.{short}"
                        break
                else:
                    name = "_fx_" + re.sub(r"\W", "_", short)
                    while name in globals_:
                        name += "_"
                    names[key] = name
                    globals_[name] = target
            return names[key]

        def arg(a):
            return repr(map_arg(a, lambda n: _Name(n.name)))

        params, body = [], []
        for node in self._nodes:
            if node.op == "placeholder":
                params.append(node.name if not node.args else f"{node.name} = {node.args[0]!r}")
            elif node.op == "get_attr":
                body.append(f"{node.name} = {_attr_path(root_module, node.target)}")
            elif node.op == "call_function":
                fn = ref(node.target)
                if node.target is getattr and len(node.args) == 2 and isinstance(node.args[1], str):
                    body.append(f"{node.name} = {arg(node.args[0])}.{node.args[1]}")
                    continue
                body.append(f"{node.name} = {fn}({_call_args(node, arg)})")
            elif node.op == "call_method":
                body.append(f"{node.name} = {arg(node.args[0])}.{node.target}({_call_args(node, arg, skip=1)})")
            elif node.op == "call_module":
                body.append(f"{node.name} = {_attr_path(root_module, node.target)}({_call_args(node, arg)})")
            elif node.op == "output":
                body.append(f"return {arg(node.args[0])}")
        src = f"def forward({', '.join(['self'] + params)}):\n" + "".join(f"    {line}\n" for line in body or ["pass"])
        return PythonCode(src, globals_)

    def __str__(self) -> str:
        lines = ["graph():"] + [f"    {n.format_node()}" for n in self._nodes]
        return "\n".join(lines)


def _attr_path(root: str, target: str) -> str:
    expr = root
    for part in target.split("."):
        expr = f"{expr}.{part}" if part.isidentifier() else f'getattr({expr}, "{part}")'
    return expr


def _call_args(node, arg, skip=0) -> str:
    parts = [arg(a) for a in node.args[skip:]]
    parts += [f"{k} = {arg(v)}" for k, v in node.kwargs.items()]
    return ", ".join(parts)


class _Name:
    def __init__(self, name):
        self.name = name

    def __repr__(self) -> str:
        return self.name


def _default_name(op, target) -> str:
    if op == "output":
        return "output"
    if isinstance(target, str):
        return target.replace(".", "_")
    return re.sub(r"^_+|_+$", "", getattr(target, "__name__", "fn")) or "fn"
