"""Every public name carries its documentation: Tensor members and ``ember.*`` functions name their
PyTorch counterpart; registered ops and layers state shapes, the errors they raise and the counterpart.

The format (PyTorch's docs use the same sections)::

    One-line summary.

    Shape:
        - input: ``(N, C, H, W)``, floating point.
        - output: ``(N, C_out, H_out, W_out)``, the dtype of ``input``.

    Raises:
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.functional.conv2d``.
"""

import inspect
import re

import ember
from ember.plugins import registries
from ember.tensor import Tensor

# A PyTorch name in double backticks: ``torch.relu``, ``torch.Tensor.add``, ``Tensor.new(...)``.
COUNTERPART = re.compile(r"``(torch\.[A-Za-z_]|(torch\.)?Tensor\.\w)")

# ember.* names that are not PyTorch's API, each with the reason it has no counterpart.
EMBER_ONLY = {
    "hookimpl": "pluggy's marker for plugin hook implementations; ember's own plugin API",
}


def documented_tensor_members():
    """(name, docstring) for each public or dunder member defined on Tensor, the ops bound to it included."""
    for name, value in sorted(vars(Tensor).items()):
        if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if not (callable(value) or isinstance(value, property)) or value is object.__hash__:
            continue  # data: __slots__, __module__, __array_ufunc__ = None ...
        yield name, value.__doc__


def test_every_tensor_member_has_a_docstring_naming_its_pytorch_counterpart():
    missing, no_counterpart = [], []
    for name, doc in documented_tensor_members():
        if not doc or not doc.strip():
            missing.append(name)
            continue
        if not COUNTERPART.search(doc):
            no_counterpart.append(name)
    assert not missing, f"Tensor members without a docstring: {missing}"
    assert not no_counterpart, f"Tensor members whose docstring names no PyTorch counterpart: {no_counterpart}"


def public_ember_functions():
    """(name, function) for each public ``ember.*`` function, the ops bound there included."""
    for name in sorted(dir(ember)):
        if name.startswith("_"):
            continue
        value = getattr(ember, name)
        if callable(value) and not isinstance(value, type) and not inspect.ismodule(value):
            yield name, value


def test_every_public_ember_function_has_a_docstring_naming_its_pytorch_counterpart():
    missing, no_counterpart = [], []
    for name, fn in public_ember_functions():
        doc = fn.__doc__ or ""
        if not doc.strip():
            missing.append(name)
        elif name not in EMBER_ONLY and not COUNTERPART.search(doc):
            no_counterpart.append(name)
    assert not missing, f"ember.* functions without a docstring: {missing}"
    assert not no_counterpart, f"ember.* functions whose docstring names no PyTorch counterpart: {no_counterpart}"


# -- ops and layers ---------------------------------------------------------------------------------------

BUILT_IN = {"ops", "nn"}  # the owners of ember's own ops and layers; a third-party plugin documents its own
SECTION = {name: re.compile(rf"\n[ ]*{name}:\n[ ]+\S") for name in ("Shape", "Raises")}
PYTORCH_LINE = re.compile(r"\n[ ]*PyTorch: ``(torch\.[\w.]+)``")


def missing_sections(doc: str, counterpart: str | None, takes_tensors: bool) -> list[str]:
    """What ``doc`` lacks: the Shape and Raises sections (for callables taking tensors) and a last line
    ``PyTorch: ``<counterpart>``.`` naming the PyTorch function or class it mirrors."""
    doc = doc or ""
    missing = [name for name, pattern in SECTION.items() if takes_tensors and not pattern.search(doc)]
    line = PYTORCH_LINE.search(doc)
    if line is None:
        missing.append("PyTorch: line")
    elif counterpart and line.group(1) != counterpart:
        missing.append(f"PyTorch: ``{counterpart}`` (it names ``{line.group(1)}``)")
    return missing


def built_in_layers():
    return [(name, entry.obj) for name, entry in sorted(registries["layers"].entries.items())
            if entry.owner in BUILT_IN]


def test_every_layer_states_shapes_errors_and_its_pytorch_class():
    from ember.nn import Module
    problems = {}
    for name, cls in built_in_layers():
        takes_tensors = cls.forward is not Module.forward  # ModuleList & co. have no forward
        missing = missing_sections(cls.__doc__, f"torch.nn.{name}", takes_tensors)
        if missing:
            problems[name] = missing
    assert not problems, f"layer docstrings lacking sections: {problems}"


def test_every_op_states_shapes_errors_and_its_pytorch_counterpart():
    problems = {}
    for name, entry in sorted(registries["ops"].entries.items()):
        if entry.owner not in BUILT_IN:
            continue
        op = entry.obj
        missing = missing_sections(op.fn.__doc__, op.torch, takes_tensors=True)
        if missing:
            problems[name] = missing
    assert not problems, f"op docstrings lacking sections: {problems}"


def test_the_section_check_catches_a_bare_docstring():
    assert missing_sections("max(x, 0).", "torch.nn.ReLU", True) == ["Shape", "Raises", "PyTorch: line"]
    assert missing_sections("A.\n\n    Shape:\n        - x\n\n    Raises:\n        E: y\n\n    PyTorch: ``torch.nn.B``.",
                            "torch.nn.A", True) == ["PyTorch: ``torch.nn.A`` (it names ``torch.nn.B``)"]
