"""The conversions the core itself needs: dtype casts and device transfers, both differentiable, and
``Tensor.to``, which is bound here (the tensor layer sits below primitives)."""

from __future__ import annotations

from .autograd.grad_mode import STATE
from .primitive import Primitive, apply, record_node
from .tensor import Tensor, _parse_to, wrap


class Cast(Primitive):
    """``x.to(dtype)``: the gradient is cast back to the input's dtype."""

    name = "_to_copy"  # ATen's: PyTorch shows ToCopyBackward0
    save_inputs = True

    @staticmethod
    def forward(xp, x, dtype):
        return x.astype(dtype.numpy)

    @staticmethod
    def backward(ctx, grad, dtype):
        return grad.to(ctx.inputs[0].dtype)


class Transfer(Primitive):
    """``x.to(device)``: the gradient travels back to the input's device."""

    save_inputs = True

    @staticmethod
    def backward(ctx, grad, device):
        return grad.to(ctx.inputs[0].device)


def transfer(x: Tensor, device) -> Tensor:
    """Copy ``x`` to ``device`` through the host; recorded so gradients flow back across devices."""
    source = x._device.backend
    host = x._host() if x._device.type == "cpu" else source.to_host(x._data)
    data = host.copy() if device.type == "cpu" else device.backend.from_host(host, device.ordinal)
    out = wrap(data, device)
    if x._requires_grad and STATE.enabled:
        record_node(Transfer, (x,), {"device": device}, (out,))
    return out


def to(self, *args, **kwargs) -> Tensor:
    """Convert dtype and/or device: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``;
    ``copy=True`` copies even when nothing changes (``Tensor.to``). Returns ``self`` when nothing changes."""
    dev, dtype, copy = _parse_to(args, kwargs)
    result = self
    if dtype is not None and dtype is not self._dtype:
        result = apply(Cast, result, dtype=dtype)
    if dev is not None and dev is not self._device:
        result = transfer(result, dev)
    if copy and result is self:
        result = apply(Cast, self, dtype=self._dtype)  # astype copies
    return result


Tensor.to = to
