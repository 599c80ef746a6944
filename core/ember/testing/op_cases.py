"""The conformance kit's run of an op's declared edge cases: its ``errors=`` (each call refused with the
declared exception class and message) and its ``stability=`` cases (extreme inputs: finite values and
gradients that agree with PyTorch), on one device and dtype, from the same sample maker as its samples.

:func:`ember.testing.check_op` runs :func:`check_error` and :func:`check_stability` on each case, for each
device and dtype it checks, each case reported on its own; :func:`declared_skips` lists the checks ops opt
out of, with their reasons, for the test suite to show.
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from ..autograd import engine
from .comparison import assert_close
from .oracle import torch_or_none


def check_error(op, case, torch_fn=None) -> None:
    """``op`` refuses ``case.sample`` with ``case.error`` (or emits it, for a Warning class) and a message
    matching ``case.match``. Where PyTorch's counterpart ``torch_fn`` refuses the same call too, ember's
    exception must be an instance of PyTorch's class, so that code catching PyTorch's error catches ember's
    (ember may be stricter: a call PyTorch accepts is not compared)."""
    args, kwargs = case.sample.args, case.sample.kwargs
    expected = case.error.__name__
    if issubclass(case.error, Warning):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            op.fn(*args, **kwargs)
        messages = [str(w.message) for w in caught if issubclass(w.category, case.error)]
        if not any(re.search(case.match, m) for m in messages):
            raise AssertionError(f"expected a {expected} matching {case.match!r}; got {messages or 'none'}")
        return
    try:
        out = op.fn(*args, **kwargs)
        if case.backward:
            out.sum().backward()
    except case.error as exc:
        if not re.search(case.match, str(exc)):
            raise AssertionError(f"raised {type(exc).__name__} as declared, but its message {str(exc)!r} does not "
                                 f"match {case.match!r}") from None
        if torch_fn is not None and not case.backward:
            _same_class_as_torch(exc, torch_fn, args, kwargs)
        return
    except Exception as exc:
        raise AssertionError(f"raised {type(exc).__name__}: {exc}; expected {expected} matching "
                             f"{case.match!r}") from None
    raise AssertionError(f"the op {'and its backward ' if case.backward else ''}accepted it; expected {expected} "
                         f"matching {case.match!r}")


def _same_class_as_torch(exc, torch_fn, args, kwargs) -> None:
    from .conformance import to_torch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch_fn(*to_torch(args), **to_torch(kwargs))
        except Exception as torch_exc:
            if not isinstance(exc, _counterpart(type(torch_exc))):
                raise AssertionError(f"raised {type(exc).__name__}, which is not a {type(torch_exc).__name__} as "
                                     f"PyTorch raises here ({torch_exc}): code catching PyTorch's error would miss "
                                     f"ember's") from None


def _counterpart(torch_class):
    """The class ember's exception must be an instance of: PyTorch's, or, for a class torch defines itself
    (``torch.linalg.LinAlgError``, whose C name is ``_LinAlgError``), ember's class of the same name."""
    if torch_class.__module__.startswith("torch") and torch_class.__name__ == "_LinAlgError":
        from ember.errors import LinAlgError
        return LinAlgError
    return torch_class


def check_stability(op, case, torch_fn=None) -> None:
    """``op`` on ``case.sample``: values (finite unless ``case.finite`` is False) equal to ``case.expected``
    and to PyTorch's; with ``finite``, the gradients of their sum finite and equal to PyTorch's too."""
    from .conformance import _grad_inputs, _outputs, to_torch
    args, kwargs = case.sample.args, case.sample.kwargs
    outs = [o for o in _outputs(op.fn(*args, **kwargs)) if o.is_floating_point()]
    tol = {"rtol": case.rtol, "atol": case.atol}
    if case.finite:
        for i, o in enumerate(outs):
            if not np.isfinite(np.asarray(o.detach()._host())).all():
                raise AssertionError(f"output {i} is not finite: {o}")
    if case.expected is not None:
        expected = case.expected if isinstance(case.expected, (tuple, list)) and len(outs) > 1 else [case.expected]
        for o, e in zip(outs, expected):
            assert_close(o, np.asarray(e, dtype=np.float64), **tol, msg="forward differs from the expected values")
    inputs = _grad_inputs(args)
    grads = []
    if case.finite and inputs and any(o.requires_grad for o in outs):
        total = sum(o.sum() for o in outs if o.requires_grad)
        grads = engine.grad([total], inputs, allow_unused=True)
        for i, g in enumerate(grads):
            if g is not None and not np.isfinite(np.asarray(g._host())).all():
                raise AssertionError(f"gradient of input {i} is not finite: {g}")
    if torch_fn is None:
        return
    t_args, t_kwargs = to_torch(args), to_torch(kwargs)
    t_outs = [t for t in _outputs(torch_fn(*t_args, **t_kwargs)) if t.is_floating_point()]
    for o, t in zip(outs, t_outs):
        assert_close(o, t, **tol, msg="forward differs from PyTorch")
    if not grads:
        return
    t_inputs = [a for a in _flat(t_args) if getattr(a, "requires_grad", False)]
    t_total = sum(t.sum() for t in t_outs if t.requires_grad)
    torch = torch_or_none()
    t_grads = torch.autograd.grad(t_total, t_inputs, allow_unused=True)
    for i, (g, tg) in enumerate(zip(grads, t_grads)):
        if g is not None and tg is not None:
            assert_close(g, tg, **tol, msg=f"gradient of input {i} differs from PyTorch")


def _flat(values):
    for v in values:
        if isinstance(v, (tuple, list)):
            yield from _flat(v)
        else:
            yield v


def declared_skips(ops) -> list[tuple[str, str, str]]:
    """``(op name, check, reason)`` for every check the given ops opt out of with ``skips=``."""
    return [(op.name, check, reason) for op in ops for check, reason in sorted(op.skips.items())]

