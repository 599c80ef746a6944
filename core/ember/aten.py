"""``ember.ops.aten``: PyTorch's operator namespace (``torch.ops.aten.add.Tensor``), answered by ember's ops.

``ember.ops.aten.<name>`` is the ember op of that name (the function bound as ``ember.<name>``, or the
Tensor method, or ``ember.nn.functional.<name>``, or an ``ember._foreach_*`` list op); its overloads
(``.default``, ``.Tensor``, ``.Scalar``, ``.int`` ...) are the same function, since ember's ops take
every overload's arguments in one signature. ``_schema.is_mutable`` says whether the op writes in place
(a trailing underscore). ember has no custom-operator libraries: ``load_library`` raises.
"""

from __future__ import annotations

from types import SimpleNamespace

__all__ = ["aten", "load_library", "OpOverloadPacket", "OpOverload"]

_OVERLOADS = ("default", "Tensor", "Scalar", "int", "float", "dim", "dims", "self", "other", "out", "t", "str",
              "using_ints", "Tensor_Scalar", "Scalar_Tensor", "Tensor_Tensor", "List", "List_out")


class OpOverload:
    """One overload of an operator (``aten.add.Tensor``): callable, with ``_schema``."""

    def __init__(self, packet, overload: str):
        self._packet, self._overloadname = packet, overload
        self._schema = SimpleNamespace(name=f"aten::{packet._name}", overload_name=overload,
                                       is_mutable=packet._name.endswith("_"))

    def __call__(self, *args, **kwargs):
        return self._packet._fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"aten.{self._packet._name}.{self._overloadname}"


class OpOverloadPacket:
    """An operator with all its overloads (``aten.add``); calling it calls the op."""

    def __init__(self, name: str, fn):
        self._name, self._fn = name, fn
        self._schema = SimpleNamespace(name=f"aten::{name}", overload_name="", is_mutable=name.endswith("_"))

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def __getattr__(self, overload):
        if overload in _OVERLOADS:
            return OpOverload(self, overload)
        raise AttributeError(f"The underlying op of 'aten.{self._name}' has no overload name '{overload}'")

    def overloads(self) -> list:
        return list(_OVERLOADS)

    def __repr__(self) -> str:
        return f"aten.{self._name}"


def _lookup(name: str):
    import ember
    for space in (ember, ember.nn.functional, ember.linalg):
        fn = getattr(space, name, None)
        if callable(fn) and not isinstance(fn, type):
            return fn
    method = getattr(ember.Tensor, name, None)
    if callable(method):
        return method
    return None


class _Namespace:
    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        fn = _lookup(name) if self._name == "aten" else None
        if fn is None:
            raise AttributeError(f"'_OpNamespace' '{self._name}' object has no attribute '{name}'")
        packet = OpOverloadPacket(name, fn)
        setattr(self, name, packet)
        return packet


aten = _Namespace("aten")


def load_library(path) -> None:
    """Custom operator libraries are compiled PyTorch extensions: ember cannot load them."""
    raise NotImplementedError(f"ember.ops.load_library({path!r}): ember cannot load compiled PyTorch operator "
                              f"libraries; register ops through an ember plugin instead (docs/plugins.md)")
