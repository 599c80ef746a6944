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
              raise_exception: bool = True, fast_mode: bool = False) -> bool:
    """Check the analytic gradients of ``fn(*inputs)`` against central finite differences.

    ``inputs`` that are floating tensors with ``requires_grad`` are checked. On a mismatch the error
    names the input, the input element and the output element (as indices in their shapes) and both
    values. ``fast_mode`` (as PyTorch's) compares one random directional derivative per input instead
    of whole Jacobians: two evaluations per input, not two per element; a mismatch is then located
    element by element when the input is small enough.
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
    if fast_mode:
        return _fast_gradcheck(fn, inputs, diff_idx, eps, atol, rtol, raise_exception)
    out_shapes = [tuple(o.shape) for o in _flat_outputs(fn(*inputs))]
    analytic = _analytic_jacobian_rows(fn, inputs, diff_idx)
    for i in diff_idx:
        message = _compare_jacobians(fn, inputs, i, analytic[i], out_shapes, eps, atol, rtol)
        if message:
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def _compare_jacobians(fn, inputs, i, ana, out_shapes, eps, atol, rtol) -> str:
    numeric = _numeric_jacobian_row(fn, inputs, i, None, eps)
    if numeric.shape != ana.shape:
        numeric = numeric.reshape(ana.shape)
    bad = ~np.isclose(ana, numeric, rtol=rtol, atol=atol)
    if not bad.any():
        return ""
    error = np.where(bad, np.abs(ana - numeric), -1)
    idx = np.unravel_index(np.argmax(error), error.shape)
    shape = tuple(inputs[i].shape)
    in_index = tuple(int(k) for k in np.unravel_index(idx[0], shape)) if shape else ()
    out_nr, out_index = _locate_output(int(idx[1]), out_shapes)
    return (f"gradcheck: Jacobian mismatch for input {i} (shape {shape}): d(output {out_nr}{list(out_index)})"
            f"/d(input {i}{list(in_index)}) is analytic {ana[idx]:.8g} vs numerical {numeric[idx]:.8g} "
            f"(the largest of {int(bad.sum())} differing entries out of {bad.size}; atol={atol}, rtol={rtol})")


def _locate_output(flat: int, out_shapes) -> tuple[int, tuple]:
    """The (output number, index in that output) of an element of the concatenated outputs."""
    for nr, shape in enumerate(out_shapes):
        size = int(np.prod(shape)) if shape else 1
        if flat < size:
            return nr, tuple(int(k) for k in np.unravel_index(flat, shape)) if shape else ()
        flat -= size
    return len(out_shapes), ()


_LOCATE_LIMIT = 256  # fast mode pins a mismatch to an element only for inputs at most this big


def _fast_gradcheck(fn, inputs, diff_idx, eps, atol, rtol, raise_exception) -> bool:
    rng = np.random.default_rng(0)
    outputs = _flat_outputs(fn(*inputs))
    weights = [rng.standard_normal(tuple(o.shape)) for o in outputs]
    diff = [(o, w) for o, w in zip(outputs, weights) if o.requires_grad]
    grads = [None] * len(diff_idx)
    if diff:
        seeds = [_like(o, w) for o, w in diff]
        grads = engine.grad([o for o, _ in diff], [inputs[i] for i in diff_idx], seeds, allow_unused=True)
    for i, g in zip(diff_idx, grads):
        x = inputs[i]
        direction = rng.standard_normal(tuple(x.shape))
        analytic = 0.0 if g is None else float(np.sum(g._host().astype(np.float64) * direction))
        original = x._host().astype(np.float64).copy()
        evaluations = []
        for sign in (1, -1):
            x._data[...] = x._device.xp.asarray((original + sign * eps * direction).astype(x.dtype.numpy))
            evaluations.append([o._host().astype(np.float64) for o in _flat_outputs(fn(*inputs))])
        x._data[...] = x._device.xp.asarray(original.astype(x.dtype.numpy))
        numeric = sum(float(np.sum(w * (p - m))) for w, p, m in zip(weights, *evaluations)) / (2 * eps)
        if abs(analytic - numeric) <= atol + rtol * abs(numeric):
            continue
        message = (f"gradcheck (fast mode): for input {i} (shape {tuple(x.shape)}) the directional derivative "
                   f"u.J.v is analytic {analytic:.8g} vs numerical {numeric:.8g} (atol={atol}, rtol={rtol})")
        if x.numel() <= _LOCATE_LIMIT:
            out_shapes = [tuple(o.shape) for o in outputs]
            located = _compare_jacobians(fn, inputs, i, _analytic_jacobian_rows(fn, inputs, [i])[i], out_shapes,
                                         eps, atol, rtol)
            message += "; " + (located or "element by element the Jacobians agree (a cancellation?)")
        if raise_exception:
            raise GradcheckError(message)
        return False
    return True


def _like(t: Tensor, values) -> Tensor:
    from ..creation import tensor
    return tensor(values, dtype=t.dtype, device=t.device)


def gradgradcheck(fn, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, fast_mode: bool = False) -> bool:
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

    try:
        return gradcheck(first_derivative, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                         raise_exception=raise_exception, fast_mode=fast_mode)
    except GradcheckError as exc:  # a second-derivative failure: say so, and which inputs are cotangents
        message = str(exc).replace("gradcheck", "gradgradcheck", 1)
        raise GradcheckError(f"{message} [second derivatives: inputs 0..{n - 1} are the function's inputs, "
                             f"{n}.. the cotangents v of grad(outputs, inputs, v)]") from None
