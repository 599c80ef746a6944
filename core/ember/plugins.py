"""The plugin manager: finds plugins, calls their hooks, and binds what they registered.

Built-in and third-party plugins take the same path: an entry point in the ``ember.plugins`` group
(or :func:`register` at run time) names a module or object with hook implementations; ember calls its
hooks once, with a registry, and then binds every registered name where users find it (``ember.relu``,
``Tensor.relu``, ``ember.nn.Linear``, ``ember.optim.Adam``). After that, calling an op touches neither
pluggy nor the registries.

A plugin cannot break the others by side effects that ember can see: names it sets, replaces or
deletes in the namespaces ember binds (``ember``, ``Tensor``, ``ember.nn``, ...) while it is imported or
while its hooks run are undone, and the plugin is skipped as broken, named. An exception of any kind
from a plugin (``SystemExit`` included) skips that plugin; only a real Ctrl-C stops ``import ember``.

Environment: ``EMBER_PLUGINS_STRICT=1`` makes a broken plugin an error instead of a warning;
``EMBER_DISABLE_PLUGIN_AUTOLOAD=1`` loads only the built-ins (distribution ``ember``);
``EMBER_DISABLE_PLUGINS=a,b`` skips the named plugins.
"""

from __future__ import annotations

import operator
import os
import signal
import sys
import threading
import warnings
from dataclasses import dataclass, field
from types import ModuleType

import pluggy

from . import entry_points, hookspecs
from .registry import (DeviceRegistry, LayerRegistry, ModelRegistry, OpRegistry, OptimizerRegistry,
                       ProcessGroupBackendRegistry, Registrar)

