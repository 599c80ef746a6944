"""Finite-difference checks of first and second derivatives, as ``torch.autograd.gradcheck``.

Run them in float64: central differences with ``eps=1e-6`` are only meaningful there.
"""

from __future__ import annotations

import numpy as np

from ..autograd import engine
from ..tensor import Tensor


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree; the message says which input and element."""


def _flat_outputs(out) -> list[Tensor]:
    if isinstance(out, Tensor):
        return [out]
    return [o for o in out if isinstance(o, Tensor)]


def _numeric_jacobian_row(fn, inputs, i, outputs_template, eps):
    """d(outputs)/d(inputs[i]) by central differences: one row block per element of inputs[i]."""
    x = inputs[i]
    data = x._data  # written through an index, not a reshape: a non-contiguous reshape would be a copy
    columns = []
    for k in range(data.size):
        where = np.unravel_index(k, data.shape)
        orig = data[where].item()
        data[where] = orig + eps
        plus = [o._host().astype(np.float64).ravel().copy() for o in _flat_outputs(fn(*inputs))]
        data[where] = orig - eps
        minus = [o._host().astype(np.float64).ravel().copy() for o in _flat_outputs(fn(*inputs))]
        data[where] = orig
        columns.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
                       if plus else np.zeros(0))
    return np.stack(columns, axis=0) if columns else np.zeros((0, 0))


def _analytic_jacobian_rows(fn, inputs, diff_idx, create_graph=False):
    outputs = _flat_outputs(fn(*inputs))
    rows = {i: [] for i in diff_idx}
    total = sum(o.numel() for o in outputs)
    for o_index, out in enumerate(outputs):
        if not out.requires_grad:
            for i in diff_idx:
                rows[i].append(np.zeros((inputs[i].numel(), out.numel())))
            continue
        for k in range(out.numel()):
            seed = out.detach() * 0
            seed._data[np.unravel_index(k, seed._data.shape)] = 1
            grads = engine.grad([out], [inputs[i] for i in diff_idx], [seed], retain_graph=True,
                                allow_unused=True)
            for i, g in zip(diff_idx, grads):
                col = np.zeros(inputs[i].numel()) if g is None else g._host().astype(np.float64).ravel()
                rows[i].append(col[:, None])
    return {i: (np.concatenate(rows[i], axis=1) if rows[i] else np.zeros((inputs[i].numel(), total)))
            for i in diff_idx}


def gradcheck(fn, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Check the analytic gradients of ``fn(*inputs)`` against central finite differences.

    ``inputs`` that are floating tensors with ``requires_grad`` are checked. On a mismatch the error
    names the input, the (input element, output element) pair and both values.
    """
    inputs = tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck: no input requires grad; pass tensors with requires_grad=True")
    for i in diff_idx:
        if inputs[i].dtype.name != "float64":
            import warnings
            warnings.warn(f"gradcheck: input {i} is {inputs[i].dtype}, not float64; the check will be loose",
                          stacklevel=2)
    analytic = _analytic_jacobian_rows(fn, inputs, diff_idx)
    for i in diff_idx:
        numeric = _numeric_jacobian_row(fn, inputs, i, None, eps)
        ana = analytic[i]
        if numeric.shape != ana.shape:
            numeric = numeric.reshape(ana.shape)
        bad = ~np.isclose(ana, numeric, rtol=rtol, atol=atol)
        if bad.any():
            idx = np.argwhere(bad)[0]
            msg = (f"gradcheck: Jacobian mismatch for input {i} (shape {tuple(inputs[i].shape)}): at input element "
                   f"{int(idx[0])}, output element {int(idx[1])}: analytic {ana[tuple(idx)]:.8g} vs numerical "
                   f"{numeric[tuple(idx)]:.8g} ({int(bad.sum())} of {bad.size} entries differ; atol={atol}, "
                   f"rtol={rtol})")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True) -> bool:
    """Check second derivatives: gradcheck of the function ``(inputs, v) -> grad(fn(inputs), inputs, v)``."""
    inputs = tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    outputs = _flat_outputs(fn(*inputs))
    outputs = [o for o in outputs if o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = []
        for o in outputs:
            v = o.detach() * 0
            v._data[...] = rng.standard_normal(v._data.shape)
            grad_outputs.append(v.requires_grad_(True))
    n = len(inputs)

    def first_derivative(*args):
        xs, vs = args[:n], args[n:]
        outs = [o for o in _flat_outputs(fn(*xs)) if o.requires_grad]
        grads = engine.grad(outs, [xs[i] for i in diff_idx], list(vs), create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None and g.requires_grad)

    return gradcheck(first_derivative, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
