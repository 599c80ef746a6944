"""``ember._inductor``: TorchInductor's ``config`` as plain settings with PyTorch's defaults. ember has
no code generator; scripts that tune it still run."""

from . import config  # noqa: F401

__all__ = ["config"]
