"""Containers: Sequential."""

from __future__ import annotations

from collections import OrderedDict

from ember.nn import LayerSample, Module

__all__ = ["Sequential"]


class Sequential(Module):
    """Runs its modules in order (``torch.nn.Sequential``): indexing, slicing, ``len``, ``append``."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        keys = list(self._modules)
        if not -len(keys) <= idx < len(keys):
            raise IndexError(f"Sequential: index {idx} is out of range for {len(keys)} modules")
        return self._modules[keys[idx]]

    def __setitem__(self, idx, module) -> None:
        keys = list(self._modules)
        setattr(self, keys[idx], module)

    def __delitem__(self, idx) -> None:
        keys = list(self._modules)
        for key in (keys[idx] if isinstance(idx, slice) else [keys[idx]]):
            del self._modules[key]
        self._modules = OrderedDict((str(i), m) for i, m in enumerate(self._modules.values()))

    def append(self, module: Module) -> "Sequential":
        self.add_module(str(len(self)), module)
        return self

    @staticmethod
    def samples(make):
        from ember import nn
        return [LayerSample((nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), inputs=(make(5, 4),))]
