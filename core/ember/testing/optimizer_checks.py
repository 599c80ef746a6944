"""``check_optimizer``: a registered optimizer checked on a small least-squares problem, once per option
set of its ``sample_options``, per available device and per dtype (float32 and float64).

Checks, for each option set:

- it refuses an empty parameter list and a negative learning rate with a ValueError naming it (and
  the value), worded as PyTorch's;
- the first step bumps the version counter of every parameter it changes;
- in STEPS steps the objective falls below DESCENT of where it started (an optimizer with
  ``maximize=True`` climbs the negated objective); parameters stay leaves of their dtype that require
  grad, a parameter without a gradient is left alone, and state tensors live on their parameter's device;
- ``zero_grad(set_to_none=False)`` zeroes every gradient and ``zero_grad()`` sets them to None;
- its ``state_dict`` names parameters by index, survives pickle, loads into a fresh optimizer (on the
  same device, and on another one when there is one) whose ``state_dict`` is the same, and that fresh
  optimizer takes the same next step;
- where PyTorch has an optimizer of the same name, the trajectory matches it.

Every failing option set is reported, not only the first (see :class:`ember.testing.cases.Failures`).
"""

from __future__ import annotations

import pickle

import numpy as np

from .. import dtypes as _dt
from ..creation import tensor
from ..tensor import Tensor
from .cases import Failures
from .comparison import assert_close
from .conformance import _torch
from .devices import available_devices, resolve_devices
from .oracle import not_compared, reports_missing_oracle

__all__ = ["check_optimizer", "optimizer_dtypes"]

STEPS = 25
DESCENT = 0.7  # the objective after STEPS steps, as a fraction of where it started, at most
DTYPES = (_dt.float32, _dt.float64)
# Against PyTorch after STEPS + 1 steps; float32 loose: LBFGS's line search branches on float32 dot
# products, whose summation order differs from PyTorch's.
ORACLE_TOL = {"float64": dict(rtol=1e-6, atol=1e-9), "float32": dict(rtol=2e-4, atol=2e-5)}


def registered_optimizer(name):
    from ..plugins import registries
    return registries["optimizers"][name]


def _is_scheduler(cls) -> bool:
    from ..optim.lr_scheduler import LRScheduler
    return isinstance(cls, type) and issubclass(cls, LRScheduler)


def optimizer_dtypes(cls) -> tuple:
    """The dtypes the kit checks an optimizer in: its ``sample_dtypes`` if it declares them, else
    float32 and float64; none for LR schedulers (registered beside optimizers, tested on their own)."""
    if _is_scheduler(cls):
        return ()
    return tuple(_dt.as_dtype(d) for d in getattr(cls, "sample_dtypes", DTYPES))


@reports_missing_oracle
def check_optimizer(name_or_cls, devices=None, oracle: bool = True, dtypes=None) -> int:
    """Run the optimizer checks for every option set in ``cls.sample_options`` on each device and dtype;
    raises one AssertionError naming the optimizer, device, dtype and options of every failing case.
    Returns the number of cases checked (0 for LR schedulers, which have their own tests)."""
    cls = registered_optimizer(name_or_cls) if isinstance(name_or_cls, str) else name_or_cls
    if _is_scheduler(cls):
        return 0
    options = getattr(cls, "sample_options", None)
    if not options:
        raise AssertionError(f"optimizer {cls.__name__}: declares no sample_options (a tuple of option dicts, "
                             f"e.g. ({{'lr': 0.1}},)); the conformance kit cannot check it")
    torch_cls = _torch_optimizer(cls) if oracle else None
    if oracle and _torch() is None:
        not_compared(f"optimizer {cls.__name__} against torch.optim.{cls.__name__} (if PyTorch has it)")
    failures = Failures(f"optimizer {cls.__name__}")
    with failures.case(f"optimizer {cls.__name__}", counted=False):
        _check_refuses_bad_arguments(cls)
    for dev in resolve_devices(devices):
        for dtype in (dtypes or optimizer_dtypes(cls)):
            dtype = _dt.as_dtype(dtype)
            for opts in options:
                with failures.case(f"optimizer {cls.__name__} on {dev}, {dtype}, with {opts}"):
                    _check_options(cls, dict(opts), dev, dtype, torch_cls)
    failures.raise_if_any()
    return failures.cases


def _torch_optimizer(cls):
    torch = _torch()
    return None if torch is None else getattr(torch.optim, cls.__name__, None)


