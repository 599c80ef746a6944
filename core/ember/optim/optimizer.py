"""``ember.optim.Optimizer``: param groups, per-parameter state and their state_dict, as in PyTorch.

Subclasses implement ``step``; the update is array arithmetic on the parameters' backend arrays
(under ``no_grad``, no tape, no per-element Python), which keeps a training step as cheap as numpy.
"""

from __future__ import annotations

import copy
from collections import OrderedDict, defaultdict

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..creation import from_numpy
from ..nn.module import _HookHandle
from ..tensor import Tensor, wrap

__all__ = ["Optimizer"]

# Per-parameter state entries kept as Python/numpy scalars (PyTorch keeps 0-dim tensors whose value
# it reads back with ``.item()``); a loaded tensor or array for them is turned back into a scalar.
_SCALAR_STATE = {"step": float, "mu_product": None}


class Optimizer:
    """Base class (``torch.optim.Optimizer``): ``param_groups``, ``state``, ``zero_grad``, ``step``,
    ``add_param_group``, ``state_dict``/``load_state_dict``."""

    #: option dicts the conformance kit runs this optimizer with (subclasses override)
    sample_options: tuple = ()

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.state: dict = defaultdict(dict)
        self.param_groups: list[dict] = []
        self._step_pre_hooks: OrderedDict = OrderedDict()
        self._step_post_hooks: OrderedDict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params argument given to the optimizer should be an "
                            f"iterable of Tensors or dicts, but got a Tensor")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list "
                             f"(expected at least one Tensor or param group dict)")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (the rest come from ``defaults``)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{type(self).__name__}.add_param_group: expected a dict, got "
                            f"{type(param_group).__name__}")
        if "params" not in param_group:
            raise KeyError(f"{type(self).__name__}.add_param_group: the group has no 'params' entry")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError(f"{type(self).__name__}: optimizer parameters need to be organized in ordered "
                            f"collections, but the ordering of tensors in sets will change between runs; "
                            f"use a list instead")
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: a parameter group got an empty parameter list "
                             f"(expected at least one Tensor)")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf Tensor "
                                 f"(shape {tuple(p.shape)})")
        group = dict(param_group, params=params)
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError(f"{type(self).__name__}: some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # -- helpers for subclasses -------------------------------------------------------------------
    def _check_option(self, name: str, value, low: float = 0.0, high: float | None = None,
                      open_high: bool = True) -> None:
        """Raise ValueError naming the optimizer when ``value`` is outside ``[low, high)``."""
        if isinstance(value, Tensor):
            value = value.item()
        bad = value < low or (high is not None and (value >= high if open_high else value > high))
        if bad:
            if high is None:
                want = f">= {low}"
            else:
                want = f"in [{low}, {high}{')' if open_high else ']'}"
            raise ValueError(f"{type(self).__name__}: invalid {name}: {value} (expected {want})")

    @staticmethod
    def _evaluate(closure):
        """Run ``closure`` with grad mode on (``step`` itself runs under ``no_grad``)."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    @staticmethod
    def _zeros(p, fill: float = 0.0) -> Tensor:
        """A state buffer shaped and typed like ``p``, on its device."""
        xp = p._device.xp
        return wrap(xp.full(p._data.shape, fill, dtype=p._data.dtype), p._device)

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs before each ``step``."""
        return _HookHandle(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after each ``step``."""
        return _HookHandle(self._step_post_hooks, hook)

    def __init_subclass__(cls, **kwargs):
        """Wrap a subclass's ``step`` so that step hooks run (only when some are registered)."""
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is None or getattr(step, "_with_hooks", False):
            return

        def step_with_hooks(self, *args, **kwargs):
            if not (self._step_pre_hooks or self._step_post_hooks):
                return step(self, *args, **kwargs)
            for hook in list(self._step_pre_hooks.values()):
                result = hook(self, args, kwargs)
                if result is not None:
                    args, kwargs = result
            out = step(self, *args, **kwargs)
            for hook in list(self._step_post_hooks.values()):
                hook(self, args, kwargs)
            return out

        step_with_hooks._with_hooks = True
        step_with_hooks.__doc__, step_with_hooks.__name__ = step.__doc__, "step"
        step_with_hooks.__qualname__ = f"{cls.__qualname__}.step"
        cls.step = step_with_hooks

    def _params_with_grad(self, group: dict):
        """``(param, its array, its gradient's array, its state)`` for each parameter of ``group`` that has
        a gradient, the gradient negated when the group maximizes: the loop every ``step`` runs."""
        maximize = group.get("maximize", False)
        for p in group["params"]:
            if p.grad is not None:
                g = p.grad._data
                yield p, p._data, (-g if maximize else g), self.state[p]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear gradients: set them to None (the default), or zero them in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad = p.grad.detach()
                        p.grad._data[...] = 0

    def step(self, closure=None):
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``, PyTorch's layout."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: {k: (_copy(v) if isinstance(v, Tensor) else copy.deepcopy(v))
                                for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore options and per-parameter state; tensors follow their parameter's device and dtype."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{type(self).__name__}.load_state_dict: loaded state dict has {len(groups)} "
                             f"parameter groups, the optimizer has {len(self.param_groups)}")
        for i, (saved, own) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(f"{type(self).__name__}.load_state_dict: group {i} has {len(saved['params'])} "
                                 f"parameters in the state dict but {len(own['params'])} in the optimizer")
        by_index = {}
        for saved, own in zip(groups, self.param_groups):
            for index, p in zip(saved["params"], own["params"]):
                by_index[index] = p
        self.state = defaultdict(dict)
        for index, values in state_dict["state"].items():
            p = by_index.get(int(index))
            if p is None:
                continue
            self.state[p] = {k: _follow(v, p, k) for k, v in values.items()}
        for saved, own in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    own[k] = v

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def __getstate__(self):
        return self.__dict__

    def __setstate__(self, state):
        self.__dict__.update(state)


def _follow(value, param, key):
    """A saved state value made to match its parameter: same device, and same dtype when floating
    (``step`` counters keep theirs), as PyTorch's load_state_dict does."""
    if key in _SCALAR_STATE and (isinstance(value, Tensor) or isinstance(value, np.ndarray)):
        host = value._host() if isinstance(value, Tensor) else value
        if host.ndim == 0:
            kind = _SCALAR_STATE[key]
            return kind(host.item()) if kind is not None else host[()].copy()
    if not isinstance(value, Tensor):
        if hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.generic):
            value = from_numpy(np.array(value))
        else:
            return copy.deepcopy(value)
    if key != "step" and value.is_floating_point():
        return value.to(device=param.device, dtype=param.dtype, copy=True).detach()
    return value.to(param.device, copy=True).detach()


def _copy(value: Tensor) -> Tensor:
    """A detached copy of a state tensor (``value.detach().clone()``, without needing the ops plugin)."""
    return wrap(value._data.copy(), value._device)
