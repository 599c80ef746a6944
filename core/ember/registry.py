"""Registries of ops, layers, optimizers, devices (and their kernels) and pretrained models: every name with its
owner, conflicts caught.

A plugin's hook receives a :class:`Registrar` (one per plugin and registry) and calls ``register`` on
it. Nothing is overwritten silently: a second plugin registering a taken name is a
:class:`PluginConflictError` naming both, unless it passes ``override=True``, which is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Registry", "Registrar", "Entry", "LazyEntry", "PluginConflictError", "OpRegistry", "LayerRegistry",
           "OptimizerRegistry", "DeviceRegistry", "KernelRegistry", "Kernel",
           "ProcessGroupBackendRegistry", "ModelRegistry"]


class PluginConflictError(RuntimeError):
    """Two plugins registered the same public name and neither declared an override."""


@dataclass
class Entry:
    name: str
    obj: object
    owner: str
    override: bool = False
    overridden: list = field(default_factory=list)  # (owner, obj) pairs this entry replaced


_UNSET = object()


class LazyEntry(Entry):
    """A name a plugin's manifest promises (see :mod:`ember.manifest`): its owner and place in the registry
    are known, its object is imported on first use of :attr:`obj`.

    ``load()`` imports the module that registers the name; that registration resolves this entry (the
    registry puts a plain :class:`Entry` in its place). Reading the entry's name, owner or override flag
    imports nothing.
    """

    def __init__(self, name: str, owner: str, load, override: bool = False):  # noqa: D107 - not a dataclass
        self.name, self.owner, self.override, self.overridden = name, owner, override, []
        self.load = load
        self._obj = _UNSET

    @property
    def loaded(self) -> bool:
        return self._obj is not _UNSET

    @property
    def obj(self):
        if self._obj is _UNSET:
            self.load()
            if self._obj is _UNSET:
                raise LookupError(f"plugin {self.owner!r} promised {self.name!r} in its manifest, but its module "
                                  f"did not register it")
        return self._obj

    def resolve(self, obj) -> None:
        self._obj = obj

    def __eq__(self, other):
        return self is other

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        state = "loaded" if self.loaded else "not imported yet"
        return f"LazyEntry(name={self.name!r}, owner={self.owner!r}, {state})"


class Registry:
    """Name -> :class:`Entry` for one kind of thing."""

    kind = "thing"

    def __init__(self):
        self.entries: dict[str, Entry] = {}

    def __contains__(self, name) -> bool:
        return name in self.entries

    def __getitem__(self, name):
        try:
            return self.entries[name].obj
        except KeyError:
            known = ", ".join(sorted(self.entries)) or "none"
            raise KeyError(f"no {self.kind} named {name!r} is registered; registered: {known}") from None

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, name, default=None):
        entry = self.entries.get(name)
        return default if entry is None else entry.obj

    def names(self, owner: str | None = None) -> list[str]:
        return sorted(n for n, e in self.entries.items() if owner is None or e.owner == owner)

    def name_of(self, obj) -> str:
        """The name an object is registered under (overridable: ops carry it, classes use __name__)."""
        return getattr(obj, "name", None) or obj.__name__

    def validate(self, obj, name: str) -> None:
        """Raise TypeError when ``obj`` is not something this registry holds."""

    def add(self, obj, owner: str, name: str | None = None, override: bool = False) -> Entry:
        """Register ``obj`` for ``owner``; conflicts and overrides as the module docstring says."""
        name = name or self.name_of(obj)
        self.validate(obj, name)
        existing = self.entries.get(name)
        if isinstance(existing, LazyEntry) and not existing.loaded:
            if existing.owner == owner:  # the module registering what its manifest promised
                entry = Entry(name, obj, owner, override, existing.overridden)
                self.entries[name] = entry
                existing.resolve(obj)
                return entry
            existing.load()  # another plugin's name: conflicts and overrides as with the real thing
            existing = self.entries.get(name)
        entry = Entry(name, obj, owner, override)
        if existing is not None:
            if existing.owner == owner:
                raise PluginConflictError(f"plugin {owner!r} registered the {self.kind} {name!r} twice")
            if override and existing.override:
                raise PluginConflictError(
                    f"{self.kind} {name!r} is overridden by both plugin {existing.owner!r} and plugin "
                    f"{owner!r}; at most one plugin may override a name")
            if not override and not existing.override:
                raise PluginConflictError(
                    f"{self.kind} {name!r} is registered by both plugin {existing.owner!r} and plugin "
                    f"{owner!r}; uninstall or disable one (EMBER_DISABLE_PLUGINS={owner}), or register "
                    f"with override=True to replace it on purpose")
            if existing.override:  # the override came first: it keeps the name, the original waits under it
                existing.overridden.append((owner, obj))
                return existing
            entry.overridden = existing.overridden + [(existing.owner, existing.obj)]
        self.entries[name] = entry
        return entry

    def add_pending(self, entry: LazyEntry) -> bool:
        """Put a promised name in its place, unless the name is taken (False: the caller imports the
        module instead, and its registration meets the other plugin's name as usual)."""
        if entry.name in self.entries:
            return False
        self.entries[entry.name] = entry
        return True

    def remove_owner(self, owner: str) -> list[str]:
        """Take out everything ``owner`` registered, restoring what its overrides had replaced."""
        changed = []
        for name, entry in list(self.entries.items()):
            entry.overridden = [(o, obj) for o, obj in entry.overridden if o != owner]
            if entry.owner == owner:
                changed.append(name)
                if entry.overridden:
                    prev_owner, prev_obj = entry.overridden[-1]
                    self.entries[name] = Entry(name, prev_obj, prev_owner, False, entry.overridden[:-1])
                else:
                    del self.entries[name]
        return changed

    def overrides(self) -> list[tuple[str, str, list[str]]]:
        """(name, winning owner, owners replaced) for every overridden name: what ``ember plugins`` shows."""
        return [(n, e.owner, [o for o, _ in e.overridden]) for n, e in sorted(self.entries.items())
                if e.overridden]


class Registrar:
    """The registry a plugin's hook receives: ``register(...)`` records the plugin as owner."""

    def __init__(self, registry: Registry, owner: str):
        self._registry = registry
        self.owner = owner
        self.added: list[str] = []
        self.added_kernels: list[str] = []

    def register(self, obj, *, name: str | None = None, override: bool = False):
        entry = self._registry.add(obj, self.owner, name, override)
        self.added.append(entry.name if entry.owner == self.owner else name or self._registry.name_of(obj))
        return obj

    def register_all(self, objs, *, override: bool = False) -> None:
        for obj in objs:
            self.register(obj, override=override)

    def register_kernel(self, primitive, device_type: str, fn=None, *, override: bool = False, factory=None):
        """(Device registry) run ``fn`` instead of ``primitive.forward`` on tensors of ``device_type``.

        ``primitive`` is a :class:`ember.ops.Primitive` subclass or its name; ``fn`` takes what
        ``forward`` takes (``xp``, then the arrays and attributes). Instead of ``fn``, a ``factory`` may
        make it from the primitive class (``factory(cls) -> fn``) when the class is first bound: a kernel
        registered by name then does not import the primitive's module at ``import ember``. The kernel is
        registered as ``"<primitive>@<device_type>"`` with this plugin as its owner: another plugin
        registering a kernel for the same primitive and device is a :class:`PluginConflictError` naming
        both, unless one passes ``override=True`` (recorded, as for any name). Returns ``fn`` (or
        ``factory``).
        """
        if not isinstance(self._registry, DeviceRegistry):
            raise TypeError("register_kernel belongs to the device registry (ember_register_devices)")
        if (fn is None) == (factory is None):
            raise TypeError(f"register_kernel({primitive!r}, {device_type!r}): pass the kernel fn, or a factory that "
                            f"makes it from the primitive class, exactly one of them")
        kernel = Kernel(primitive if isinstance(primitive, str) else primitive.name, device_type, fn, factory)
        entry = self._registry.kernels.add(kernel, self.owner, override=override)
        self.added_kernels.append(entry.name if entry.owner == self.owner else kernel.name)
        return fn if fn is not None else factory

    def __getattr__(self, attr):
        return getattr(self._registry, attr)

    def __repr__(self) -> str:
        return f"<{type(self._registry).__name__} for plugin {self.owner!r}>"


class OpRegistry(Registry):
    kind = "op"

    def validate(self, obj, name):
        from .ops import Op
        if not isinstance(obj, Op):
            raise TypeError(f"op registry: expected an ember.ops.Op declaration for {name!r}, got "
                            f"{type(obj).__name__} (wrap the function with ember.ops.Op(...) or @op)")


class LayerRegistry(Registry):
    kind = "layer"

    def validate(self, obj, name):
        from .nn.module import Module
        if not (isinstance(obj, type) and issubclass(obj, Module)):
            raise TypeError(f"layer registry: {name!r} must be a subclass of ember.nn.Module, got {obj!r}")


class OptimizerRegistry(Registry):
    """Optimizers (subclasses of ``ember.optim.Optimizer``) and LR schedulers (of ``LRScheduler``)."""

    kind = "optimizer"

    def validate(self, obj, name):
        from .optim.lr_scheduler import LRScheduler
        from .optim.optimizer import Optimizer
        if not (isinstance(obj, type) and issubclass(obj, (Optimizer, LRScheduler))):
            raise TypeError(f"optimizer registry: {name!r} must subclass ember.optim.Optimizer or "
                            f"ember.optim.lr_scheduler.LRScheduler, got {obj!r}")


@dataclass(frozen=True)
class Kernel:
    """A device's own forward for a primitive: ``fn`` replaces ``<primitive>.forward`` on ``device_type``."""

    primitive: str  # the primitive's name (``Primitive.name``)
    device_type: str
    fn: object
    factory: object = None  # or factory(primitive class) -> fn, called when the class is bound

    @property
    def name(self) -> str:
        return f"{self.primitive}@{self.device_type}"


class KernelRegistry(Registry):
    """Device kernels by ``"<primitive>@<device type>"``, each with its owner, like every other name."""

    kind = "kernel"

    def validate(self, obj, name):
        if not isinstance(obj, Kernel) or not callable(obj.fn if obj.factory is None else obj.factory):
            raise TypeError(f"kernel registry: the kernel {name!r} must be callable, got "
                            f"{getattr(obj, 'fn', None) or getattr(obj, 'factory', obj)!r}")


class DeviceRegistry(Registry):
    """Device backends by type name, and (in :attr:`kernels`) device-specific kernels for primitives."""

    kind = "device"

    def __init__(self):
        super().__init__()
        self.kernels = KernelRegistry()

    def name_of(self, obj) -> str:
        return obj.type

    def remove_owner(self, owner: str) -> list[str]:
        self.kernels.remove_owner(owner)
        return super().remove_owner(owner)

    def validate(self, obj, name):
        from .device import Backend
        if not isinstance(obj, Backend):
            raise TypeError(f"device registry: {name!r} must be an ember.device.Backend instance, got {obj!r}")



class ProcessGroupBackendRegistry(Registry):
    """Backends of ``ember.distributed`` by name (``"mpi"``, and aliases such as ``"gloo"``)."""

    kind = "process-group backend"

    def validate(self, obj, name):
        from .distributed.backend import ProcessGroupBackend
        if not isinstance(obj, ProcessGroupBackend):
            raise TypeError(f"process-group backend registry: {name!r} must be an "
                            f"ember.distributed.ProcessGroupBackend instance, got {obj!r}")


class ModelRegistry(Registry):
    """Pretrained models (``ember.hub.Pretrained`` declarations) by name, as ``ember.hub`` lists them."""

    kind = "model"

    def validate(self, obj, name):
        from .hub import Pretrained
        if not isinstance(obj, Pretrained):
            raise TypeError(f"model registry: {name!r} must be an ember.hub.Pretrained declaration, got {obj!r}")
