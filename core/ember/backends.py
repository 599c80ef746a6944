"""``ember.backends``: the switches PyTorch scripts set (``torch.backends.cudnn.benchmark = True``).

ember has no cuDNN or MPS kernels, so these are plain flags that scripts may read and write; they
change nothing. ``is_available()`` tells the truth: False.
"""

from types import SimpleNamespace

__all__ = ["cudnn", "mps"]

cudnn = SimpleNamespace(enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
                        is_available=lambda: False, version=lambda: None)
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
