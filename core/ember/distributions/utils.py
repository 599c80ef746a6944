"""Parameter helpers of the distributions (``torch.distributions.utils``): broadcasting numbers and
tensors together, and converting between probabilities and logits."""

from __future__ import annotations

import numbers

from .. import dtypes as _dt
from ..tensor import Tensor

__all__ = ["broadcast_all", "logits_to_probs", "probs_to_logits", "clamp_probs", "lazy_property"]


def broadcast_all(*values):
    """Tensors and numbers as tensors of one broadcast shape; numbers take the dtype/device of the first
    tensor (or the default dtype), as PyTorch's ``broadcast_all``."""
    from .. import tensor
    tensors = [v for v in values if isinstance(v, Tensor)]
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)):
            raise ValueError("Input arguments must all be instances of numbers.Number or Tensor.")
    ref = tensors[0] if tensors else None
    dtype = ref.dtype if ref is not None and ref.dtype.is_floating_point else _dt.get_default_dtype()
    device = ref.device if ref is not None else None
    as_tensors = [v if isinstance(v, Tensor) else tensor(float(v), dtype=dtype, device=device) for v in values]
    from .. import broadcast_tensors
    return broadcast_tensors(*as_tensors)


def clamp_probs(probs):
    eps = _dt.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary: bool = False):
    from ..nn import functional as F
    return logits.sigmoid() if is_binary else F.softmax(logits, dim=-1)


def probs_to_logits(probs, is_binary: bool = False):
    ps = clamp_probs(probs)
    return (ps.log() - (-ps).log1p()) if is_binary else ps.log()


class lazy_property:  # noqa: N801 - PyTorch's name
    """A property computed on first access and then stored on the instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
