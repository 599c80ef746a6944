"""No test module imports torch when it is imported: with torch missing, that would be a collection
error for the whole module instead of a skip of the tests that need it (or, under
EMBER_REQUIRE_TORCH=1 as CI sets, a failure of each). Tests take the ``torch`` fixture of
``tests/conftest.py`` or import torch inside the test."""

import ast
from pathlib import Path

TESTS = Path(__file__).parent
# Scripts that a test runs in a process of its own (``mpirun python worker.py torch``), never imported
# by pytest: choosing between torch and ``import ember as torch`` at their top is their job.
SUBPROCESS_SCRIPTS = ("distributed/workers",)


def _runs_at_import(body):
    """Statements of ``body`` that run when the module is imported (not inside functions)."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        yield node
        for field in ("body", "orelse", "finalbody", "handlers"):
            yield from _runs_at_import(getattr(node, field, []))


def _imports_torch(node) -> bool:
    if isinstance(node, ast.Import):
        return any(alias.name == "torch" or alias.name.startswith("torch.") for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and (node.module == "torch" or (node.module or "").startswith("torch."))
    if isinstance(node, (ast.Expr, ast.Assign)) and isinstance(node.value, ast.Call):
        call = node.value
        name = getattr(call.func, "attr", getattr(call.func, "id", ""))
        return name == "importorskip" and any(isinstance(a, ast.Constant) and a.value == "torch" for a in call.args)
    return False


def module_level_torch_imports(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [node.lineno for node in _runs_at_import(tree.body) if _imports_torch(node)]


def test_no_test_module_imports_torch_at_module_level():
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        relative = path.relative_to(TESTS).as_posix()
        if relative.startswith(SUBPROCESS_SCRIPTS):
            continue
        offenders += [f"tests/{relative}:{line}" for line in module_level_torch_imports(path)]
    assert offenders == [], ("these test modules import torch at module level; take the `torch` fixture "
                             "(tests/conftest.py) or import it inside the test: " + ", ".join(offenders))


def test_the_check_sees_imports_in_if_and_try_blocks_but_not_in_functions(tmp_path):
    module = tmp_path / "test_example.py"
    module.write_text("import os\nif True:\n    import torch.nn\ntry:\n    from torch import nn\nexcept ImportError:\n"
                      "    pass\nclass T:\n    import torch\ndef test_fine():\n    import torch\n"
                      "import pytest\npytest.importorskip('torch')\n")
    assert module_level_torch_imports(module) == [3, 5, 9, 13]
