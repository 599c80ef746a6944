"""``ember.utils.checkpoint``: activation checkpointing's interface (``torch.utils.checkpoint``).

PyTorch's ``checkpoint`` drops the activations of ``function`` in the forward pass and recomputes them
in backward, trading compute for memory. ember runs ``function`` once and keeps its activations: the
outputs and gradients are the same as PyTorch's, the memory saving is not there (a documented
difference). ``checkpoint_sequential`` runs the segments in order likewise.
"""

from __future__ import annotations

import warnings

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)``, with PyTorch's signature; activations are kept (no recomputation)."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly; ember "
                      "keeps activations either way", UserWarning, stacklevel=2)
    return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a Sequential or list of modules) on ``input`` in order, as PyTorch's does."""
    modules = list(functions.children()) if hasattr(functions, "children") else list(functions)
    if segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be positive, got {segments}")
    for module in modules:
        input = module(input)
    return input
