"""``ember.autograd.functional``: derivatives of whole functions (``torch.autograd.functional``):
``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``vhp``, ``hvp``. Built on reverse mode: a Jacobian is
one vector-Jacobian product per output element, and ``jvp``/``hvp`` use the double-vjp identity
(the derivative of a vjp, which is linear in its vector, with respect to that vector)."""

from __future__ import annotations

from ..tensor import Tensor
from .engine import grad as _grad
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _tuple(x):
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _prepare(inputs, create_graph=False):
    """Inputs that require grad; with ``create_graph``, ones that already do stay on their graph (as
    PyTorch's), so nested derivatives (a Hessian as the Jacobian of a gradient) see through."""
    return tuple(x.view_as(x) if create_graph and x.requires_grad else x.detach().requires_grad_(True)
                 for x in _tuple(inputs))


def _unpack(values, was_tensor):
    return values[0] if was_tensor else values


def _grads(outputs, inputs, grad_outputs, create_graph):
    grads = _grad(outputs, inputs, grad_outputs, retain_graph=True, create_graph=create_graph, allow_unused=True)
    return tuple(g if g is not None else x * 0 for g, x in zip(grads, inputs))


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the outputs and the vector-Jacobian product."""
    single = isinstance(inputs, Tensor)
    with enable_grad():
        xs = _prepare(inputs, create_graph)
        out = func(*xs)
        outs = _tuple(out)
        vs = _tuple(v) if v is not None else tuple(o * 0 + 1 for o in outs)
        grads = _grads(outs, xs, vs, create_graph)
    detached = out.detach() if isinstance(out, Tensor) else tuple(o.detach() for o in out)
    return detached, _unpack(tuple(g if create_graph else g.detach() for g in grads), single)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the outputs and the Jacobian-vector product (by double vjp)."""
    single = isinstance(inputs, Tensor)
    with enable_grad():
        xs = _prepare(inputs, create_graph)
        out = func(*xs)
        outs = _tuple(out)
        us = tuple((o * 0).requires_grad_(True) for o in outs)  # dummy cotangents; J^T u is linear in u
        g = _grad(outs, xs, us, retain_graph=True, create_graph=True, allow_unused=True)
        pairs = [(gi, x) for gi, x in zip(g, xs) if gi is not None]
        vs = _tuple(v) if v is not None else tuple(x * 0 + 1 for x in xs)
        vs = [vi for gi, vi in zip(g, vs) if gi is not None]
        jv = _grad([p[0] for p in pairs], us, vs, retain_graph=True, create_graph=create_graph, allow_unused=True)
        jv = tuple(j if j is not None else o * 0 for j, o in zip(jv, outs))
    detached = out.detach() if isinstance(out, Tensor) else tuple(o.detach() for o in out)
    return detached, _unpack(tuple(j if create_graph else j.detach() for j in jv), isinstance(out, Tensor))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """d func(inputs) / d inputs, shaped output.shape + input.shape (nested tuples for several of either)."""
    from .. import stack
    single_in = isinstance(inputs, Tensor)
    with enable_grad():
        xs = _prepare(inputs, create_graph)
        out = func(*xs)
        outs = _tuple(out)
        per_output = []
        for o in outs:
            rows = [[] for _ in xs]
            flat = o.reshape(-1)
            for i in range(flat.shape[0]):
                gs = _grads([flat[i]], xs, None, create_graph)
                for k, g in enumerate(gs):
                    rows[k].append(g if create_graph else g.detach())
            per_output.append(tuple(
                (stack(r, 0) if r else x.new_zeros((0,) + tuple(x.shape))).reshape(tuple(o.shape) + tuple(x.shape))
                for r, x in zip(rows, xs)))
    per_output = [_unpack(p, single_in) for p in per_output]
    return per_output[0] if isinstance(out, Tensor) else tuple(per_output)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    single = isinstance(inputs, Tensor)

    def gradient(*xs):
        with enable_grad():
            out = func(*xs)
            return _unpack(_grads([out], xs, None, True), single)
    return jacobian(gradient, inputs, create_graph=create_graph)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar function."""
    single = isinstance(inputs, Tensor)
    with enable_grad():
        xs = _prepare(inputs, create_graph)
        out = func(*xs)
        g = _grads([out], xs, None, True)
        vs = _tuple(v) if v is not None else tuple(x * 0 + 1 for x in xs)
        hv = _grads(list(g), xs, list(vs), create_graph)
    return out.detach(), _unpack(tuple(h if create_graph else h.detach() for h in hv), single)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v); the Hessian is symmetric, so it equals ``vhp``."""
    return vhp(func, inputs, v, create_graph, strict)