def _check_refuses_bad_arguments(cls):
    name = cls.__name__
    try:
        cls([])
    except ValueError as exc:
        if name not in str(exc) or "empty parameter list" not in str(exc):
            raise AssertionError(f"an empty parameter list raised ValueError({str(exc)!r}); expected one naming "
                                 f"{name} and saying 'empty parameter list', as PyTorch's does") from None
    else:
        raise AssertionError("an empty parameter list was accepted; expected ValueError naming the optimizer")
    p = tensor([0.0, 0.0], requires_grad=True)
    try:
        cls([p], lr=-0.5)
    except ValueError as exc:
        if name not in str(exc) or "-0.5" not in str(exc) or "invalid learning rate" not in str(exc).lower():
            raise AssertionError(f"lr=-0.5 raised ValueError({str(exc)!r}); expected one naming {name}, saying "
                                 f"'invalid learning rate' (as PyTorch's does) and giving the value") from None
    else:
        raise AssertionError("lr=-0.5 was accepted; expected ValueError naming the optimizer and the value")


class Problem:
    """``mean((X @ W + b - Y) ** 2)`` with fixed data, plus a parameter the loss never touches; an
    optimizer with ``maximize=True`` is given the negated objective, so that both descend."""

    def __init__(self, dtype=_dt.float64, sign: float = 1.0, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.dtype, self.sign = dtype, sign
        self.x = rng.standard_normal((8, 3))
        self.y = rng.standard_normal((8, 2))
        self.init = [rng.standard_normal((3, 2)) * 0.5, np.zeros(2), np.ones(2)]

    def params(self, device, values=None):
        return [tensor(v, dtype=self.dtype, device=device, requires_grad=True) for v in values or self.init]

    def loss(self, params):
        """The mean squared error (what must go down), without the sign."""
        w, b, _unused = params
        x = tensor(self.x, dtype=self.dtype, device=w.device)
        y = tensor(self.y, dtype=self.dtype, device=w.device)
        residual = x.matmul(w) + b - y
        return (residual * residual).mean()

    def closure(self, optimizer, params):
        def closure():
            optimizer.zero_grad()
            objective = self.loss(params) * self.sign
            objective.backward()
            return objective
        return closure


def _values(params):
    return [p.detach().cpu() for p in params]


def _check_options(cls, opts, dev, dtype, torch_cls):
    problem = Problem(dtype, sign=-1.0 if opts.get("maximize") else 1.0)
    params = problem.params(dev)
    optimizer = cls(params, **opts)
    before = problem.loss(params).item()
    _check_step_bumps_versions(optimizer, problem, params)
    for _ in range(STEPS - 1):
        _check_returned(optimizer.step(problem.closure(optimizer, params)))
    after = problem.loss(params).item()
    if not after < DESCENT * before:
        what = "the negated objective (maximize=True)" if opts.get("maximize") else "the objective"
        raise AssertionError(f"{what} did not fall below {DESCENT} of its start in {STEPS} steps: "
                             f"{before:.6g} -> {after:.6g}")
    for i, p in enumerate(params):
        if p.dtype is not dtype or not p.is_leaf or not p.requires_grad:
            raise AssertionError(f"after {STEPS} steps parameter {i} is {p.dtype}, is_leaf={p.is_leaf}, "
                                 f"requires_grad={p.requires_grad}; expected a {dtype} leaf that requires grad")
    assert_close(params[2], tensor(problem.init[2], dtype=dtype, device=dev), rtol=0, atol=0,
                 msg="a parameter without a gradient was changed")
    _check_state_devices(optimizer, "")
    _check_state_dict_round_trip(cls, opts, problem, optimizer, params, dev)
    if torch_cls is not None:
        _compare_with_torch(torch_cls, opts, problem, params, dtype)
    _check_zero_grad(optimizer, params)


def _check_step_bumps_versions(optimizer, problem, params):
    """One step: each parameter it changed must have its version bumped (as PyTorch's in-place ops do),
    or a graph that saved the old value would silently give wrong gradients."""
    versions = [p._version for p in params]
    values = [p.detach().clone() for p in params]
    returned = optimizer.step(problem.closure(optimizer, params))
    _check_returned(returned)
    for i, (p, version, value) in enumerate(zip(params, versions, values)):
        changed = not bool((p.detach() == value).all())
        if changed and p._version == version:
            raise AssertionError(f"step() changed parameter {i} in place without bumping its version counter: "
                                 f"update parameters with in-place tensor ops (p.add_(update, alpha=-lr)), "
                                 f"which record the change, or call ember.tensor.bump_version(p)")


def _check_returned(returned):
    if returned is not None and not isinstance(returned, (Tensor, float)):
        raise AssertionError(f"step(closure) returned {type(returned).__name__}; expected the closure's loss")


def _check_state_devices(optimizer, where):
    for p, state in optimizer.state.items():
        for key, value in state.items():
            if isinstance(value, Tensor) and value.device is not p.device:
                raise AssertionError(f"{where}state {key!r} is on {value.device}, its parameter on {p.device}")


def _check_zero_grad(optimizer, params):
    for p in params:
        p.grad = p.detach() * 0 + 1
    optimizer.zero_grad(set_to_none=False)
    if not all(p.grad is not None and not bool(p.grad.detach().any()) for p in params):
        raise AssertionError("zero_grad(set_to_none=False) did not leave every gradient a tensor of zeros")
    optimizer.zero_grad()
    if any(p.grad is not None for p in params):
        raise AssertionError("zero_grad() did not set every gradient to None")


def _check_state_dict_layout(saved, n_params):
    """Parameters are named by their index, as in PyTorch (so that a state_dict is portable)."""
    indices = [i for group in saved["param_groups"] for i in group["params"]]
    if indices != list(range(n_params)):
        raise AssertionError(f"state_dict param_groups name the parameters {indices}; expected "
                             f"{list(range(n_params))}")
    if not set(saved["state"]) <= set(indices):
        raise AssertionError(f"state_dict state has keys {sorted(saved['state'])}, not parameter indices")


def _check_same_state_dict(again, saved, target):
    if again["param_groups"] != saved["param_groups"]:
        raise AssertionError(f"after load_state_dict on {target}, param_groups are {again['param_groups']}, "
                             f"the saved ones {saved['param_groups']}")
    for key, state in saved["state"].items():
        if set(again["state"].get(key, {})) != set(state):
            raise AssertionError(f"after load_state_dict on {target}, state {key} has fields "
                                 f"{sorted(again['state'].get(key, {}))}, the saved one {sorted(state)}")
        for field, value in state.items():
            mine = again["state"][key][field]
            if isinstance(value, Tensor) and value.dim() == 0 or np.ndim(value) == 0 and isinstance(mine, Tensor):
                if float(mine) != float(value):  # a 0-d tensor may come back as a number: same value
                    raise AssertionError(f"after load_state_dict on {target}, state {key}.{field} is {mine!r}, "
                                         f"the saved one {value!r}")
            elif isinstance(value, Tensor):
                if mine.dtype is not value.dtype:
                    raise AssertionError(f"after load_state_dict on {target}, state {key}.{field} is {mine.dtype}, "
                                         f"the saved one {value.dtype}")
                assert_close(mine.cpu(), value.cpu(), rtol=0, atol=0,
                             msg=f"state {key}.{field} after load_state_dict on {target}")


def _check_state_dict_round_trip(cls, opts, problem, optimizer, params, dev):
    saved = optimizer.state_dict()
    _check_state_dict_layout(saved, len(params))
    pickled = pickle.dumps(saved)
    targets = [dev] + [d for d in available_devices() if d != dev][:1]
    copies = []
    for target in targets:
        twin_params = problem.params(target, [v.numpy() for v in _values(params)])
        twin = cls(twin_params, **opts)
        twin.load_state_dict(pickle.loads(pickled))
        _check_state_devices(twin, f"after load_state_dict on {target}, ")
        _check_same_state_dict(twin.state_dict(), saved, target)
        copies.append((target, twin, twin_params))
    optimizer.step(problem.closure(optimizer, params))
    for target, twin, twin_params in copies:
        twin.step(problem.closure(twin, twin_params))
        for i, (a, b) in enumerate(zip(_values(twin_params), _values(params))):
            assert_close(a, b, msg=f"parameter {i} after a step from the state_dict loaded on {target}")


def _compare_with_torch(torch_cls, opts, problem, params, dtype):
    torch = _torch()
    t_dtype = getattr(torch, dtype.name)
    t_params = [torch.tensor(v, dtype=t_dtype, requires_grad=True) for v in problem.init]
    t_opt = torch_cls(t_params, **opts)
    x, y = torch.tensor(problem.x, dtype=t_dtype), torch.tensor(problem.y, dtype=t_dtype)

    def closure():
        t_opt.zero_grad()
        residual = x @ t_params[0] + t_params[1] - y
        objective = (residual * residual).mean() * problem.sign
        objective.backward()
        return objective
    for _ in range(STEPS + 1):  # the checks above took STEPS steps and one more after the round trip
        t_opt.step(closure)
    for i, (p, t) in enumerate(zip(_values(params), t_params)):
        assert_close(p, t.detach(), **ORACLE_TOL.get(dtype.name, dict(rtol=1e-2, atol=1e-3)),
                     msg=f"parameter {i} after {STEPS + 1} steps differs from torch.optim.{torch_cls.__name__}")
