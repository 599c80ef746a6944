"""``ember.jit``: TorchScript's decorators and questions, for scripts written against ``torch.jit``.

ember has no compiler and no TorchScript IR, so ``script``, ``trace``, ``ignore``, ``unused``,
``export``, ``script_method`` and ``freeze`` give back what they are given: the function or module runs
eagerly, exactly as it would in PyTorch before scripting. ``is_scripting()`` and ``is_tracing()`` are
False, which is the truth (code guarded by ``if not torch.jit.is_scripting():`` takes the eager path,
as it does in PyTorch outside TorchScript). ``Final`` is ``typing.Final``, as in PyTorch.
``load`` raises: a TorchScript archive holds a compiled program ember cannot run.
"""

from __future__ import annotations

import typing

__all__ = ["script", "trace", "trace_module", "ignore", "unused", "export", "script_method", "is_scripting",
           "is_tracing", "Final", "annotate", "freeze", "optimize_for_inference", "load", "save",
           "ScriptModule", "ScriptFunction", "TracerWarning", "Attribute", "interface", "annotations"]

Final = typing.Final
annotations = typing  # ``torch.jit.annotations.List`` and friends are typing's


class TracerWarning(Warning):
    """The warning class PyTorch's tracer uses; ember never traces, so it is only there to be filtered."""


def script(obj=None, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``torch.jit.script``: returns ``obj`` (function, module or class) unchanged; it runs eagerly.

    Usable as ``script(fn)`` and as ``@script``. PyTorch would check the code against TorchScript's
    typed subset; ember does not, so code that only works eagerly is not rejected here."""
    if obj is None:
        return lambda fn: fn
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5,
          strict=True, **kwargs):
    """``torch.jit.trace``: returns ``func`` unchanged (ember records no trace). Data-dependent control
    flow therefore keeps working, where a PyTorch trace would freeze the path taken by ``example_inputs``."""
    return func


def trace_module(mod, inputs, **kwargs):
    """``torch.jit.trace_module``: returns ``mod`` unchanged."""
    return mod


def ignore(drop=False, **kwargs):
    """``@torch.jit.ignore`` / ``@torch.jit.ignore(drop=True)``: leaves the function as Python, which in
    ember is every function; returns it unchanged."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    """``@torch.jit.unused``: returns ``fn`` unchanged (it is still callable eagerly, as in PyTorch)."""
    return fn


def export(fn):
    """``@torch.jit.export``: marks a method for compilation in PyTorch; returns ``fn`` unchanged."""
    return fn


script_method = export


def interface(obj):
    """``@torch.jit.interface``: returns the class unchanged."""
    return obj


def is_scripting() -> bool:
    """False: ember never runs code under TorchScript."""
    return False


def is_tracing() -> bool:
    """False: ember never traces."""
    return False


def annotate(the_type, the_value):
    """``torch.jit.annotate(T, value)``: a type hint for the compiler; returns ``the_value``."""
    return the_value


def Attribute(value, type=None):  # noqa: N802 - PyTorch's name
    """``torch.jit.Attribute(value, type)``: returns ``value``."""
    return value


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """``torch.jit.freeze``: returns ``mod`` unchanged (nothing to inline without a compiler)."""
    return mod


def optimize_for_inference(mod, other_methods=None):
    """``torch.jit.optimize_for_inference``: returns ``mod`` unchanged."""
    return mod


def load(f, map_location=None, _extra_files=None):
    """TorchScript archives hold compiled code that ember cannot execute: always raises."""
    raise NotImplementedError("ember.jit.load: ember cannot run TorchScript archives (it has no TorchScript "
                              "interpreter); save the state_dict in PyTorch and load it with ember.load instead")


def save(m, f, _extra_files=None):
    """Writing a TorchScript archive needs a compiled program: always raises."""
    raise NotImplementedError("ember.jit.save: ember has no TorchScript; save m.state_dict() with ember.save")


class ScriptModule:
    """Placeholder base for ``isinstance(m, torch.jit.ScriptModule)`` checks: ember never makes one, so
    such checks are False, as they are in PyTorch for an unscripted module."""


class ScriptFunction:
    """As :class:`ScriptModule`, for ``isinstance(f, torch.jit.ScriptFunction)``."""

