"""The op conformance check: everything an op declared, run from its samples.

For each dtype the op declares and each of its samples: the forward result against PyTorch's
counterpart, gradients against PyTorch's, and in float64 the gradients against finite differences
(and second derivatives, unless the op opts out). An op without a PyTorch counterpart (``torch=None``)
must declare what its forward should equal: a ``reference=`` composite of other ember ops, or an
``expected=`` function on numpy arrays. Without torch installed, the PyTorch comparison is reported
as not run (see :mod:`ember.testing.oracle`), never passed silently.
"""

from __future__ import annotations

import importlib

import numpy as np

from .. import dtypes as _dt
from ..autograd import engine
from ..tensor import Tensor
from . import op_cases, op_rules
from .cases import Failures
from .comparison import assert_close
from .devices import available_devices, resolve_devices
from .gradcheck import gradcheck, gradgradcheck
from .oracle import not_compared, reports_missing_oracle, torch_or_none
from .samples import SampleMaker

# Tolerances against PyTorch: float32 results differ by summation order, so they get room.
ORACLE_TOL = {"float32": (1e-4, 1e-5), "float64": (1e-7, 1e-9), "float16": (1e-2, 1e-3)}


def _torch():
    return torch_or_none()


def registered_op(name):
    from ..plugins import registries
    return registries["ops"][name]


def torch_counterpart(op):
    """The PyTorch function an op mirrors (from its dotted ``torch`` name), or None."""
    torch = _torch()
    if torch is None or not op.torch:
        return None
    module_path, _, attr = op.torch.rpartition(".")
    parts = module_path.split(".")
    obj = importlib.import_module(parts[0])
    for part in parts[1:]:
        obj = getattr(obj, part)
    return getattr(obj, attr)


def to_torch(value, requires_grad=None):
    """An ember value converted for PyTorch: tensors copied (keeping requires_grad), dtypes mapped."""
    torch = _torch()
    if isinstance(value, Tensor):
        t = torch.from_numpy(np.array(value.detach()._host()))
        if value.requires_grad if requires_grad is None else requires_grad:
            t.requires_grad_(True)
        return t
    if isinstance(value, _dt.dtype):
        return getattr(torch, value.name)
    if isinstance(value, tuple):
        return tuple(to_torch(v) for v in value)
    if isinstance(value, list):
        return [to_torch(v) for v in value]
    if isinstance(value, dict):
        return {k: to_torch(v) for k, v in value.items()}
    return value


def _outputs(out):
    if isinstance(out, Tensor):
        return [out]
    if hasattr(out, "_fields") or isinstance(out, (tuple, list)):
        return [o for o in out if isinstance(o, Tensor) or hasattr(o, "detach")]
    return [out] if hasattr(out, "detach") else []


def _fresh(args):
    """Detached copies of the sample's tensors (so each check starts from leaves)."""
    def fresh(v):
        if isinstance(v, Tensor):
            t = v.detach().clone().detach()
            return t.requires_grad_(True) if v.requires_grad else t
        if isinstance(v, tuple):
            return tuple(fresh(x) for x in v)
        if isinstance(v, list):
            return [fresh(x) for x in v]
        return v
    return fresh(args)


def _grad_inputs(args):
    """Tensors that require grad, including those inside list/tuple arguments (cat, stack, einsum)."""
    return [a for a in _flatten(args) if isinstance(a, Tensor) and a.requires_grad]


def _substitute(args, it):
    """``args`` with each tensor that requires grad replaced by the next of ``it`` (nesting kept)."""
    out = []
    for a in args:
        if isinstance(a, (tuple, list)):
            out.append(type(a)(_substitute(a, it)))
        else:
            out.append(next(it) if isinstance(a, Tensor) and a.requires_grad else a)
    return out


