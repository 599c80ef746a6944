"""``ember.nn.modules``: PyTorch's module layout (``torch.nn.modules.batchnorm.BatchNorm2d``,
``torch.nn.modules.module.Module`` ...), for code that imports layers by their full paths.

The classes are the very ones bound on ``ember.nn`` (so ``isinstance`` checks agree); each submodule
resolves its names on first access from ``ember.nn`` and, for the private bases PyTorch code subclasses
(``_BatchNorm``, ``_InstanceNorm``, ``_ConvNd``, ``_Loss``...), from the module that defines a public
layer of that family (``BatchNorm2d`` for ``batchnorm``), whichever plugin registered it.
"""

from __future__ import annotations

import sys
import types

# torch.nn.modules submodule -> a public layer whose defining module (in whichever plugin registered
# it) also holds the submodule's private names
_SUBMODULES = {"activation": "ReLU", "batchnorm": "BatchNorm2d", "channelshuffle": "PixelShuffle",
               "container": "Sequential", "conv": "Conv2d", "distance": "PairwiseDistance", "dropout": "Dropout",
               "flatten": "Flatten", "fold": "Fold", "instancenorm": "InstanceNorm2d", "linear": "Linear",
               "loss": "MSELoss", "module": None, "normalization": "LayerNorm", "padding": "ZeroPad2d",
               "pixelshuffle": "PixelShuffle", "pooling": "MaxPool2d", "rnn": "RNN", "sparse": "Embedding",
               "transformer": "Transformer", "upsampling": "Upsample", "lazy": "LazyLinear"}


def _resolver(representative):
    def __getattr__(name):
        from ... import nn
        if name == "Module":
            return nn.Module
        if name == "NonDynamicallyQuantizableLinear":  # PyTorch: Linear under another name, for quantization
            return nn.Linear
        if name == "_get_activation_fn":
            return _get_activation_fn
        if not name.startswith("__") and hasattr(nn, name):
            return getattr(nn, name)
        layer = getattr(nn, representative, None) if representative is not None else None
        if layer is not None:
            holder = sys.modules[layer.__module__]
            if hasattr(holder, name):
                return getattr(holder, name)
        raise AttributeError(f"module 'ember.nn.modules' has no attribute {name!r}")
    return __getattr__


def _get_activation_fn(activation: str):
    """PyTorch's private helper: "relu" or "gelu" to the functional activation."""
    from ...nn import functional as F
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


for _name, _plugin in _SUBMODULES.items():
    _module = types.ModuleType(f"{__name__}.{_name}", f"``torch.nn.modules.{_name}``'s names, from ember.nn.")
    _module.__getattr__ = _resolver(_plugin)
    sys.modules[_module.__name__] = _module
    globals()[_name] = _module

__getattr__ = _resolver(None)
