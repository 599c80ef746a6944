"""``ember.nn.Module``: the base class every layer and model builds on, with PyTorch's everyday API.

Parameters, buffers and submodules live in three ordered dicts, exactly as in PyTorch, so
``state_dict`` keys, ``named_parameters`` order and ``repr`` come out the same.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor, bump_version
from .parameter import Parameter

__all__ = ["Module", "IncompatibleKeys", "LayerSample"]

class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict(strict=False)`` could not match, as PyTorch returns it."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


@dataclass(frozen=True)
class LayerSample:
    """How the conformance kit builds and calls a layer: ``Layer(*args, **kwargs)(*inputs)``.

    A layer class declares ``samples(make)`` (a staticmethod) returning these; ``make(*shape)`` builds
    inputs on the device and in the dtype under test. ``ember.testing.check_layer`` runs them.
    """

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    inputs: tuple = ()
    name: str = ""
    #: what backward leaves without a gradient on this sample, as PyTorch does (a parameter the sample's
    #: path never uses): parameter names, or "input i"; anything else that requires grad must get one
    no_grad_for: tuple = ()


class Module:
    """Base class for layers and models (``torch.nn.Module``): subclass it and define ``forward``."""

    training: bool
    _version = 1

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments; "
                            f"Module.__init__ takes none")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_hooks_with_kwargs"] = set()  # ids of hooks that also receive (and may return) kwargs
        d["_hooks_always_called"] = set()  # ids of forward hooks that run even when forward raises

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if not (d["_forward_pre_hooks"] or d["_forward_hooks"]):  # the hot path: one dict test each
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        with_kwargs = self._hooks_with_kwargs
        for hook_id, hook in list(self._forward_pre_hooks.items()):
            if hook_id in with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(f"forward pre-hook of {self._get_name()} registered with_kwargs must "
                                           f"return None or a tuple (args, kwargs), got {type(result).__name__}")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        try:
            output = self.forward(*args, **kwargs)
        except Exception:
            for hook_id, hook in list(self._forward_hooks.items()):
                if hook_id in self._hooks_always_called:
                    try:
                        hook(self, args, kwargs, None) if hook_id in with_kwargs else hook(self, args, None)
                    except Exception:
                        pass
            raise
        for hook_id, hook in list(self._forward_hooks.items()):
            result = hook(self, args, kwargs, output) if hook_id in with_kwargs else hook(self, args, output)
            if result is not None:
                output = result
        return output

    # -- attributes: parameters, buffers and submodules ---------------------------------------
    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d and isinstance(value, (Parameter, Module)):
            raise AttributeError(f"cannot assign {type(value).__name__} '{name}' before "
                                 f"{type(self).__name__}.__init__() called super().__init__()")
        params, modules, buffers = d.get("_parameters"), d.get("_modules"), d.get("_buffers")
        if isinstance(value, Parameter):
            self._remove_from(name, keep="_parameters")
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(ember.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            self._remove_from(name, keep="_modules")
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                f"(ember.nn.Module or None expected)")
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(ember.Tensor or None expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__[store]:
                del self.__dict__[store][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def _remove_from(self, name, keep):
        d = self.__dict__
        d.pop(name, None)
        for store in ("_parameters", "_buffers", "_modules"):
            if store != keep:
                d[store].pop(name, None)
        d["_non_persistent_buffers"].discard(name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, a placeholder kept out of ``parameters()``) under ``name``."""
        _check_name(self, name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: cannot assign '{type(param).__name__}' object to "
                            f"parameter '{name}' (ember.nn.Parameter or None required)")
        self._remove_from(name, keep="_parameters")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add state that is not a parameter (running means); ``persistent`` puts it in ``state_dict``."""
        _check_name(self, name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (ember.Tensor or None required)")
        self._remove_from(name, keep="_buffers")
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        _check_name(self, name, "module", allow_dots=False)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        self._remove_from(name, keep="_modules")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> "Module":
        if target == "":
            return self
        module = self
        for part in target.split("."):
            if part not in module._modules or module._modules[part] is None:
                raise AttributeError(f"get_submodule: {type(module).__name__} has no submodule {part!r} "
                                     f"(looking for {target!r})")
            module = module._modules[part]
        return module

    def get_parameter(self, target: str) -> Parameter:
        prefix, _, name = target.rpartition(".")
        module = self.get_submodule(prefix)
        if name not in module._parameters:
            raise AttributeError(f"get_parameter: {type(module).__name__} has no parameter {name!r}")
        return module._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        prefix, _, name = target.rpartition(".")
        module = self.get_submodule(prefix)
        if name not in module._buffers:
            raise AttributeError(f"get_buffer: {type(module).__name__} has no buffer {name!r}")
        return module._buffers[name]

    # -- iteration ---------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in module.__dict__[store].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    # -- modes and transformations -------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Set training mode here and in every child (through their own ``train``, which they may override)."""
        if not isinstance(mode, bool):
            raise ValueError(f"{self._get_name()}.train: training mode is expected to be boolean, got "
                             f"{type(mode).__name__}")
        self.__dict__["training"] = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad = p.grad.detach()
                    p.grad._data[...] = 0

    def apply(self, fn) -> "Module":
        """Call ``fn`` on every submodule (children first) and on ``self``; used for custom init."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def _apply_to_tensors(self, convert) -> "Module":
        """Convert every parameter, gradient and buffer in place (parameters stay the same objects,
        so an optimizer built earlier still holds them)."""
        with no_grad():
            for module in self.modules():
                for name, param in module._parameters.items():
                    if param is None:
                        continue
                    new = convert(param)
                    param._data, param._dtype, param._device = new._data, new._dtype, new._device
                    if param.grad is not None:
                        g = convert(param.grad)
                        param.grad = g
                for name, buf in module._buffers.items():
                    if buf is not None:
                        module._buffers[name] = convert(buf)
        return self

    def to(self, *args, **kwargs) -> "Module":
        """Move and/or cast parameters and buffers (``Module.to(device, dtype)``); casts only floats."""
        from ..tensor import _parse_to
        device, dtype, _ = _parse_to(args, dict(kwargs))
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f"Module.to: only floating point dtypes are accepted, got {dtype}")

        def convert(t):
            return t.to(device=device, dtype=dtype if t.is_floating_point() else None)
        return self._apply_to_tensors(convert)

    def cpu(self) -> "Module":
        return self.to("cpu")

    def cuda(self, device=None) -> "Module":
        return self.to("cuda" if device is None else device)

    def _cast_floats(self, dtype) -> "Module":
        return self._apply_to_tensors(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self) -> "Module":
        from .. import dtypes
        return self._cast_floats(dtypes.float32)

    def double(self) -> "Module":
        from .. import dtypes
        return self._cast_floats(dtypes.float64)

    def half(self) -> "Module":
        from .. import dtypes
        return self._cast_floats(dtypes.float16)

    # -- hooks ---------------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False):
        """``hook(module, args)`` runs before forward; a non-None return replaces the arguments.

        With ``with_kwargs`` it is ``hook(module, args, kwargs)`` and may return ``(args, kwargs)``;
        ``prepend`` runs it before the hooks already registered.
        """
        handle = _HookHandle(self._forward_pre_hooks, hook, extra=(self._hooks_with_kwargs,))
        self._place_hook(self._forward_pre_hooks, handle.id, prepend, with_kwargs)
        return handle

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False):
        """``hook(module, args, output)`` runs after forward; a non-None return replaces the output.

        With ``with_kwargs`` it is ``hook(module, args, kwargs, output)``; ``always_call`` runs it
        (with output None) even when forward raises.
        """
        handle = _HookHandle(self._forward_hooks, hook, extra=(self._hooks_with_kwargs, self._hooks_always_called))
        self._place_hook(self._forward_hooks, handle.id, prepend, with_kwargs)
        if always_call:
            self._hooks_always_called.add(handle.id)
        return handle

    def _place_hook(self, hooks, hook_id, prepend, with_kwargs):
        if prepend:
            hooks.move_to_end(hook_id, last=False)
        if with_kwargs:
            self._hooks_with_kwargs.add(hook_id)

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """Parameters and persistent buffers by PyTorch's dotted names, detached unless ``keep_vars``."""
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values (ember tensors, numpy arrays, anything array-like) into parameters and buffers.

        Returns the missing and unexpected keys. With ``strict`` (the default) any missing or unexpected
        key is an error; a shape mismatch always is. ``assign`` replaces the tensors instead of copying
        into them (parameters stay Parameters with their ``requires_grad``).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{self._get_name()}.load_state_dict: expected state_dict to be a dict-like "
                            f"mapping of names to tensors, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        from .parameter import is_lazy
        for key, target in own.items():  # lazy modules: the checkpoint gives the shape (PyTorch's _lazy_load_hook)
            if key in state_dict and is_lazy(target):
                target.materialize(_shape_of(state_dict[key]))
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            shape = _shape_of(state_dict[key])
            if shape != tuple(target.shape):
                problems.append(f"size mismatch for {key}: copying a param with shape {shape} from checkpoint, "
                                f"the shape in current model is {tuple(target.shape)}.")
        if strict:
            if unexpected:
                problems.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                problems.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {self._get_name()}:\n\t" + "\n\t".join(problems))
        for key, target in own.items():
            if key not in state_dict:
                continue
            if assign:
                self._assign(key, target, state_dict[key])
            else:
                _copy_into(target, state_dict[key])
        return IncompatibleKeys(missing, unexpected)

    def _assign(self, key, target, value) -> None:
        prefix, _, name = key.rpartition(".")
        owner = self.get_submodule(prefix)
        tensor = value if isinstance(value, Tensor) else _as_tensor(value)
        if isinstance(target, Parameter):
            owner._parameters[name] = Parameter(tensor.detach(), requires_grad=target.requires_grad)
        else:
            owner._buffers[name] = tensor

    # -- printing --------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        if not lines:
            return f"{self._get_name()}()"
        if len(lines) == 1 and not self._modules:
            return f"{self._get_name()}({lines[0]})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_hooks_with_kwargs", set())
        self.__dict__.setdefault("_hooks_always_called", set())

    def __getstate__(self):
        return self.__dict__.copy()