@reports_missing_oracle
def check_op(name_or_op, device=None, dtypes=None, oracle: bool = True, finite_differences: bool = True,
             second_order: bool = True, *, devices=None, rules: bool = True):
    """Run every declared check of one op on each device (default: every available one); raises
    AssertionError naming the op, device, dtype and sample. Returns the number of samples checked.

    Besides the numbers (PyTorch's, finite differences), ``rules`` checks what every op promises:
    results on the inputs' device and dtype, TypeError for a non-tensor argument, ember.DeviceError
    for inputs on two devices, and the in-place variant's version-counter rules. Any other exception
    (a ShapeError raised in backward...) is reported as an AssertionError with the same label.
    """
    op = registered_op(name_or_op) if isinstance(name_or_op, str) else name_or_op
    if op.samples is None:
        raise AssertionError(f"op {op.name!r} declares no samples: the conformance kit cannot check it")
    if (not op.torch and op.reference is None and getattr(op, "expected", None) is None
            and not getattr(op, "checked_elsewhere", "")):
        raise AssertionError(f"op {op.name!r} declares no PyTorch counterpart (torch=None) and neither a "
                             f"reference= composite of other ember ops nor an expected= function computing its "
                             f"result from numpy arrays (nor checked_elsewhere= naming the test that checks "
                             f"it): nothing would check its forward")
    oracle = oracle and "oracle" not in op.skips
    torch_fn = torch_counterpart(op) if oracle else None
    if oracle and op.torch and torch_fn is None:
        not_compared(f"op {op.name!r} against {op.torch}")
    device_names = resolve_devices(device if devices is None and device is not None else devices)
    failures = Failures(f"op {op.name!r}")
    for dev in device_names:
        other = _other_device(dev)
        for dtype in dtypes or op.dtypes:
            dtype = _dt.as_dtype(dtype)
            samples = []
            with failures.case(f"op {op.name!r} on {dev}, {dtype}, making its samples", counted=False):
                samples = list(op.samples(SampleMaker(dev, dtype)))
            for sample in samples:
                with failures.case(f"op {op.name!r} on {dev}, {dtype}, sample {sample!r}"):
                    _check_sample(op, sample, dtype, torch_fn, finite_differences, second_order)
                    if rules:
                        _check_rules(op, sample, other)
            _check_declared_cases(op, dev, dtype, torch_fn, failures)
    failures.raise_if_any()
    if not failures.cases:
        raise AssertionError(f"op {op.name!r}: its samples yielded nothing to check")
    return failures.cases


def _check_declared_cases(op, dev, dtype, torch_fn, failures):
    """The op's ``errors=`` and ``stability=`` cases on one device and dtype (see :mod:`.op_cases`), each
    a case of its own in ``failures``."""
    make = SampleMaker(dev, dtype)
    label = f"op {op.name!r} on {dev}, {dtype}"
    cases = []
    with failures.case(f"{label}, building its declared cases", counted=False):
        cases = [(case, op_cases.check_error, (op, case, torch_fn)) for case in (op.errors(make) if op.errors else ())]
        cases += [(case, op_cases.check_stability, (op, case, torch_fn))
                  for case in (op.stability(make) if op.stability else ())
                  if case.dtypes is None or make.dtype in case.dtypes]
    for case, check, args in cases:
        with failures.case(f"{label}, {case!r}"):
            check(*args)


def _other_device(name):
    """A device to mix with ``name`` in the mixed-device check: the CPU, or another available device."""
    if name.partition(":")[0] != "cpu":
        return "cpu"
    return next((d for d in available_devices() if d != "cpu"), None)


def _check_rules(op, sample, other_device):
    args, kwargs = _fresh(sample.args), sample.kwargs
    op_rules.check_rejects_non_tensor(op, args, kwargs)
    if other_device is not None and not op.mixed_devices:
        op_rules.check_rejects_mixed_devices(op, args, kwargs, other_device)
    op_rules.check_inplace(op, _fresh(sample.args), kwargs)


def _check_sample(op, sample, dtype, torch_fn, finite_differences, second_order):
    args, kwargs = _fresh(sample.args), sample.kwargs
    pristine = _fresh(args)  # the inputs as they were: an in-place op overwrites ``args``
    out = op.fn(*args, **kwargs)
    outs = _outputs(out)
    diff_inputs = _grad_inputs(args)
    diff_outs = [o for o in outs if o.requires_grad]
    rng = np.random.default_rng(1)
    cotangents = []
    for o in diff_outs:
        v = o.detach() * 0
        v._data[...] = rng.standard_normal(o.shape)
        cotangents.append(v)
    grads = []
    if op.differentiable and diff_inputs and diff_outs:
        grads = engine.grad(diff_outs, diff_inputs, cotangents, allow_unused=True)
    op_rules.check_results(outs, args, dtype, grads, diff_inputs, oracle_checked_dtype=torch_fn is not None)
    if op.reference is not None:
        _compare_with_reference(op, pristine, kwargs, outs, diff_inputs, diff_outs, cotangents, grads, dtype)
    if getattr(op, "expected", None) is not None:
        _compare_with_expected(op, pristine, kwargs, outs, dtype)
    if torch_fn is not None:
        _compare_with_torch(op, torch_fn, pristine, kwargs, outs, diff_inputs, diff_outs, cotangents, grads, dtype)
    if (dtype is _dt.float64 and op.differentiable and diff_inputs and diff_outs and finite_differences
            and "gradcheck" not in op.skips):
        def fn(*xs):
            call = _substitute(args, iter(xs))
            return [o for o in _outputs(op.fn(*call, **kwargs)) if o.is_floating_point()]
        gradcheck(fn, diff_inputs)
        if second_order and op.gradgradcheck:
            gradgradcheck(fn, diff_inputs)


