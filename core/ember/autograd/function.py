"""``ember.autograd.Function``: custom ops written with tensors, as ``torch.autograd.Function``.

``forward(ctx, *args)`` runs without recording; ``backward(ctx, *grads)`` returns one gradient per
argument of forward (None for non-tensors). ``ctx.save_for_backward`` keeps tensors with the same
in-place check as built-in ops. The PyTorch 2 style (``forward(*args)`` plus ``setup_context``) works too.
"""

from __future__ import annotations

import functools

from ..tensor import Tensor, _version_cell, wrap
from .graph import Node, _sequence
from .grad_mode import STATE, set_enabled

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx(Node):
    """The ``ctx`` of a custom Function: a node that also accepts arbitrary attributes."""

    # needs_input_grad is known before forward runs (the edges come after it): stored, not derived
    __slots__ = ("_non_differentiable", "materialize_grads", "_num_outputs", "needs_input_grad")

    def __init__(self):
        self._saved = None
        self._non_differentiable = ()
        self.materialize_grads = True
        self.needs_input_grad = ()
        self.attrs = {}

    def save_for_backward(self, *tensors) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward: expected tensors or None, got {type(t).__name__}")
        self.save_inputs(tensors)

    @property
    def saved_tensors(self) -> tuple:
        return self.inputs

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable = tensors

    def mark_dirty(self, *tensors) -> None:
        for t in tensors:
            _version_cell(t)[0] += 1

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value

    def run(self, grads):
        result = self.op.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        expected = len(self.next)
        if len(result) != expected:
            if len(result) > expected and all(r is None for r in result[expected:]):
                return result[:expected]
            raise RuntimeError(f"{self.op.__name__}.backward returned {len(result)} gradients, expected "
                               f"{expected} (one per argument of forward)")
        return result


class Function:
    """Subclass with static ``forward`` and ``backward``; call it with ``MyFunction.apply(*args)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    setup_context = None

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        ctx.op = cls
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        saved = STATE.enabled
        set_enabled(False)
        try:
            if cls.setup_context is not None:
                output = cls.forward(*args, **kwargs)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        finally:
            set_enabled(saved)
        if cls.setup_context is not None:
            cls.setup_context(ctx, args, output)
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        if saved and any(ctx.needs_input_grad):
            outputs = _link(ctx, args, outputs)
        return outputs[0] if single else outputs


def _link(ctx, args, outputs):
    """Record ``ctx`` on the tape as the node of ``outputs``; an input returned as it is becomes a new
    tensor sharing its memory, so the input itself keeps its own history."""
    ctx.next = tuple((a._node or a, a._output_nr, a._data.shape, a._dtype)
                     if isinstance(a, Tensor) and a.requires_grad else None for a in args)
    ctx.seq = next(_sequence)
    inputs = {id(a) for a in args if isinstance(a, Tensor)}
    outputs = tuple(wrap(o._data, o._device, _version_cell(o)) if isinstance(o, Tensor) and id(o) in inputs
                    else o for o in outputs)
    tensors = [o for o in outputs if isinstance(o, Tensor)]
    ctx._out_meta = tuple((o._data.shape, o._dtype, o._device) for o in tensors)
    skip = {id(t) for t in ctx._non_differentiable}
    for nr, out in enumerate(tensors):
        if id(out) in skip or not out._dtype.is_floating_point:
            continue
        out._requires_grad, out._node = True, ctx
        if nr:
            out._output_nr = nr
    return outputs


def once_differentiable(backward):
    """Mark a backward that is not itself differentiable: it runs with grad mode off."""
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        saved = STATE.enabled
        set_enabled(False)
        try:
            return backward(ctx, *grads)
        finally:
            set_enabled(saved)
    return wrapper
