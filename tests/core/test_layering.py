"""The core is layered and stands alone: its module-level imports form no cycle, every import points down
the layer order below (docs/architecture.md explains it), and no core module names a plugin package.

The import graph is read from the source with ``ast`` (nothing is imported): an edge for every import
statement at module level (inside ``if``/``try`` too, not inside functions), and for the packages a
submodule import runs (importing ``ember.autograd.graph`` runs ``ember/autograd/__init__.py``). The root
package ``ember`` is left out of those implicit edges: it is the top layer, and always runs first.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"

# Bottom-up. A module may import modules of its own layer or of lower ones. Modules not named here are
# the namespaces (ember itself, ember.nn, ember.optim, ember.linalg, the lazy extras): the top layer.
LAYERS = [
    ("base", {"ember.dtypes", "ember.device", "ember.errors", "ember.storage", "ember.hooks", "ember.printing",
              "ember.numpy_errors", "ember.lazy", "ember.thread_policy"}),
    ("tensor", {"ember.tensor"}),
    ("autograd", {"ember.autograd", "ember.autograd.grad_mode", "ember.autograd.graph",
                  "ember.autograd.gradient_math", "ember.autograd.engine", "ember.autograd.function"}),
    ("primitives", {"ember.primitive", "ember.conversion", "ember.views"}),
    ("creation", {"ember.random", "ember.creation"}),
    ("ops API", {"ember.edge_cases", "ember.ops"}),
    ("registries and plugins", {"ember.registry", "ember.hookspecs", "ember.entry_points", "ember.manifest",
                                "ember.plugins"}),
]
TOP = len(LAYERS)


def core_modules() -> dict:
    """Module name -> (path, is_package) for every file of core/ember."""
    modules = {}
    for path in (CORE / "ember").rglob("*.py"):
        parts = list(path.relative_to(CORE).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        modules[".".join(parts)] = (path, is_package)
    return modules


def module_level_imports(tree: ast.Module):
    """Import statements that run when the module is imported (not those inside functions or classes)."""
    pending = list(tree.body)
    while pending:
        stmt = pending.pop()
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            yield stmt
        elif isinstance(stmt, (ast.If, ast.Try, ast.With)):
            pending.extend(stmt.body)
            pending.extend(getattr(stmt, "orelse", []))
            pending.extend(getattr(stmt, "finalbody", []))
            for handler in getattr(stmt, "handlers", []):
                pending.extend(handler.body)


def imported_modules(module: str, is_package: bool, stmt, modules: dict) -> list:
    """The modules one import statement runs: ``from pkg import name`` asks for the submodule when
    ``name`` is one, else for ``pkg`` itself."""
    if isinstance(stmt, ast.Import):
        return [alias.name for alias in stmt.names]
    package = module.split(".") if is_package else module.split(".")[:-1]
    package = package[:len(package) - (stmt.level - 1)] if stmt.level else []
    base = ".".join(package + ([stmt.module] if stmt.module else []))
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in stmt.names]


def import_graph() -> dict:
    """Module -> the core modules its import runs first."""
    modules = core_modules()
    graph = {}
    for module, (path, is_package) in modules.items():
        edges = set()
        for stmt in module_level_imports(ast.parse(path.read_text(), str(path))):
            for target in imported_modules(module, is_package, stmt, modules):
                parts = target.split(".")
                if target == "ember" and module != "ember":
                    edges.add("ember")
                for k in range(2, len(parts) + 1):  # the packages the import runs, then the module
                    prefix = ".".join(parts[:k])
                    if prefix in modules and prefix != module and not module.startswith(prefix + "."):
                        edges.add(prefix)
        graph[module] = edges
    return graph


def find_cycle(graph: dict):
    """One cycle as a list of modules, or None (an iterative depth-first search)."""
    state = {}  # module -> 1 while on the current path, 2 when done
    for start in graph:
        if start in state:
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def layer_of(module: str) -> int:
    for index, (_, members) in enumerate(LAYERS):
        if module in members:
            return index
    return TOP


def test_the_layer_table_names_real_modules():
    modules = core_modules()
    missing = [m for _, members in LAYERS for m in members if m not in modules]
    assert not missing, f"LAYERS names modules that do not exist: {missing}"


def test_the_core_import_graph_has_no_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle in core/ember: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) in (
        ["a", "b", "c", "a"], ["b", "c", "a", "b"], ["c", "a", "b", "c"])


def test_every_core_import_points_down_the_layer_order():
    upward = [f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0] if layer_of(b) < TOP else 'namespaces'})"
              for a, edges in sorted(import_graph().items()) for b in sorted(edges) if layer_of(b) > layer_of(a)]
    assert not upward, "imports against the layer order:\n" + "\n".join(upward)


def plugin_packages() -> set:
    """The plugin packages this project ships: entry points of the ``ember.plugins`` group, and every
    package under plugins/."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = {value.split(":")[0].split(".")[0]
             for value in project["project"]["entry-points"]["ember.plugins"].values()}
    names |= {init.parent.name for init in (ROOT / "plugins").glob("*/*/__init__.py")}
    return names


def test_the_core_names_no_plugin_package():
    packages = plugin_packages()
    assert {"ember_cpu", "ember_ops", "ember_nn", "ember_optim"} <= packages
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, packages))) + r")\b")
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in sorted((CORE / "ember").rglob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert not found, "core/ember names plugin packages (the core must stand alone):\n" + "\n".join(found)


@pytest.mark.parametrize("source, expected", [
    ("import ember_ops", True), ("from ember_cpu import NumpyStream", True), ("x = 'ember_nn.conv'", True),
    ("import ember.ops", False), ("EMBER_MODULES = r'(ember|ember_\\w+)'", False),
])
def test_the_plugin_name_check_sees_imports_and_strings(source, expected):
    pattern = re.compile(r"\b(" + "|".join(sorted(plugin_packages())) + r")\b")
    assert bool(pattern.search(source)) is expected