def _compare_with_reference(op, args, kwargs, outs, diff_inputs, diff_outs, cotangents, grads, dtype):
    """An op with its own forward/backward must agree with the plain composite it stands for (DESIGN:
    primitives and composites): values, and gradients for the same cotangents."""
    ref_args = _fresh(args)
    ref_outs = _outputs(op.reference(*ref_args, **kwargs))
    if len(ref_outs) != len(outs):
        raise AssertionError(f"returned {len(outs)} tensors, its composite reference {len(ref_outs)}")
    rtol, atol = ORACLE_TOL.get(dtype.name, (0, 0))
    for o, r in zip(outs, ref_outs):
        assert_close(o, r, rtol=rtol, atol=atol, msg="forward differs from the op's composite reference")
    ref_inputs = _grad_inputs(ref_args)
    ref_diff_outs = [r for r in ref_outs if r.requires_grad]
    if grads and ref_diff_outs:
        ref_grads = engine.grad(ref_diff_outs, ref_inputs, cotangents, allow_unused=True)
        for i, (g, rg) in enumerate(zip(grads, ref_grads)):
            if g is not None and rg is not None:
                assert_close(g, rg, rtol=rtol * 10, atol=atol * 10,
                             msg=f"gradient of input {i} differs from the op's composite reference")


def _host_arrays(value):
    """``value`` with every tensor replaced by a numpy copy of its data (nesting kept)."""
    if isinstance(value, Tensor):
        return np.array(value.detach()._host())
    if isinstance(value, (tuple, list)):
        return type(value)(_host_arrays(v) for v in value)
    if isinstance(value, dict):
        return {k: _host_arrays(v) for k, v in value.items()}
    return value


def _compare_with_expected(op, args, kwargs, outs, dtype):
    """An op's forward against its ``expected(*numpy args, **kwargs)``: one array, or one per output."""
    expected = op.expected(*_host_arrays(args), **_host_arrays(kwargs))
    expected = list(expected) if isinstance(expected, (tuple, list)) else [expected]
    if len(expected) != len(outs):
        raise AssertionError(f"returned {len(outs)} tensors, its expected= function {len(expected)}")
    rtol, atol = ORACLE_TOL.get(dtype.name, (0, 0))
    for o, e in zip(outs, expected):
        assert_close(o, np.asarray(e, dtype=o.dtype.numpy), rtol=rtol, atol=atol,
                     msg="forward differs from the op's expected= function")


def _compare_with_torch(op, torch_fn, args, kwargs, outs, diff_inputs, diff_outs, cotangents, grads, dtype):
    torch = _torch()
    t_args = to_torch(args)
    t_kwargs = to_torch(kwargs)
    t_out = torch_fn(*t_args, **t_kwargs)
    t_outs = _outputs(t_out)
    if len(t_outs) != len(outs):
        raise AssertionError(f"ember returned {len(outs)} tensors, PyTorch {len(t_outs)}")
    rtol, atol = ORACLE_TOL.get(dtype.name, (0, 0))
    if op.rtol is not None:
        rtol = op.rtol
    if op.atol is not None:
        atol = op.atol
    for o, t in zip(outs, t_outs):
        if str(t.dtype).replace("torch.", "") != o.dtype.name:
            raise AssertionError(f"dtype differs from PyTorch: ember {o.dtype}, PyTorch {t.dtype}")
        assert_close(o, t, rtol=rtol, atol=atol, msg="forward differs from PyTorch")
    if not grads:
        return
    t_inputs = [a for a in _flatten(t_args) if hasattr(a, "requires_grad") and a.requires_grad]
    t_diff_outs = [t for t in t_outs if t.requires_grad]
    t_grads = torch.autograd.grad(t_diff_outs, t_inputs, [to_torch(c) for c in cotangents], allow_unused=True)
    for i, (g, tg) in enumerate(zip(grads, t_grads)):
        if tg is None and g is None:
            continue
        if tg is None:
            tg = torch.zeros(tuple(diff_inputs[i].shape), dtype=getattr(torch, dtype.name))
        if g is None:
            raise AssertionError(f"ember gave no gradient for input {i}, PyTorch did")
        assert_close(g, tg, rtol=rtol * 10, atol=atol * 10, msg=f"gradient of input {i} differs from PyTorch")


def _flatten(values):
    for v in values:
        if isinstance(v, (tuple, list)):
            yield from _flatten(v)
        else:
            yield v


def op_report() -> list[dict]:
    """One row per registered op: where it is bound and declared, primitive, fused or composite (and the
    primitive it applies), and how it is checked."""
    from ..plugins import registries
    rows = []
    for name, entry in sorted(registries["ops"].entries.items()):
        op = entry.obj
        samples = list(op.samples(SampleMaker("cpu", _dt.float64))) if op.samples else []
        rows.append({"op": name, "plugin": entry.owner, "kind": op.kind, "declared_at": op.declared_at,
                     "primitive": op.primitive.name if op.primitive else "", "namespaces": list(op.namespaces),
                     "samples": len(samples), "torch": op.torch or "", "dtypes": [d.name for d in op.dtypes],
                     "gradcheck": op.differentiable, "gradgradcheck": op.differentiable and op.gradgradcheck})
    return rows
