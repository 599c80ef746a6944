"""``ember.backends``: the switches PyTorch scripts set (``torch.backends.cudnn.benchmark = True``).

ember has no cuDNN, MPS or TF32 kernels, so these are plain flags that scripts may read and write; they
change nothing. The ``is_available()`` questions tell the truth: False. Each is a submodule, so
``import ember.backends.cudnn`` works as ``import torch.backends.cudnn`` does.
"""

from . import cpu, cuda, cudnn, mkldnn, mps, opt_einsum, quantized  # noqa: F401

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps", "opt_einsum", "quantized"]
