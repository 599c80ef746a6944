"""``ember._dynamo``: the part of TorchDynamo's interface that training scripts touch
(``torch._dynamo.config.*``, ``reset``, ``is_compiling``, ``disable``). ember has no compiler, so the
config values are plain settings with PyTorch's defaults, and the functions answer for eager code."""

from __future__ import annotations

from . import config  # noqa: F401
from ..compiler import allow_in_graph, assume_constant_result, disable, is_compiling, reset  # noqa: F401

__all__ = ["config", "reset", "is_compiling", "disable", "allow_in_graph", "assume_constant_result",
           "explain", "optimize", "mark_dynamic", "mark_static"]


def optimize(backend="inductor", *, nopython=False, **kwargs):
    """``torch._dynamo.optimize(...)``: a decorator that returns the function unchanged (no compiler)."""
    return lambda fn: fn


def mark_dynamic(tensor, index, **kwargs) -> None:
    """A shape hint for the compiler; ember has none, so it is ignored."""


def mark_static(tensor, index=None) -> None:
    """A shape hint for the compiler; ember has none, so it is ignored."""


def explain(fn, *args, **kwargs):
    """Raises: explaining graph breaks needs a compiler that captures graphs, which ember does not have."""
    raise NotImplementedError("ember._dynamo.explain: ember has no graph compiler, so there are no graphs or "
                              "graph breaks to explain; the function runs eagerly as written")
