"""Plugins use ember's public plugin API (``ember.ops``): no plugin under ``plugins/`` or ``examples/``
reads a private attribute of a Tensor (``x._data``, ``x._dtype``...) or imports a private name from ember.

Built-in plugins are held to what a third-party plugin can rely on: ``x.array``, ``x.dtype``,
``x.device``, ``ember.ops.wrap``, ``bump_version``... (see ``ember.ops``' module docstring).
"""

import ast
from pathlib import Path

import pytest

import ember
from ember.tensor import Tensor

ROOT = Path(__file__).resolve().parents[2]

# Private-looking names that are PyTorch's own Tensor API (``torch.Tensor._version``, ``._base``,
# ``._is_view()``): code written for PyTorch uses them, so plugins may too.
PYTORCH_SPELLED = {"_version", "_base", "_is_view"}


def private_tensor_attributes() -> set:
    names = set(vars(Tensor)) | set(Tensor.__slots__)
    return {n for n in names if n.startswith("_") and not n.startswith("__")} - PYTORCH_SPELLED


def plugin_packages() -> list:
    """Each plugin package's folder: plugins/<kind>/<package> and examples/<project>."""
    packages = [p for p in sorted((ROOT / "plugins").glob("*/*")) if p.is_dir() and not p.name.startswith(".")]
    packages += [p for p in sorted((ROOT / "examples").iterdir()) if p.is_dir() and any(p.rglob("*.py"))]
    return packages


def source_files(package: Path):
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).parts
        if not any(part in ("build", "dist") or part.endswith(".egg-info") for part in parts):
            yield path


def own_state(tree) -> set:
    """``self._x`` inside a class body: a plugin class's own private state, not a tensor's."""
    return {id(node) for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef) for node in ast.walk(cls)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"}


def private_uses(path: Path, private: set, root: Path = ROOT) -> list:
    tree = ast.parse(path.read_text(), str(path))
    own = own_state(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in private and id(node) not in own:
            found.append(f"{path.relative_to(root)}:{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "ember":
            found += [f"{path.relative_to(root)}:{node.lineno}: from {node.module} import {a.name}"
                      for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
    return found


def test_the_private_names_checked_include_the_tensor_internals():
    private = private_tensor_attributes()
    assert {"_data", "_dtype", "_device", "_requires_grad", "_node", "_output_nr"} <= private


def test_the_scan_finds_a_private_read(tmp_path):
    plugin = tmp_path / "bad_plugin.py"
    plugin.write_text("from ember.tensor import _version_cell\n\n"
                      "def op(x):\n    return x._data + 1\n\n"
                      "class Layer:\n    def f(self):\n        return self._data\n")
    found = private_uses(plugin, private_tensor_attributes(), root=tmp_path)
    assert sorted(found) == ["bad_plugin.py:1: from ember.tensor import _version_cell", "bad_plugin.py:4: ._data"]


@pytest.mark.parametrize("package", plugin_packages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_plugin_reads_a_private_tensor_attribute(package):
    private = private_tensor_attributes()
    found = [use for path in source_files(package) for use in private_uses(path, private)]
    assert not found, ("plugins must use ember's public plugin API (x.array, x.dtype, x.device, "
                       "ember.ops.wrap/bump_version/...), found:\n" + "\n".join(found))


def test_the_public_names_are_what_the_private_ones_were():
    x = ember.ones(2, 3)
    assert x.array is x._data and x.dtype is x._dtype and x.device is x._device
    wrapped = ember.ops.wrap(x.array, x.device)
    assert wrapped.array is x.array and not wrapped.requires_grad
    before = x._version
    x.array[0, 0] = 5.0
    ember.ops.bump_version(x)
    assert x._version == before + 1 and x[0, 0].item() == 5.0


def test_share_version_links_version_counters_without_making_a_view():
    x = ember.ones(4)
    alias = ember.ops.share_version(ember.ops.wrap(x.array.view("int32"), x.device), x)
    assert not alias._is_view() and alias.dtype is ember.int32
    alias.add_(1)
    assert x._version == alias._version == 1


def test_view_in_place_gives_the_tensor_the_views_shape_and_bumps_its_version():
    x = ember.arange(6.0)
    before = x._version
    assert ember.ops.view_in_place("reshape_", x, x.reshape(2, 3)) is x
    assert x.shape == (2, 3) and x._version == before + 1
    leaf = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="unsqueeze_: a leaf Variable that requires grad"):
        ember.ops.view_in_place("unsqueeze_", leaf, leaf.unsqueeze(0))
