"""``check_optimizer``: a registered optimizer checked on a small least-squares problem, once per option
set of its ``sample_options`` and per available device.

Checks: the objective goes down (up with ``maximize=True``); a parameter without a gradient is left
alone; state tensors live on their parameter's device; ``state_dict`` loaded into a fresh optimizer
(on the same device, and on another one when there is one) gives the same next step; and where
PyTorch has an optimizer of the same name, the trajectory matches it.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..tensor import Tensor, tensor
from .comparison import assert_close
from .conformance import _torch
from .oracle import not_compared, reports_missing_oracle
from .devices import available_devices, resolve_devices

STEPS = 8
ORACLE_RTOL, ORACLE_ATOL = 1e-6, 1e-9  # float64, after STEPS steps


def registered_optimizer(name):
    from ..plugins import registries
    return registries["optimizers"][name]


@reports_missing_oracle
def check_optimizer(name_or_cls, devices=None, oracle: bool = True) -> int:
    """Run the optimizer checks for every option set in ``cls.sample_options``; raises AssertionError
    naming the optimizer, device and options. Returns the number of cases checked (0 for LR
    schedulers, which have their own tests)."""
    from ..optim.lr_scheduler import LRScheduler
    cls = registered_optimizer(name_or_cls) if isinstance(name_or_cls, str) else name_or_cls
    if isinstance(cls, type) and issubclass(cls, LRScheduler):
        return 0
    options = getattr(cls, "sample_options", None)
    if not options:
        raise AssertionError(f"optimizer {cls.__name__}: declares no sample_options (a tuple of option dicts, "
                             f"e.g. ({{'lr': 0.1}},)); the conformance kit cannot check it")
    torch_cls = _torch_optimizer(cls) if oracle else None
    if oracle and _torch() is None:
        not_compared(f"optimizer {cls.__name__} against torch.optim.{cls.__name__} (if PyTorch has it)")
    checked = 0
    for dev in resolve_devices(devices):
        for opts in options:
            label = f"optimizer {cls.__name__} on {dev} with {opts}"
            try:
                _check_options(cls, dict(opts), dev, torch_cls)
            except AssertionError as exc:
                raise AssertionError(f"{label}: {exc}") from None
            except Exception as exc:  # raised by the optimizer itself: keep the label
                raise AssertionError(f"{label}: {type(exc).__name__}: {exc}") from exc
            checked += 1
    return checked


def _torch_optimizer(cls):
    torch = _torch()
    return None if torch is None else getattr(torch.optim, cls.__name__, None)


class Problem:
    """``mean((X @ W + b - Y) ** 2)`` with fixed data, plus a parameter the loss never touches."""

    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.x = rng.standard_normal((8, 3))
        self.y = rng.standard_normal((8, 2))
        self.init = [rng.standard_normal((3, 2)) * 0.5, np.zeros(2), np.ones(2)]

    def params(self, device, values=None):
        return [tensor(v, dtype=_dt.float64, device=device, requires_grad=True) for v in values or self.init]

    def loss(self, params):
        w, b, _unused = params
        x = tensor(self.x, dtype=_dt.float64, device=w.device)
        y = tensor(self.y, dtype=_dt.float64, device=w.device)
        residual = x.matmul(w) + b - y
        return (residual * residual).mean()

    def closure(self, optimizer, params):
        def closure():
            optimizer.zero_grad()
            loss = self.loss(params)
            loss.backward()
            return loss
        return closure


def _values(params):
    return [p.detach().cpu() for p in params]


def _check_options(cls, opts, dev, torch_cls):
    problem = Problem()
    params = problem.params(dev)
    optimizer = cls(params, **opts)
    before = problem.loss(params).item()
    _check_step_bumps_versions(optimizer, problem, params)
    for _ in range(STEPS - 1):
        _check_returned(optimizer.step(problem.closure(optimizer, params)))
    after = problem.loss(params).item()
    if opts.get("maximize"):
        if not after > before:
            raise AssertionError(f"with maximize=True the objective did not go up in {STEPS} steps: "
                                 f"{before:.6g} -> {after:.6g}")
    elif not after < before:
        raise AssertionError(f"the objective did not go down in {STEPS} steps: {before:.6g} -> {after:.6g}")
    assert_close(params[2], problem.init[2], rtol=0, atol=0, msg="a parameter without a gradient was changed")
    for p, state in optimizer.state.items():
        for key, value in state.items():
            if isinstance(value, Tensor) and value.device is not p.device:
                raise AssertionError(f"state {key!r} is on {value.device}, its parameter on {p.device}")
    _check_state_dict_round_trip(cls, opts, problem, optimizer, params, dev)
    if torch_cls is not None:
        _compare_with_torch(torch_cls, opts, problem, params)


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


def _check_state_dict_round_trip(cls, opts, problem, optimizer, params, dev):
    saved = optimizer.state_dict()
    targets = [dev] + [d for d in available_devices() if d != dev][:1]
    copies = []
    for target in targets:
        twin_params = problem.params(target, [v.numpy() for v in _values(params)])
        twin = cls(twin_params, **opts)
        twin.load_state_dict(saved)
        for p, state in twin.state.items():
            for key, value in state.items():
                if isinstance(value, Tensor) and value.device is not p.device:
                    raise AssertionError(f"after load_state_dict on {target}, state {key!r} is on {value.device}, "
                                         f"its parameter on {p.device}")
        copies.append((target, twin, twin_params))
    optimizer.step(problem.closure(optimizer, params))
    for target, twin, twin_params in copies:
        twin.step(problem.closure(twin, twin_params))
        for i, (a, b) in enumerate(zip(_values(twin_params), _values(params))):
            assert_close(a, b, msg=f"parameter {i} after a step from the state_dict loaded on {target}")


def _compare_with_torch(torch_cls, opts, problem, params):
    torch = _torch()
    t_params = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in problem.init]
    t_opt = torch_cls(t_params, **opts)
    x, y = torch.tensor(problem.x), torch.tensor(problem.y)

    def closure():
        t_opt.zero_grad()
        residual = x @ t_params[0] + t_params[1] - y
        loss = (residual * residual).mean()
        loss.backward()
        return loss
    for _ in range(STEPS + 1):  # the checks above took STEPS steps and one more after the round trip
        t_opt.step(closure)
    for i, (p, t) in enumerate(zip(_values(params), t_params)):
        assert_close(p, t, rtol=ORACLE_RTOL, atol=ORACLE_ATOL,
                     msg=f"parameter {i} after {STEPS + 1} steps differs from torch.optim.{torch_cls.__name__}")