def _check_name(module, name, what, allow_dots=False):
    if "_parameters" not in module.__dict__:
        raise AttributeError(f"cannot assign {what} before {type(module).__name__}.__init__() call")
    if not isinstance(name, str):
        raise TypeError(f"{what} name should be a string, got {type(name).__name__}")
    if name == "" or (not allow_dots and "." in name):
        raise KeyError(f"{what} name can't be empty or contain \".\", got {name!r}")
    if hasattr(module, name) and name not in module._parameters and name not in module._buffers \
            and name not in module._modules:
        raise KeyError(f"attribute '{name}' already exists")


def _host_array(value) -> np.ndarray:
    """A host numpy array from an ember tensor, a numpy array, or another framework's tensor."""
    if isinstance(value, Tensor):
        return value._host()
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # e.g. a torch tensor that requires grad
        value = value.detach().cpu()
    return np.asarray(value)


def _shape_of(value) -> tuple:
    return tuple(value.shape) if hasattr(value, "shape") else np.shape(value)


def _as_tensor(value) -> Tensor:
    from ..creation import tensor
    return tensor(_host_array(value))


def _copy_into(target: Tensor, value) -> None:
    """Write ``value`` (a tensor or an array-like, any device) into ``target``'s memory."""
    host = _host_array(value)
    data = host.astype(target._dtype.numpy, copy=False)
    if target._device.type != "cpu":
        data = target._device.backend.from_host(np.ascontiguousarray(data), target._device.ordinal)
    target._device.xp.copyto(target._data, data)
    bump_version(target)


class _HookHandle:
    """What ``register_*_hook`` returns: ``remove()`` (or leaving its ``with`` block) unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict, hook, extra=()):
        self.hooks_dict = hooks
        self.extra = extra  # sets of ids that flag this hook's options
        self.id = _HookHandle._next_id
        _HookHandle._next_id += 1
        hooks[self.id] = hook

    def remove(self) -> None:
        self.hooks_dict.pop(self.id, None)
        for flags in self.extra:
            flags.discard(self.id)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
