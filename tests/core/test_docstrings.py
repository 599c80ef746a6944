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

import pytest

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
    """(name, function) for each public ``ember.*`` function, the ops bound there and the names ``ember``
    imports on first use (``ember.autocast``...) included."""
    for name in sorted(set(dir(ember)) | set(getattr(ember, "_LAZY_NAMES", ()))):
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

# The owners of ember's own ops and layers (the plugins that register relu and Linear); a third-party plugin
# documents its own.
BUILT_IN = {registries["ops"].entries["relu"].owner, registries["layers"].entries["Linear"].owner}
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
    other_class = "A.\n\n    Shape:\n        - x\n\n    Raises:\n        E: y\n\n    PyTorch: ``torch.nn.B``."
    assert missing_sections(other_class, "torch.nn.A", True) == ["PyTorch: ``torch.nn.A`` (it names ``torch.nn.B``)"]


# -- the named counterparts exist -----------------------------------------------------------------------

NAMED = re.compile(r"``(torch\.[\w.]*\w)")


def resolves(module, dotted: str) -> bool:
    """Whether ``torch.a.b.c`` names an attribute (or submodule) of the installed ``torch``."""
    import importlib
    obj = module
    for depth, part in enumerate(dotted.split(".")[1:], 2):
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        try:
            obj = importlib.import_module(".".join(dotted.split(".")[:depth]))
        except ImportError:
            return False
    return True


def test_every_pytorch_name_a_docstring_gives_exists_in_pytorch(torch):
    docs = [(f"op {n}", e.obj.fn.__doc__) for n, e in registries["ops"].entries.items()
            if e.owner in BUILT_IN]
    docs += [(f"layer {n}", cls.__doc__) for n, cls in built_in_layers()]
    docs += [(f"Tensor.{n}", doc) for n, doc in documented_tensor_members()]
    docs += [(f"ember.{n}", fn.__doc__) for n, fn in public_ember_functions()]
    unknown = sorted({(where, name) for where, doc in docs for name in NAMED.findall(doc or "")
                      if not resolves(torch, name)})
    assert not unknown, f"docstrings name PyTorch APIs that torch {torch.__version__} lacks: {unknown}"


# -- the Raises sections cover what the ops raise ---------------------------------------------------------

def _misuses(sample):
    """(label, args) for common mistakes with ``sample``'s arguments: a list where a tensor goes, integer or
    bool tensors, and a second tensor whose shape does not broadcast."""
    args = list(sample.args)
    tensors = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    if tensors:
        yield "a list for a tensor", args[:tensors[0]] + [args[tensors[0]].tolist()] + args[tensors[0] + 1:]
    for dtype in (ember.int64, ember.bool):
        yield f"{dtype} tensors", [a.detach().to(dtype) if isinstance(a, Tensor) and a.is_floating_point() else a
                                   for a in args]
    if len(tensors) >= 2:
        other = args[tensors[1]]
        yield "shapes that do not broadcast", (args[:tensors[1]] + [ember.ones(7, 9, dtype=other.dtype)]
                                               + args[tensors[1] + 1:])


def _documented_classes(doc: str) -> set:
    raises = doc.split("Raises:")[1].split("PyTorch:")[0]
    return {name.split(".")[-1] for name in re.findall(r"^\s*([A-Za-z_.]+):", raises, re.M)}


# Defects, not documentation gaps: numpy's own error escapes instead of ember's (each worth an issue).
KNOWN_UNDOCUMENTED: dict = {}  # (op, misuse, class): why; empty: every op documents what it raises


@pytest.mark.filterwarnings("ignore")  # the misuses warn too (broadcast targets...): only errors matter here
def test_every_error_an_op_raises_for_common_misuse_is_in_its_raises_section():
    from ember.testing.samples import SampleMaker
    found = {}
    for name, entry in sorted(registries["ops"].entries.items()):
        if entry.owner not in BUILT_IN or entry.obj.samples is None:
            continue
        op, documented = entry.obj, _documented_classes(entry.obj.fn.__doc__)
        for sample in list(op.samples(SampleMaker(dtype=ember.float32)))[:2]:
            for label, args in _misuses(sample):
                try:
                    op.fn(*args, **sample.kwargs)
                except Exception as exc:  # noqa: BLE001 - any exception: its class must be documented
                    if not documented & {cls.__name__ for cls in type(exc).__mro__}:
                        found[(name, label, type(exc).__name__)] = str(exc)[:120]
    assert set(found) == set(KNOWN_UNDOCUMENTED), (
        f"undocumented: {sorted(set(found) - set(KNOWN_UNDOCUMENTED))}; "
        f"no longer raised (drop from KNOWN_UNDOCUMENTED): {sorted(set(KNOWN_UNDOCUMENTED) - set(found))}; "
        f"messages: {found}")


def _layer_misuses(inputs):
    """(label, inputs) for common mistakes with a layer's first input: int64 or float64 data, one dim too many,
    one channel too many."""
    x, rest = inputs[0], list(inputs[1:])
    for dtype in (ember.int64, ember.float64):
        yield f"{dtype} input", [x.to(dtype)] + rest
    yield "one dim too many", [x.unsqueeze(0)] + rest
    if x.dim() >= 2 and x.shape[1]:
        yield "one channel too many", [ember.cat([x, x[:, :1]], 1)] + rest


SAYS_ITS_MODULES_RAISE = {"Sequential"}  # "Raises: any error of its modules": it has none of its own


@pytest.mark.filterwarnings("ignore")  # the misuses warn too (2-D input to Dropout2d...): only errors matter here
def test_every_error_a_layer_raises_for_common_misuse_is_in_its_raises_section():
    from ember.testing.samples import SampleMaker
    found = {}
    for name, cls in built_in_layers():
        if name in SAYS_ITS_MODULES_RAISE or not hasattr(cls, "samples") or "Raises:" not in (cls.__doc__ or ""):
            continue
        documented = _documented_classes(cls.__doc__)
        for sample in list(cls.samples(SampleMaker(dtype=ember.float32)))[:2]:
            inputs = [i.detach() if isinstance(i, Tensor) else i for i in sample.inputs]
            if not inputs or not isinstance(inputs[0], Tensor):
                continue
            for label, args in _layer_misuses(inputs):
                try:
                    cls(*sample.args, **sample.kwargs)(*args)
                except Exception as exc:  # noqa: BLE001 - any exception: its class must be documented
                    if not documented & {c.__name__ for c in type(exc).__mro__}:
                        found[(name, label)] = f"{type(exc).__name__}: {str(exc)[:100]}"
    assert not found, f"layers raising errors their docstring does not name: {found}"
