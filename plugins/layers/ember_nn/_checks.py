"""Argument checks shared by the layers: cheap (one isinstance) and naming the layer, as PyTorch's
``TypeError: linear(): argument 'input' (position 1) must be Tensor, not list`` does."""

from __future__ import annotations

import ember


class NotATensorError(TypeError, AttributeError):
    """A non-tensor where a layer takes a tensor. PyTorch raises ``TypeError`` where the layer's first step is a
    C++ op (``linear``, ``conv2d``, ``layer_norm``) and ``AttributeError`` where it is Python (``input.dim()`` in
    ``BatchNorm2d``, ``GroupNorm``, the adaptive pools); this is both, so code catching either still works."""


class RankError(ember.ops.ShapeError, ValueError):
    """An input with the wrong number of dims where PyTorch checks it in Python and raises ``ValueError``
    (``expected 4D input (got 3D input)`` in BatchNorm2d, ``LSTM: Expected input to be 2D or 3D``); ember's other
    shape errors are RuntimeErrors, so this is both."""


def expect_tensor(module, value, name: str = "input") -> None:
    """Raise ``NotATensorError`` (a ``TypeError``) naming ``module`` and ``name`` unless ``value`` is a Tensor (a list, a numpy array or
    None otherwise fails later as ``AttributeError: 'list' object has no attribute 'shape'``)."""
    if not isinstance(value, ember.Tensor):
        raise NotATensorError(f"{module._get_name()}({module.extra_repr()}): argument '{name}' must be Tensor, "
                        f"not {type(value).__name__}")
