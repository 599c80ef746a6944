"""``ember._foreach_*``: PyTorch's list-at-a-time ops (``torch._foreach_add_(params, grads, alpha=-lr)``),
used by optimizers and EMA code. Each applies the ember op to every tensor of the list (PyTorch fuses
them into fewer kernels; the results are the same). Out-of-place forms return a tuple of new tensors;
in-place forms change the tensors and return the list, as PyTorch 2.13 does. The second operand may be
a number, a list of numbers, a list of tensors, or (for binary ops) one tensor.
"""

from __future__ import annotations

from .tensor import Tensor

_UNARY = ("abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1", "floor", "frac",
          "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal", "round", "rsqrt", "sigmoid", "sign", "sin",
          "sinh", "sqrt", "tan", "tanh", "trunc")
_BINARY = ("add", "sub", "mul", "div", "maximum", "minimum", "pow", "clamp_min", "clamp_max")

__all__ = [f"_foreach_{n}{s}" for n in _UNARY + _BINARY + ("addcmul", "addcdiv", "lerp") for s in ("", "_")] + \
          ["_foreach_zero_", "_foreach_copy_", "_foreach_clone", "_foreach_norm", "_foreach_max"]


def _check_list(op, tensors):
    if not isinstance(tensors, (list, tuple)) or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"{op}(): expected a list of tensors, got {type(tensors).__name__}")
    return tensors


def _seconds(op, other, n):
    """The per-tensor second operand: a number, one tensor, or one entry of a list of the same length."""
    if isinstance(other, (list, tuple)):
        if len(other) != n:
            raise RuntimeError(f"{op}(): Tensor lists must have the same number of tensors, got {n} and {len(other)}")
        return list(other)
    return [other] * n


def _binary_fn(name):
    def call(t, o, alpha):
        if name in ("add", "sub") and alpha != 1:
            return getattr(t, name)(o, alpha=alpha)
        if name in ("maximum", "minimum") and not isinstance(o, Tensor):
            return t.clamp(min=o) if name == "maximum" else t.clamp(max=o)
        return getattr(t, name)(o)

    def out_of_place(self, other, *, alpha=1):
        op = f"_foreach_{name}"
        self = _check_list(op, self)
        return tuple(call(t, o, alpha) for t, o in zip(self, _seconds(op, other, len(self))))

    def in_place(self, other, *, alpha=1):
        op = f"_foreach_{name}_"
        self = _check_list(op, self)
        for t, o in zip(self, _seconds(op, other, len(self))):
            t.copy_(call(t, o, alpha))
        return self
    out_of_place.__name__, in_place.__name__ = f"_foreach_{name}", f"_foreach_{name}_"
    out_of_place.__doc__ = f"``[{name}(t, o) for t, o in zip(self, other)]`` (``torch._foreach_{name}``)."
    in_place.__doc__ = f"``t.{name}_(o)`` for each tensor (``torch._foreach_{name}_``); returns ``self``."
    return out_of_place, in_place


def _unary_fn(name):
    def out_of_place(self):
        return tuple(getattr(t, name)() for t in _check_list(f"_foreach_{name}", self))

    def in_place(self):
        for t in _check_list(f"_foreach_{name}_", self):
            t.copy_(getattr(t, name)())
        return self
    out_of_place.__name__, in_place.__name__ = f"_foreach_{name}", f"_foreach_{name}_"
    out_of_place.__doc__ = f"``{name}`` of each tensor (``torch._foreach_{name}``)."
    in_place.__doc__ = f"``{name}`` of each tensor, in place (``torch._foreach_{name}_``); returns ``self``."
    return out_of_place, in_place


def _pointwise_fn(name):
    """addcmul / addcdiv: self + value * t1 (*|/) t2, ``value`` a number or a list of numbers."""
    def each(self, tensor1, tensor2, value):
        op = f"_foreach_{name}"
        n = len(_check_list(op, self))
        return zip(self, _seconds(op, tensor1, n), _seconds(op, tensor2, n), _seconds(op, value, n))

    def out_of_place(self, tensor1, tensor2, value=1):
        return tuple(getattr(t, name)(a, b, value=v) for t, a, b, v in each(self, tensor1, tensor2, value))

    def in_place(self, tensor1, tensor2, value=1):
        for t, a, b, v in each(self, tensor1, tensor2, value):
            t.copy_(getattr(t, name)(a, b, value=v))
        return self
    out_of_place.__name__, in_place.__name__ = f"_foreach_{name}", f"_foreach_{name}_"
    out_of_place.__doc__ = f"``{name}`` over lists (``torch._foreach_{name}``)."
    in_place.__doc__ = f"``{name}`` over lists, in place (``torch._foreach_{name}_``); returns ``self``."
    return out_of_place, in_place


def _lerp(self, tensors1, weight):
    n = len(_check_list("_foreach_lerp", self))
    return zip(self, _seconds("_foreach_lerp", tensors1, n), _seconds("_foreach_lerp", weight, n))


def _foreach_lerp(self, tensors1, weight):
    """``t + weight * (end - t)`` for each pair (``torch._foreach_lerp``)."""
    return tuple(t + w * (e - t) for t, e, w in _lerp(self, tensors1, weight))


def _foreach_lerp_(self, tensors1, weight):
    """In-place ``lerp`` for each pair (``torch._foreach_lerp_``); returns ``self``."""
    for t, e, w in _lerp(self, tensors1, weight):
        t.copy_(t + w * (e - t))
    return self


def _foreach_zero_(self):
    """Zero every tensor in place (``torch._foreach_zero_``)."""
    for t in _check_list("_foreach_zero_", self):
        t.zero_()
    return self


def _foreach_copy_(self, src, non_blocking=False):
    """Copy ``src[i]`` into ``self[i]`` (``torch._foreach_copy_``); returns ``self``."""
    for t, s in zip(_check_list("_foreach_copy_", self), _seconds("_foreach_copy_", src, len(self))):
        t.copy_(s)
    return self


def _foreach_clone(self):
    return tuple(t.clone() for t in _check_list("_foreach_clone", self))


def _foreach_norm(self, ord=2, dtype=None):
    """The ``ord``-norm of each tensor (``torch._foreach_norm``)."""
    from . import linalg
    return tuple(linalg.vector_norm(t, ord, dtype=dtype) for t in _check_list("_foreach_norm", self))


def _foreach_max(self):
    return tuple(t.max() for t in _check_list("_foreach_max", self))


for _name in _UNARY:
    globals()[f"_foreach_{_name}"], globals()[f"_foreach_{_name}_"] = _unary_fn(_name)
for _name in _BINARY:
    globals()[f"_foreach_{_name}"], globals()[f"_foreach_{_name}_"] = _binary_fn(_name)
for _name in ("addcmul", "addcdiv"):
    globals()[f"_foreach_{_name}"], globals()[f"_foreach_{_name}_"] = _pointwise_fn(_name)
