"""``ember.nn.utils.parametrize``: express a parameter as a function of another (``torch.nn.utils.parametrize``).

``register_parametrization(module, "weight", P)`` moves the parameter to
``module.parametrizations.weight.original`` and makes ``module.weight`` a property computing
``P(original)`` on every access (so gradients reach ``original``). As in PyTorch, the module's class
becomes a generated subclass ``Parametrized<Name>`` holding the properties, and state_dict keys are
``parametrizations.weight.original``. ``cached()`` computes each parametrized value once inside a block.
"""

from __future__ import annotations

import contextlib

from ..module import Module
from ..parameter import Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "cached", "ParametrizationList",
           "type_before_parametrizations"]

_cache: dict = {}
_cache_enabled = [0]


@contextlib.contextmanager
def cached():
    """Inside the block, each parametrized tensor is computed once and reused."""
    _cache_enabled[0] += 1
    try:
        yield
    finally:
        _cache_enabled[0] -= 1
        if not _cache_enabled[0]:
            _cache.clear()


class ParametrizationList(Module):
    """The parametrizations of one tensor, applied in order to ``original``."""

    def __init__(self, modules, original, unsafe: bool = False):
        super().__init__()
        from ..modules import container  # noqa: F401 - ensure the layers are bound
        for i, m in enumerate(modules):
            self.add_module(str(i), m)
        self.unsafe = unsafe
        first = modules[0]
        self.is_tensor = True
        if hasattr(first, "right_inverse"):
            from ...autograd.grad_mode import no_grad
            with no_grad():
                value = first.right_inverse(original)
            if isinstance(value, (tuple, list)):  # several originals: original0, original1, ...
                self.is_tensor = False
                self.ntensors = len(value)
                for i, v in enumerate(value):
                    self._keep(f"original{i}", v.detach(), original)
                return
            original = value.detach()
        self._keep("original", original, original)

    def _keep(self, name, value, like):
        if isinstance(like, Parameter):
            setattr(self, name, Parameter(value if not isinstance(value, Parameter) else value.detach(),
                                          requires_grad=like.requires_grad))
        else:
            self.register_buffer(name, value)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        return list(self._modules.values())[index]

    def right_inverse(self, value) -> None:
        """Set ``original`` so that the parametrization gives ``value`` (needs each one's right_inverse)."""
        from ...autograd.grad_mode import no_grad
        with no_grad():
            for m in reversed(list(self._modules.values())):
                if not hasattr(m, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(m).__name__} does not implement right_inverse")
                value = m.right_inverse(value)
            if self.is_tensor:
                self.original.copy_(value)
            else:
                for i, v in enumerate(value):
                    getattr(self, f"original{i}").copy_(v)

    def forward(self):
        modules = list(self._modules.values())
        if self.is_tensor:
            x = modules[0](self.original)
        else:
            x = modules[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for m in modules[1:]:
            x = m(x)
        return x


def is_parametrized(module, tensor_name: str | None = None) -> bool:
    params = module.__dict__.get("_modules", {}).get("parametrizations")
    if params is None:
        return False
    return tensor_name is None or tensor_name in params._modules


def type_before_parametrizations(module) -> type:
    return type(module).__bases__[0] if is_parametrized(module) else type(module)


def _property(name):
    def get(self):
        if _cache_enabled[0]:
            key = (id(self), name)
            if key not in _cache:
                _cache[key] = self.parametrizations[name]()
            return _cache[key]
        return self.parametrizations[name]()

    def set_(self, value):
        self.parametrizations[name].right_inverse(value)
    return property(get, set_)


def register_parametrization(module, tensor_name: str, parametrization, *, unsafe: bool = False):
    """Make ``module.<tensor_name>`` equal ``parametrization(original)``; returns ``module``."""
    from ..modules import container  # noqa: F401
    from ... import nn
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        plist.add_module(str(len(plist)), parametrization)
        return module
    if tensor_name in module._parameters:
        original = module._parameters.pop(tensor_name)
    elif tensor_name in module._buffers:
        original = module._buffers.pop(tensor_name)
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a parametrized element with "
                         f"name '{tensor_name}'")
    if not is_parametrized(module):
        base = type(module)
        module.__class__ = type(f"Parametrized{base.__name__}", (base,), {})
        module.parametrizations = nn.ModuleDict()
    module.parametrizations[tensor_name] = ParametrizationList([parametrization], original, unsafe)
    setattr(type(module), tensor_name, _property(tensor_name))
    return module


def remove_parametrizations(module, tensor_name: str, leave_parametrized: bool = True):
    """Undo :func:`register_parametrization` for ``tensor_name``: the parameter becomes the current
    parametrized value (``leave_parametrized``) or ``original`` again."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    from ...autograd.grad_mode import no_grad
    plist = module.parametrizations[tensor_name]
    with no_grad():
        value = plist() if leave_parametrized or not plist.is_tensor else plist.original
    requires_grad = (plist.original if plist.is_tensor else plist.original0).requires_grad
    delattr(type(module), tensor_name)
    del module.parametrizations._modules[tensor_name]
    module.register_parameter(tensor_name, Parameter(value.detach(), requires_grad=requires_grad))
    if not module.parametrizations._modules:
        del module._modules["parametrizations"]
        module.__class__ = type(module).__bases__[0]
    return module
