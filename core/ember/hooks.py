"""Handles for registered hooks (``torch.utils.hooks.RemovableHandle``): ``remove()`` takes a hook off
again. At the bottom of the core, so that tensors, the autograd engine and modules share one type."""

from __future__ import annotations

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` takes the hook off again (also on leaving a ``with``)."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        """Take the hook off; removing it twice is harmless."""
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
