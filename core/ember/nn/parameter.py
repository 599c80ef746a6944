"""``ember.nn.Parameter``: a tensor that a Module registers as a learnable parameter."""

from __future__ import annotations

from ..tensor import Tensor, _version_cell, empty


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and is found by ``Module.parameters()``.

    ``Parameter(t)`` shares ``t``'s memory, as in PyTorch.
    """

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: expected a Tensor, got {type(data).__name__}")
        param = object.__new__(cls)
        param._data, param._dtype, param._device = data._data, data._dtype, data._device
        param._requires_grad, param._node = False, None
        param._vcell = _version_cell(data)
        if requires_grad:
            param.requires_grad_(True)
        return param

    def __init__(self, data=None, requires_grad: bool = True):
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (Parameter, (Tensor.detach(self), self._requires_grad))
