"""``ember.func``: function transforms (``torch.func``): ``functional_call``, ``grad``,
``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian``, ``vmap``,
``stack_module_state``.

ember has no batching interpreter, so ``vmap`` runs the function once per slice of the mapped
dimension and stacks the results: the values are PyTorch's, the speed is a Python loop's. The
derivative transforms are reverse-mode autograd (``jacfwd`` computes the same Jacobian in reverse mode).
"""

from __future__ import annotations

import contextlib

from .tensor import Tensor

__all__ = ["functional_call", "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap",
           "stack_module_state"]


@contextlib.contextmanager
def _swapped(module, values: dict):
    """Temporarily replace ``module``'s parameters and buffers by ``values`` (dotted names)."""
    saved = []
    for name, value in values.items():
        owner = module
        *path, leaf = name.split(".")
        for part in path:
            owner = getattr(owner, part)
        table = owner._parameters if leaf in owner._parameters else (owner._buffers if leaf in owner._buffers else None)
        if table is None:
            raise AttributeError(f"functional_call: {type(module).__name__} has no parameter or buffer {name!r}")
        saved.append((table, leaf, table[leaf]))
        table[leaf] = value
    try:
        yield
    finally:
        for table, leaf, old in reversed(saved):
            table[leaf] = old


def functional_call(module, parameter_and_buffer_dicts, args=(), kwargs=None, *, tie_weights=True, strict=False):
    """Call ``module(*args, **kwargs)`` with its parameters/buffers replaced by the given tensors
    (``torch.func.functional_call``); the module is left unchanged afterwards."""
    values = {}
    dicts = parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts, (list, tuple)) else \
        [parameter_and_buffer_dicts]
    for d in dicts:
        values.update(d)
    if not isinstance(args, tuple):
        args = (args,)
    with _swapped(module, values):
        return module(*args, **(kwargs or {}))


def _select(args, argnums):
    return (args[argnums],) if isinstance(argnums, int) else tuple(args[i] for i in argnums)


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (gradient of ``func``'s scalar output w.r.t. ``argnums``, the output)."""
    from .autograd import enable_grad, grad as autograd_grad

    def wrapper(*args, **kwargs):
        outer = any(isinstance(a, Tensor) and a.requires_grad for a in args)  # nested transform or outer graph
        with enable_grad():
            args = list(args)
            indices = (argnums,) if isinstance(argnums, int) else tuple(argnums)
            for i in indices:
                args[i] = args[i].detach().requires_grad_(True) if not args[i].requires_grad else args[i]
            out = func(*args, **kwargs)
            value, aux = (out if has_aux else (out, None))
            grads = autograd_grad([value], [args[i] for i in indices], create_graph=True, allow_unused=True)
            grads = tuple(g if g is not None else args[i] * 0 for g, i in zip(grads, indices))
        if not outer:  # as torch.func: plain tensors out when nothing outside is differentiating
            grads, value = tuple(g.detach() for g in grads), value.detach()
        g = grads[0] if isinstance(argnums, int) else grads
        return (g, (value, aux)) if has_aux else (g, value)
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient function of a scalar ``func`` (``torch.func.grad``)."""
    inner = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = inner(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn) where ``vjp_fn(v)`` returns v^T J for each primal (``torch.func.vjp``)."""
    from .autograd import enable_grad, grad as autograd_grad
    with enable_grad():
        xs = [p.detach().requires_grad_(True) for p in primals]
        out = func(*xs)
        value, aux = (out if has_aux else (out, None))

    def vjp_fn(*cotangents):
        outs = [value] if isinstance(value, Tensor) else list(value)
        vs = list(cotangents[0]) if len(cotangents) == 1 and not isinstance(cotangents[0], Tensor) else list(cotangents)
        gs = autograd_grad(outs, xs, vs, retain_graph=True, create_graph=True, allow_unused=True)
        return tuple(g if g is not None else x * 0 for g, x in zip(gs, xs))
    return (value, vjp_fn, aux) if has_aux else (value, vjp_fn)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J @ tangents) (``torch.func.jvp``)."""
    from .autograd.functional import jvp as functional_jvp
    out, jv = functional_jvp(func, tuple(primals), tuple(tangents), create_graph=True)
    return out, jv


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    """The Jacobian function of ``func`` w.r.t. ``argnums`` (``torch.func.jacrev``)."""
    from .autograd.functional import jacobian

    def wrapper(*args):
        indices = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        outer = any(isinstance(a, Tensor) and a.requires_grad for a in args)

        def partial(*chosen):
            full = list(args)
            for i, c in zip(indices, chosen):
                full[i] = c
            return func(*full)
        result = jacobian(partial, tuple(args[i] for i in indices), create_graph=True)
        result = result[0] if isinstance(argnums, int) and isinstance(result, tuple) else result
        if not outer:  # as torch.func: plain tensors out when nothing outside is differentiating
            result = result.detach() if isinstance(result, Tensor) else tuple(r.detach() for r in result)
        return result
    return wrapper


jacfwd = jacrev


def hessian(func, argnums=0):
    """The Hessian function of a scalar ``func`` (``torch.func.hessian``)."""
    return jacrev(jacrev(func, argnums), argnums)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Map ``func`` over a dimension of its inputs (``torch.func.vmap``), by a loop over slices."""
    from . import stack

    def wrapper(*args):
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        sizes = {a.shape[d] for a, d in zip(args, dims) if d is not None and isinstance(a, Tensor)}
        if len(sizes) != 1:
            raise ValueError(f"vmap: expected all mapped inputs to have the same size in the mapped dimension, "
                             f"got sizes {sorted(sizes)}")
        (n,) = sizes
        results = []
        for i in range(n):
            sliced = [a.select(d, i) if d is not None and isinstance(a, Tensor) else a for a, d in zip(args, dims)]
            results.append(func(*sliced))
        first = results[0]
        if isinstance(first, Tensor):
            return stack(results, out_dims)
        outs = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(first)
        return tuple(stack([r[k] for r in results], d) for k, d in enumerate(outs))
    return wrapper


def stack_module_state(models):
    """(params, buffers): each name's tensors of the identical ``models`` stacked along a new first dim."""
    from . import stack
    params = {name: stack([dict(m.named_parameters())[name].detach() for m in models])
              for name, _ in models[0].named_parameters()}
    buffers = {name: stack([dict(m.named_buffers())[name] for m in models]) for name, _ in models[0].named_buffers()}
    return params, buffers
