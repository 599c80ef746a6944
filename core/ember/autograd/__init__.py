"""The autograd tape: grad modes, nodes, the backward engine, ``ember.autograd.grad`` and ``Function``.

The third layer of the core, above tensors and below primitives: ``grad_mode`` (whether ops record),
``graph`` (the :class:`Node` and ``record_node``), ``gradient_math`` (the engine's own gradient sums and
broadcast reductions), ``engine`` (the backward walk) and ``function`` (custom ``Function``).

Every differentiable op that runs with grad mode on and an input that requires grad records a
:class:`Node`: what to call backward with, what it saved, and an edge per input (the input's own node,
or the leaf tensor itself). ``backward`` collects the nodes reachable from the roots and replays them
newest first; a node is always newer than the nodes of its inputs, so that order is topological, and
the walk is a loop, never a recursion.
"""

from .engine import backward, grad, Node, RemovableHandle, SavedTensorError
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
    set_grad_enabled,
)

__all__ = [
    "backward", "grad", "Node", "RemovableHandle", "SavedTensorError", "Function", "FunctionCtx",
    "once_differentiable", "enable_grad", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled", "no_grad", "set_grad_enabled",
]


def __getattr__(name):
    # ``ember.autograd.functional``/``profiler`` and ``gradcheck`` load on first use.
    from importlib import import_module
    if name in ("functional", "profiler"):
        return import_module(f"{__name__}.{name}")
    if name in ("gradcheck", "gradgradcheck"):
        return getattr(import_module("ember.testing.gradcheck"), name)
    raise AttributeError(f"module 'ember.autograd' has no attribute {name!r}")