__all__ = ["register", "unregister", "report", "PluginError", "PluginInfo", "manager", "registries",
           "hookimpl", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "ember.plugins"
BUILTIN_DISTRIBUTION = "ember"
hookimpl = hookspecs.hookimpl


class PluginError(RuntimeError):
    """A plugin failed to import, validate or register (raised in strict mode and at run-time register)."""


class PluginWarning(UserWarning):
    """A plugin was skipped because it failed; ``ember plugins`` shows why."""


@dataclass
class PluginInfo:
    """What ``ember plugins`` reports for one plugin.

    The distribution's name and version are read from its metadata only when asked for: parsing every
    plugin's METADATA at import would cost more than the rest of ``import ember``.
    """

    name: str
    dist: object = field(default=None, repr=False)  # an ember.entry_points or importlib_metadata Distribution
    source: str = ""  # entry point value, or "runtime"
    status: str = "loaded"  # loaded | failed | disabled ...
    error: str = ""
    registered: dict = field(default_factory=dict)  # registry name -> [names]

    @property
    def distribution(self) -> str:
        return self.dist.name if self.dist is not None else ""

    @property
    def version(self) -> str:
        return self.dist.version if self.dist is not None else ""

    @property
    def builtin(self) -> bool:
        if self.dist is None:
            return False
        normalized = getattr(self.dist, "_normalized_name", None) or self.distribution
        return normalized.replace("-", "_").lower() == BUILTIN_DISTRIBUTION


manager = pluggy.PluginManager("ember")
manager.add_hookspecs(hookspecs)
registries = {"devices": DeviceRegistry(), "ops": OpRegistry(), "layers": LayerRegistry(),
              "optimizers": OptimizerRegistry(), "process_group_backends": ProcessGroupBackendRegistry(),
              "models": ModelRegistry()}
_infos: dict[str, PluginInfo] = {}
_SPEC_NAMES = {name for name, _ in hookspecs.PHASES}


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def strict() -> bool:
    """Whether a plugin that breaks while ``import ember`` loads it raises :class:`PluginError` rather than
    being skipped with a warning (``EMBER_PLUGINS_STRICT=1``); run-time :func:`register` always raises."""
    return _env_flag("EMBER_PLUGINS_STRICT")


# Run-time register/unregister change the registries and rebind names: threads take turns.
_lock = threading.RLock()


# -- loading ---------------------------------------------------------------------------------------

def _entry_points():
    """The ``ember.plugins`` entry points: the fast scan (:mod:`ember.entry_points`), or importlib.metadata
    where that scan cannot stand in for it."""
    found = entry_points.find(ENTRY_POINT_GROUP)
    if found is None:
        from importlib_metadata import entry_points as metadata_entry_points
        found = metadata_entry_points(group=ENTRY_POINT_GROUP)
    return found


def load_entry_points() -> None:
    """Load every plugin of the ``ember.plugins`` entry-point group; called once by ``import ember``."""
    raising = strict()
    only_builtins = _env_flag("EMBER_DISABLE_PLUGIN_AUTOLOAD")
    disabled = {n.strip() for n in os.environ.get("EMBER_DISABLE_PLUGINS", "").split(",") if n.strip()}
    loaded = []
    seen = {}
    for ep in _entry_points():
        info = PluginInfo(ep.name, ep.dist, ep.value)
        if (ep.name, ep.value) in seen:
            continue  # the same distribution found twice on sys.path
        if ep.name in _infos or ep.name in seen.values():
            _fail(info, f"the plugin name {ep.name!r} is taken by distribution "
                        f"{_infos[ep.name].distribution if ep.name in _infos else '?'!r}", raising=raising)
            continue
        seen[(ep.name, ep.value)] = ep.name
        _infos[ep.name] = info
        if ep.name in disabled:
            info.status = "disabled (EMBER_DISABLE_PLUGINS)"
            continue
        if only_builtins and not info.builtin:
            info.status = "disabled (EMBER_DISABLE_PLUGIN_AUTOLOAD)"
            continue
        plugin = _import_plugin(ep, info, raising)
        if plugin is not _FAILED and _add_to_manager(plugin, info, raising):
            loaded.append(info)
    _run_hooks(loaded, raising)
    bind(raising)


_FAILED = object()


def _import_plugin(ep, info: PluginInfo, raising: bool):
    """The plugin object an entry point names, or _FAILED (the plugin then marked failed) when importing
    it raised anything but a real Ctrl-C, or changed ember's namespaces (the changes are undone)."""
    snapshot = _snapshot()
    with _InterruptWatch() as interrupts:
        try:
            plugin = ep.load()
        except BaseException as exc:  # a broken plugin must not break import ember, whatever it raises
            interrupts.reraise_if_real(exc)
            _undo_side_effects(snapshot)
            _fail(info, f"import failed: {type(exc).__name__}: {exc}", exc, raising=raising)
            return _FAILED
    if _undo_side_effects(snapshot, info, "when imported", raising):
        return _FAILED
    return plugin


def _add_to_manager(plugin, info: PluginInfo, raising: bool) -> bool:
    try:
        try:
            hash(plugin)
        except TypeError:  # pluggy's per-plugin hook callers keep plugins in sets
            raise pluggy.PluginValidationError(
                plugin, f"plugin {info.name!r} is a {type(plugin).__name__} instance that cannot be hashed; register "
                        f"a module, a class, or an instance of a class that keeps object's __hash__ (a dataclass "
                        f"needs eq=False or frozen=True)") from None
        manager.register(plugin, name=info.name)
        unknown = [name for name in _hookimpl_names(plugin) if name not in _SPEC_NAMES]
        if unknown:
            manager.unregister(name=info.name)
            raise pluggy.PluginValidationError(
                plugin, f"plugin {info.name!r} implements unknown hook(s) {unknown}; ember's hooks are "
                        f"{sorted(_SPEC_NAMES)}")
    except (pluggy.PluginValidationError, ValueError) as exc:
        _fail(info, f"invalid plugin: {exc}", exc, raising=raising)
        return False
    _warn_unmarked_hooks(plugin, info, raising)
    return True


def _hookimpl_names(plugin) -> list[str]:
    """The hooks ``plugin`` implements, as pluggy parsed them when it was registered."""
    return [caller.name for caller in manager.get_hookcallers(plugin) or ()]


def _warn_unmarked_hooks(plugin, info: PluginInfo, raising: bool) -> None:
    """Functions named like a hook but not marked ``@ember.hookimpl`` are never called: say so."""
    unmarked = [name for name in dir(plugin)
                if (name in _SPEC_NAMES or name.startswith("ember_register_"))
                and callable(getattr(plugin, name, None)) and manager.parse_hookimpl_opts(plugin, name) is None]
    if not unmarked:
        return
    message = (f"function(s) {unmarked} look like hook implementations but are not marked with "
               f"@ember.hookimpl, so ember never calls them; decorate them with @ember.hookimpl")
    if raising:
        _rollback(info)
        _fail(info, message, raising=True)
    info.error = message
    warnings.warn(f"ember plugin {info.name!r}{_dist_text(info)}: {message}", PluginWarning, stacklevel=4)


def _run_hooks(infos, raising: bool) -> None:
    """Call each hook of the given plugins, phase by phase, plugins in pluggy's order for each hook.

    Each plugin's call goes through pluggy's hook caller (a subset holding that plugin's implementations
    only), so ``wrapper=True`` and old-style ``hookwrapper=True`` implementations run as pluggy runs
    them, and each call gets a registrar that records that plugin as the owner of what it registers.
    A plugin that raises or conflicts is rolled back whole (all kinds it registered) and marked failed.
    """
    names = {info.name: info for info in infos}
    for hook_name, registry_name in hookspecs.PHASES:
        caller = getattr(manager.hook, hook_name)
        order = []  # plugin names in the order pluggy would call them (it calls the last registered first)
        for impl in reversed(caller.get_hookimpls()):
            if impl.plugin_name in names and impl.plugin_name not in order:
                order.append(impl.plugin_name)
        for name in order:
            info = names[name]
            if info.status != "loaded":
                continue
            registrar = Registrar(registries[registry_name], info.name)
            if _call_hook(_caller_for(hook_name, info.name), hook_name, registrar, info, raising):
                if registrar.added:
                    info.registered.setdefault(registry_name, []).extend(registrar.added)
                if registrar.added_kernels:
                    info.registered.setdefault("kernels", []).extend(registrar.added_kernels)


def _caller_for(hook_name: str, plugin_name: str):
    """pluggy's caller of ``hook_name`` restricted to one plugin's implementations (wrappers included)."""
    others = [plugin for name, plugin in manager.list_name_plugin() if name != plugin_name]
    return manager.subset_hook_caller(hook_name, remove_plugins=others)


def _call_hook(caller, hook_name: str, registrar: Registrar, info: PluginInfo, raising: bool) -> bool:
    """Run one plugin's implementations of a hook; False, with the plugin rolled back and failed, when
    it raised anything but a real Ctrl-C or changed ember's namespaces (the changes are undone)."""
    snapshot = _snapshot()
    with _InterruptWatch() as interrupts:
        try:
            caller(registry=registrar)
        except BaseException as exc:  # SystemExit too: a plugin may not end the program
            interrupts.reraise_if_real(exc)
            _undo_side_effects(snapshot)
            _rollback(info)
            _fail(info, f"{hook_name} failed: {type(exc).__name__}: {exc}", exc, raising=raising)
            return False
    return not _undo_side_effects(snapshot, info, f"in its hook {hook_name}", raising)


def _rollback(info: PluginInfo) -> None:
    for registry in registries.values():
        registry.remove_owner(info.name)
    info.registered = {}
    if manager.has_plugin(info.name):
        manager.unregister(name=info.name)


def _dist_text(info: PluginInfo) -> str:
    return f" (distribution {info.distribution} {info.version})" if info.distribution else ""


def _fail(info: PluginInfo, message: str, cause: BaseException | None = None, *, raising: bool) -> None:
    """Mark ``info`` failed; raise :class:`PluginError` when ``raising``, else warn that it was skipped."""
    info.status, info.error = "failed", message
    _infos.setdefault(info.name, info)
    text = f"ember plugin {info.name!r}{_dist_text(info)} was skipped: {message}"
    if raising:
        raise PluginError(text) from cause
    warnings.warn(text, PluginWarning, stacklevel=3)


class _InterruptWatch:
    """Tells a real Ctrl-C apart from a ``KeyboardInterrupt`` that a plugin raised itself.

    While a plugin runs, SIGINT goes through a handler that notes it, then acts as the handler before
    it would. Outside the main thread no handler can be set: every KeyboardInterrupt counts as real.
    """

    def __enter__(self):
        self.sigint_seen = False
        try:
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
            self._watching = True
        except (ValueError, TypeError):  # not the main thread, or SIGINT not handled from Python
            self._watching = False
        return self

    def _on_sigint(self, signum, frame):
        self.sigint_seen = True
        if callable(self._previous):
            self._previous(signum, frame)
        elif self._previous != signal.SIG_IGN:
            raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self._watching and signal.getsignal(signal.SIGINT) == self._on_sigint:  # a plugin may set its own
            signal.signal(signal.SIGINT, signal.SIG_DFL if self._previous is None else self._previous)
        return False

    def reraise_if_real(self, exc: BaseException) -> None:
        if isinstance(exc, KeyboardInterrupt) and (self.sigint_seen or not self._watching):
            raise exc


# -- side effects on ember's namespaces -------------------------------------------------------------

def _snapshot() -> list[tuple[object, dict]]:
    """The attributes of every namespace ember binds names into, to compare after a plugin ran."""
    return [(space, vars(space).copy()) for space in _namespaces().values()]  # .copy(): fast on a class too


def _undo_side_effects(snapshot, info: PluginInfo | None = None, when: str = "", raising: bool = False) -> bool:
    """Put back every attribute changed since ``snapshot``; with ``info``, fail that plugin naming the
    changes. True when something had changed."""
    changes = []  # (namespace, attribute, value before or _MISSING, what the plugin did)
    for space, before in snapshot:
        now = vars(space).copy()
        if now.keys() == before.keys() and all(map(operator.is_, now.values(), before.values())):
            continue  # the usual case, checked at C speed
        for attr, value in before.items():
            if now.get(attr, _MISSING) is not value:
                changes.append((space, attr, value, "replaced" if attr in now else "deleted"))
        for attr in now.keys() - before.keys():
            if not _is_import_binding(space, attr, now[attr]):
                changes.append((space, attr, _MISSING, "set"))
    for space, attr, value, _ in changes:
        if value is _MISSING:
            delattr(space, attr)
        else:
            setattr(space, attr, value)
    if changes and info is not None:
        done = [f"{what} {_space_name(space)}.{attr}" for space, attr, _, what in changes]
        _rollback(info)
        _fail(info, f"it changed ember's namespaces {when} ({', '.join(done)}); plugins add names "
                    f"only by registering them in a hook. The changes were undone.", raising=raising)
    return bool(changes)


def _is_import_binding(space, attr: str, value) -> bool:
    """A name the import system or ember's lazy loading adds, which any plugin may cause."""
    name = getattr(space, "__name__", "")
    if isinstance(value, ModuleType) and value.__name__ == f"{name}.{attr}":
        return True
    lazy = getattr(space, "_LAZY_NAMES", None) if name == "ember" else None
    return bool(lazy) and attr in lazy and value is getattr(sys.modules.get(lazy[attr]), attr, None)


def _space_name(space) -> str:
    return "ember.Tensor" if isinstance(space, type) else space.__name__


# -- run-time registration -----------------------------------------------------------------------

def register(plugin, name: str | None = None) -> PluginInfo:
    """Register a plugin object (a module, class or instance with hook implementations) now.

    Unlike entry-point loading, a failure raises :class:`PluginError` here: the caller can see it.
    """
    name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
    with _lock:
        if name in _infos and _infos[name].status == "loaded":
            raise PluginError(f"register: a plugin named {name!r} is already registered "
                              f"(from {_infos[name].distribution or _infos[name].source})")
        info = PluginInfo(name, None, "runtime")
        try:
            _infos[name] = info
            if _add_to_manager(plugin, info, raising=True):
                _run_hooks([info], raising=True)
            bind(raising=True)
        except PluginError:
            _infos.pop(name, None)
            raise
    return info


def unregister(name: str) -> None:
    """Remove a plugin and everything it registered; names it had overridden come back."""
    with _lock:
        info = _infos.pop(name, None)
        if info is None:
            raise PluginError(f"unregister: no plugin named {name!r}; known: {sorted(_infos)}")
        _rollback(info)
        bind(strict())


def report() -> list[PluginInfo]:
    """Every plugin seen: loaded, failed (with the error) or disabled, with what each registered."""
    return list(_infos.values())


def overrides() -> list[tuple[str, str, str, list[str]]]:
    """(kind, name, winner, replaced owners) for every override in force (kind ``"kernels"`` for the
    device kernels, named ``"<primitive>@<device type>"``)."""
    rows = [(kind, *row) for kind, registry in registries.items() for row in registry.overrides()]
    return rows + [("kernels", *row) for row in registries["devices"].kernels.overrides()]


# -- binding ----------------------------------------------------------------------------------------

_REFLECTED = {"add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
              "lshift", "rshift"}
_bound: list[tuple[object, str, object]] = []  # (namespace, attribute, what was there before or _MISSING)
_MISSING = object()


def _namespaces():
    """The namespaces ember binds registered names into (found once: they are modules and a class)."""
    if not _SPACES:
        import ember
        from ember import linalg
        from ember.nn import functional
        from ember.optim import lr_scheduler
        from ember.tensor import Tensor
        _SPACES.update({"ember": ember, "Tensor": Tensor, "functional": functional, "linalg": linalg,
                        "nn": sys.modules["ember.nn"], "optim": sys.modules["ember.optim"],
                        "lr_scheduler": lr_scheduler})
    return _SPACES


_SPACES: dict = {}


def bind(raising: bool | None = None) -> None:
    """Make every registered name reachable where PyTorch has it; undo the previous binding first,
    so that a plugin registered or removed at run time leaves no stale name behind. A plugin whose names
    cannot be bound is rolled back and failed (raising :class:`PluginError` when ``raising``; by default
    as :func:`strict` says)."""
    if raising is None:
        raising = strict()
    from .device import device
    from .optim.lr_scheduler import LRScheduler
    from .primitive import Primitive

    for namespace, attr, previous in reversed(_bound):
        if previous is _MISSING:
            try:
                delattr(namespace, attr)
            except AttributeError:
                pass
        else:
            setattr(namespace, attr, previous)
    _bound.clear()
    spaces = _namespaces()

    device._backends.clear()
    for entry in registries["devices"].entries.values():
        device._backends[entry.name] = entry.obj
    for dev in set(device._interned.values()):  # live tensors keep their device objects
        backend = device._backends.get(dev.type)
        if backend is not None and backend is not dev.backend:
            dev.backend = backend
            dev.xp = None if dev.xp is None else backend.xp
    try:
        _bind_kernels(Primitive)
        for entry in registries["ops"].entries.values():
            _bind_op(entry.obj, entry.owner, spaces)
        for entry in registries["layers"].entries.values():
            _set(spaces["nn"], entry.name, entry.obj, entry.owner)
        for entry in registries["optimizers"].entries.values():
            space = spaces["lr_scheduler"] if issubclass(entry.obj, LRScheduler) else spaces["optim"]
            _set(space, entry.name, entry.obj, entry.owner)
    except _BindError as exc:  # roll the offending plugin back, then bind the rest again
        info = _infos.get(exc.owner, PluginInfo(exc.owner))
        _rollback(info)
        bind(raising=False)  # the other plugins' names bound again before the failure is reported
        _fail(info, str(exc), raising=raising)


def _bind_op(op, owner, spaces) -> None:
    names = (op.name,) + tuple(op.aliases)
    for place in op.namespaces:
        for name in names:
            if place == "Tensor":
                _set(spaces["Tensor"], op.method if name == op.name else name, op.fn, owner)
                if op.inplace is not None:
                    _set(spaces["Tensor"], name + "_", op.inplace, owner)
            else:
                # ATen's naming: an op "linalg_svd" is ember.linalg.svd, so ember.svd can be another op
                attr = name[len("linalg_"):] if place == "linalg" and name.startswith("linalg_") else name
                _set(spaces[place], attr, op.function(place), owner)
                if place == "ember" and op.inplace is not None:
                    _set(spaces[place], name + "_", op.inplace, owner)
    if op.operator:
        _bind_operator(op, owner, spaces["Tensor"])


def _bind_operator(op, owner, tensor_cls) -> None:
    from .primitive import binary_operator
    sym = op.operator
    direct = op.operator_kinds is not None and op.primitive is not None
    _set(tensor_cls, f"__{sym}__", binary_operator(op.primitive, op.fn, op.operator_kinds) if direct else op.fn,
         owner)
    if sym in _REFLECTED:
        fn = op.fn

        def reflected(self, other):
            """``other <op> self`` for a non-tensor ``other`` on the left: the op with its operands swapped
            (``torch.Tensor.__radd__`` and its kin)."""
            return fn(other, self)
        reflected.__name__ = f"__r{sym}__"
        _set(tensor_cls, f"__r{sym}__", reflected, owner)
        if op.inplace is not None:
            _set(tensor_cls, f"__i{sym}__", op.inplace, owner)


class _BindError(PluginError):
    def __init__(self, owner, message):
        super().__init__(message)
        self.owner = owner


def _set(namespace, attr, value, owner) -> None:
    previous = namespace.__dict__.get(attr, _MISSING) if isinstance(namespace, type) else \
        getattr(namespace, attr, _MISSING)
    if previous is not _MISSING:
        where = getattr(namespace, "__name__", str(namespace))
        raise _BindError(owner, f"plugin {owner!r} registered {attr!r}, which would replace ember's own "
                                f"{where}.{attr}; choose another name")
    _bound.append((namespace, attr, previous))
    setattr(namespace, attr, value)


def _bind_kernels(primitive_base) -> None:
    """Give each primitive class the kernels registered for it (device type -> fn); a kernel for a
    primitive no op declares is its owner's error."""
    by_name = {}
    stack = [primitive_base]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            by_name[sub.name] = sub
            stack.append(sub)
            sub.kernels = {}
    for entry in registries["devices"].kernels.entries.values():
        kernel = entry.obj
        target = by_name.get(kernel.primitive)
        if target is None:
            raise _BindError(entry.owner, f"plugin {entry.owner!r} registered a {kernel.device_type} kernel for "
                                          f"unknown primitive {kernel.primitive!r}")
        target.kernels[kernel.device_type] = kernel.fn
        _share_kernel(target, kernel.device_type, kernel.fn)


def _share_kernel(prim, device_type, fn) -> None:
    """An overload that keeps its base's forward (``Mm`` of ``Matmul``, ``SumDim`` of ``Sum``) runs the
    base's kernel too, unless a kernel was registered for it."""
    for sub in prim.__subclasses__():
        if "forward" not in sub.__dict__ and device_type not in sub.kernels:
            sub.kernels[device_type] = fn
            _share_kernel(sub, device_type, fn)
