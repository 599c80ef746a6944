"""The rules every op keeps besides its numbers, checked from one of its samples: results stay on the
inputs' device and in their dtype, gradients match their inputs, bad arguments are refused with
ember's error types, and in-place variants follow PyTorch's version-counter rules."""

from __future__ import annotations

import numpy as np

from ..autograd import engine
from ..autograd.grad_mode import no_grad
from ..device import DeviceError
from ..creation import tensor
from ..tensor import Tensor
from .comparison import assert_close


class NotATensor:
    """What the kit passes where an op expects a tensor."""

    def __repr__(self) -> str:
        return "<not a tensor>"


def _tensors(values):
    for v in values:
        if isinstance(v, (tuple, list)):
            yield from _tensors(v)
        elif isinstance(v, Tensor):
            yield v


def check_results(outs, args, dtype, grads, diff_inputs, oracle_checked_dtype: bool) -> None:
    """Outputs on the inputs' device (and, with no oracle to say otherwise, floating outputs in the
    dtype of the floating inputs); each gradient with its input's shape, dtype and device."""
    inputs = list(_tensors(args))
    if inputs:
        dev = inputs[0].device
        for i, o in enumerate(outs):
            if o.device is not dev:
                raise AssertionError(f"output {i} is on {o.device}, the inputs on {dev}")
    float_dtypes = {t.dtype for t in inputs if t.is_floating_point()}
    if not oracle_checked_dtype and len(float_dtypes) == 1:
        (expected,) = float_dtypes
        for i, o in enumerate(outs):
            if o.is_floating_point() and o.dtype is not expected:
                raise AssertionError(f"output {i} is {o.dtype}, its floating inputs are {expected}")
    for i, (x, g) in enumerate(zip(diff_inputs, grads)):
        if g is None:
            continue
        if tuple(g.shape) != tuple(x.shape) or g.dtype is not x.dtype or g.device is not x.device:
            raise AssertionError(f"gradient of input {i} is {tuple(g.shape)} {g.dtype} on {g.device}; the input "
                                 f"is {tuple(x.shape)} {x.dtype} on {x.device}")


def check_rejects_non_tensor(op, args, kwargs) -> bool:
    """Passing a non-tensor where the sample has its first tensor must raise TypeError."""
    position = next((i for i, a in enumerate(args) if isinstance(a, Tensor)), None)
    if position is None:
        return False
    bad = list(args)
    bad[position] = NotATensor()
    try:
        op.fn(*bad, **kwargs)
    except TypeError:
        return True
    except Exception as exc:
        raise AssertionError(f"argument {position} given a non-tensor: raised {type(exc).__name__}: {exc}; "
                             f"expected a TypeError naming the op and the argument") from None
    raise AssertionError(f"argument {position} given a non-tensor: the op accepted it; expected a TypeError")


# Ops that take their inputs from any device by design, as in PyTorch (``dst.copy_(src)``); an op
# declaration can say the same with an attribute ``cross_device = True``.
CROSS_DEVICE_OPS = {"copy_"}


def check_rejects_mixed_devices(op, args, kwargs, other_device) -> bool:
    """Moving one input (not 0-d: PyTorch lets 0-d CPU tensors mix) to another device must raise DeviceError."""
    if op.name in CROSS_DEVICE_OPS or getattr(op, "cross_device", False):
        return False
    tensors = list(_tensors(args))
    movable = [t for t in tensors[1:] if t.dim() > 0] if len(tensors) > 1 else []
    if not movable:
        return False
    target = movable[0]
    moved = target.detach().to(other_device)

    def swap(values):
        out = []
        for v in values:
            if isinstance(v, (tuple, list)):
                out.append(type(v)(swap(v)))
            else:
                out.append(moved if v is target else v)
        return out
    try:
        op.fn(*swap(args), **kwargs)
    except DeviceError:
        return True
    except Exception as exc:
        raise AssertionError(f"an input moved to {other_device}: raised {type(exc).__name__}: {exc}; expected "
                             f"ember.DeviceError naming both devices") from None
    raise AssertionError(f"an input moved to {other_device} (the others on {tensors[0].device}): the op "
                         f"accepted it; expected ember.DeviceError")


def check_inplace(op, args, kwargs) -> bool:
    """``Tensor.<op>_`` writes the out-of-place result into ``self`` and returns it, bumps its version,
    refuses leaves that require grad, invalidates graphs that saved the old value, and gives the same
    gradient as the out-of-place op when applied to a non-leaf."""
    if op.inplace is None or not args or not isinstance(args[0], Tensor):
        return False
    first, rest = args[0], list(args[1:])
    with no_grad():
        plain_rest = [r.detach() if isinstance(r, Tensor) else r for r in rest]
        expected = op.fn(first.detach(), *plain_rest, **kwargs)
    if (not isinstance(expected, Tensor) or tuple(expected.shape) != tuple(first.shape)
            or expected.dtype is not first.dtype):
        return False  # PyTorch refuses these in place too (broadcast or promoted result)
    name = op.name + "_"

    target = first.detach().clone()
    version = target._version
    returned = op.inplace(target, *plain_rest, **kwargs)
    if returned is not target:
        raise AssertionError(f"{name} returned a new tensor instead of self")
    assert_close(target, expected, msg=f"{name} result differs from {op.name}")
    if target._version <= version:
        raise AssertionError(f"{name} did not bump the tensor's version counter")

    if not first.is_floating_point():
        return True
    leaf = first.detach().clone().requires_grad_(True)
    try:
        op.inplace(leaf, *plain_rest, **kwargs)
    except RuntimeError:
        pass
    else:
        raise AssertionError(f"{name} on a leaf that requires grad was accepted; expected RuntimeError")

    source = first.detach().clone().requires_grad_(True)
    saved_by_mul = source.clone()
    product = saved_by_mul * saved_by_mul  # mul saves its inputs for backward
    op.inplace(saved_by_mul, *plain_rest, **kwargs)
    try:
        product.sum().backward()
    except RuntimeError:
        pass
    else:
        raise AssertionError(f"backward through a graph that saved a tensor later modified by {name} gave no "
                             f"error; the version counter must catch it")

    if not op.differentiable:
        return True
    a = first.detach().clone().requires_grad_(True)
    b = first.detach().clone().requires_grad_(True)
    cotangent = tensor(np.random.default_rng(3).standard_normal(tuple(expected.shape)), dtype=expected.dtype,
                       device=expected.device)
    out_of_place = op.fn(a, *plain_rest, **kwargs)
    in_place = b.clone()
    op.inplace(in_place, *plain_rest, **kwargs)
    (ga,) = engine.grad([out_of_place], [a], [cotangent], allow_unused=True)
    (gb,) = engine.grad([in_place], [b], [cotangent], allow_unused=True)
    if (ga is None) != (gb is None):
        raise AssertionError(f"{name} on a non-leaf: gradient {'missing' if gb is None else 'present'}, "
                             f"the out-of-place op's {'missing' if ga is None else 'present'}")
    if ga is not None:
        assert_close(gb, ga, msg=f"gradient through {name} differs from {op.name}'s")
    return True
