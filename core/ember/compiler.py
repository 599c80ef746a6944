"""``ember.compiler``: ``torch.compiler``'s questions. ember has no compiler (``ember.compile`` returns its
argument), so nothing is ever being compiled and there is nothing to reset."""

from __future__ import annotations

__all__ = ["is_compiling", "is_dynamo_compiling", "reset", "disable", "allow_in_graph", "assume_constant_result"]


def is_compiling() -> bool:
    """False: code never runs under a compiler in ember."""
    return False


is_dynamo_compiling = is_compiling


def reset() -> None:
    """Clear compilation caches: ember keeps none."""


def disable(fn=None, recursive: bool = True):
    """``@torch.compiler.disable``: every function already runs eagerly; returns ``fn``."""
    if fn is None:
        return lambda f: f
    return fn


def allow_in_graph(fn):
    """Returns ``fn``: there is no graph to allow it in."""
    return fn


def assume_constant_result(fn):
    return fn
