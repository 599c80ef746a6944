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

A plugin may split what it registers into modules (:class:`Families`: the built-in ops, layers and
optimizers do): ember then imports each module on first use of one of its names, from a name manifest
cached per installed version of the plugin (:mod:`ember.manifest`), so that ``import ember`` does not
import hundreds of ops it may never run. Until then each name is a placeholder: a :class:`LazyEntry` in
its registry, a stub on ``Tensor``, a module ``__getattr__`` entry elsewhere; its first use imports the
module, registers it and binds the real names, after which calls go straight to them.

Environment: ``EMBER_PLUGINS_STRICT=1`` makes a broken plugin an error instead of a warning (and loads
every plugin whole, so that a broken module shows at import); ``EMBER_DISABLE_PLUGIN_AUTOLOAD=1`` loads
only the built-ins (distribution ``ember``); ``EMBER_DISABLE_PLUGINS=a,b`` skips the named plugins;
``EMBER_LAZY_PLUGINS=0`` imports every plugin module at ``import ember``.
"""

from __future__ import annotations

import importlib
import operator
import os
import signal
import sys
import threading
import warnings
from dataclasses import dataclass, field
from types import ModuleType
from typing import Callable

import pluggy

from . import entry_points, hookspecs, manifest
from .registry import (DeviceRegistry, LayerRegistry, LazyEntry, ModelRegistry, OpRegistry, OptimizerRegistry,
                       ProcessGroupBackendRegistry, Registrar)

__all__ = ["register", "unregister", "report", "load_all", "PluginError", "PluginInfo", "Families", "manager",
           "registries", "hookimpl", "ENTRY_POINT_GROUP"]

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


@dataclass(frozen=True)
class Families:
    """What a plugin registers for one registry, split by module so that ember can import each module
    on first use of one of its names (declared as ``ember_families = (Families(...), ...)`` on the plugin).

    - ``kind``: the registry, ``"ops"``, ``"layers"`` or ``"optimizers"``;
    - ``modules``: the modules' absolute names, in registration order;
    - ``register``: ``register(module, registry)`` registers one module's declarations (what the plugin's
      hook would do for it). ember calls it in place of the plugin's hook for ``kind``.

    The plugin must be a package: its manifest is valid for the exact files of that package (see
    :mod:`ember.manifest`). A module's names are those it registered when ember last loaded it whole.
    A plain ``(kind, modules, register)`` tuple declares the same, for a package that does not import
    ember itself (then importing one of its modules before ember still finds the declaration complete).
    """

    kind: str
    modules: tuple
    register: Callable


_LAZY_KINDS = ("ops", "layers", "optimizers")  # registries whose names ember knows how to bind lazily


manager = pluggy.PluginManager("ember")
manager.add_hookspecs(hookspecs)
registries = {"devices": DeviceRegistry(), "ops": OpRegistry(), "layers": LayerRegistry(),
              "optimizers": OptimizerRegistry(), "process_group_backends": ProcessGroupBackendRegistry(),
              "models": ModelRegistry()}
_registries = registries  # what ember's own code reads: a first use never goes through the public name
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
    whole = raising or os.environ.get("EMBER_LAZY_PLUGINS", "").strip().lower() in ("0", "false", "no")
    _install_lookups(_namespaces())
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
        if plugin is not _FAILED and _add_to_manager(plugin, info, raising) \
                and _plan_families(plugin, info, raising, whole=whole):
            loaded.append(info)
    _run_hooks(loaded, raising)
    bind(raising)
    _write_manifests(loaded)


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
        for name in names:  # where pluggy would call them if they had a plain hook implementation
            if name not in order and _declared(name, registry_name):
                order.insert(_call_position(order, name), name)
        for name in order:
            info = names[name]
            if info.status != "loaded":
                continue
            declared = _declared(name, registry_name)
            if declared is not None:  # registered module by module, in place of the hook
                _register_families(info, declared, raising)
                continue
            registrar = Registrar(_registries[registry_name], info.name)
            if _call_hook(_caller_for(hook_name, info.name), hook_name, registrar, info, raising):
                if registrar.added:
                    info.registered.setdefault(registry_name, []).extend(registrar.added)
                if registrar.added_kernels:
                    info.registered.setdefault("kernels", []).extend(registrar.added_kernels)


def _call_position(order: list, name: str) -> int:
    """Where in pluggy's call ``order`` a plain implementation of plugin ``name`` would be: before the
    first plugin registered earlier (pluggy calls the last registered first)."""
    registered = [plugin_name for plugin_name, _ in manager.list_name_plugin()]
    rank = registered.index(name)
    return next((i for i, other in enumerate(order) if registered.index(other) < rank), len(order))


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
    for family in _families.pop(info.name, ()):
        if family.state != "loaded":
            family.state, family.error = "removed", f"plugin {info.name!r} was removed: {info.error or 'unregistered'}"
    for registry in _registries.values():
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
            if now.get(attr, _MISSING) is not value and not _ember_did(space, attr, now):
                changes.append((space, attr, value, "replaced" if attr in now else "deleted"))
        for attr in now.keys() - before.keys():
            if not _is_import_binding(space, attr, now[attr]) and not _ember_did(space, attr, now):
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


def _ember_did(space, attr: str, now: dict) -> bool:
    """Whether ``space.attr`` is as ember itself last left it (a module imported on first use meanwhile)."""
    done = _owned.get((id(space), attr), _MISSING)
    return done is not _MISSING and done is (_REMOVED if attr not in now else now[attr])


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
            if _add_to_manager(plugin, info, raising=True) and _plan_families(plugin, info, True, whole=True):
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
    return rows + [("kernels", *row) for row in _registries["devices"].kernels.overrides()]


# -- binding ----------------------------------------------------------------------------------------

_REFLECTED = {"add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
              "lshift", "rshift"}
_bound: list[tuple[object, str, object]] = []  # (namespace, attribute, what was there before or _MISSING)
_MISSING = object()
_REMOVED = object()
# (id(namespace), attribute) -> what ember itself last put there (_REMOVED: what it took away), so that a
# module imported on first use while a plugin runs is not taken for that plugin's doing
_owned: dict = {}
_binding = False  # bind() is running: a module imported meanwhile is registered, and bound by bind() itself


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
        _SPACE_KEYS.update({id(space): key for key, space in _SPACES.items()})
    return _SPACES


_SPACES: dict = {}
_SPACE_KEYS: dict = {}  # id(namespace) -> its key in _SPACES


def _watch_primitives() -> None:
    from .primitive import SUBCLASS_HOOKS
    if _attach_kernels not in SUBCLASS_HOOKS:
        SUBCLASS_HOOKS.append(_attach_kernels)


def bind(raising: bool | None = None) -> None:
    """Make every registered name reachable where PyTorch has it; undo the previous binding first,
    so that a plugin registered or removed at run time leaves no stale name behind. A plugin whose names
    cannot be bound is rolled back and failed (raising :class:`PluginError` when ``raising``; by default
    as :func:`strict` says). Names of modules not imported yet are bound as placeholders."""
    global _binding
    if raising is None:
        raising = strict()
    from .device import device
    from .optim.lr_scheduler import LRScheduler
    from .primitive import Primitive

    for namespace, attr, previous in reversed(_bound):
        _owned[(id(namespace), attr)] = _REMOVED if previous is _MISSING else previous
        if previous is _MISSING:
            try:
                delattr(namespace, attr)
            except AttributeError:
                pass
        else:
            setattr(namespace, attr, previous)
    _bound.clear()
    _lazy_attrs.clear()
    for families in _families.values():
        for family in families:
            family.placeholders.clear()
    spaces = _namespaces()

    device._backends.clear()
    for entry in _registries["devices"].entries.values():
        device._backends[entry.name] = entry.obj
    for dev in set(device._interned.values()):  # live tensors keep their device objects
        backend = device._backends.get(dev.type)
        if backend is not None and backend is not dev.backend:
            dev.backend = backend
            dev.xp = None if dev.xp is None else backend.xp
    _binding = True
    _watch_primitives()
    try:
        _bind_kernels(Primitive, complete=True)
        for kind in ("ops", "layers", "optimizers"):
            for entry in list(_registries[kind].entries.values()):
                if isinstance(entry, LazyEntry) and not entry.loaded:
                    _bind_placeholder(entry, spaces)
                else:
                    _bind_entry(kind, entry, spaces, LRScheduler)
    except _BindError as exc:  # roll the offending plugin back, then bind the rest again
        _binding = False
        info = _infos.get(exc.owner, PluginInfo(exc.owner))
        _rollback(info)
        bind(raising=False)  # the other plugins' names bound again before the failure is reported
        _fail(info, str(exc), raising=raising)
    finally:
        _binding = False


def _bind_entry(kind, entry, spaces, scheduler_base) -> None:
    if kind == "ops":
        for key, attr, value in _op_bindings(entry.obj):
            _set(spaces[key], attr, value, entry.owner)
    else:
        for key, attr in _class_bindings(kind, entry.name, entry.obj, scheduler_base):
            _set(spaces[key], attr, entry.obj, entry.owner)


def _class_bindings(kind, name, cls, scheduler_base):
    if kind == "layers":
        return [("nn", name)]
    return [("lr_scheduler" if issubclass(cls, scheduler_base) else "optim", name)]


def _op_bindings(op):
    """(namespace key, attribute, value) for every place ``op`` is bound."""
    names = (op.name,) + tuple(op.aliases)
    for place in op.namespaces:
        for name in names:
            if place == "Tensor":
                yield "Tensor", op.method if name == op.name else name, op.fn
                if op.inplace is not None:
                    yield "Tensor", name + "_", op.inplace
            else:
                # ATen's naming: an op "linalg_svd" is ember.linalg.svd, so ember.svd can be another op
                attr = name[len("linalg_"):] if place == "linalg" and name.startswith("linalg_") else name
                yield place, attr, op.function(place)
                if place == "ember" and op.inplace is not None:
                    yield place, name + "_", op.inplace
    if op.operator:
        yield from _operator_bindings(op)


def _operator_bindings(op):
    from .primitive import binary_operator
    sym = op.operator
    direct = op.operator_kinds is not None and op.primitive is not None
    yield "Tensor", f"__{sym}__", binary_operator(op.primitive, op.fn, op.operator_kinds) if direct else op.fn
    if sym in _REFLECTED:
        fn = op.fn

        def reflected(self, other):
            """``other <op> self`` for a non-tensor ``other`` on the left: the op with its operands swapped
            (``torch.Tensor.__radd__`` and its kin)."""
            return fn(other, self)
        reflected.__name__ = f"__r{sym}__"
        yield "Tensor", f"__r{sym}__", reflected
        if op.inplace is not None:
            yield "Tensor", f"__i{sym}__", op.inplace


class _BindError(PluginError):
    def __init__(self, owner, message):
        super().__init__(message)
        self.owner = owner


def _taken(namespace, attr):
    """What ``namespace.attr`` is now (a placeholder counts), or _MISSING; a module's own lazy exports are
    imported to see."""
    if isinstance(namespace, type):
        return namespace.__dict__.get(attr, _MISSING)
    pending = _lazy_attrs.get((_SPACE_KEYS.get(id(namespace)), attr))
    if pending is not None:
        return pending
    return getattr(namespace, attr, _MISSING)


def _set(namespace, attr, value, owner) -> None:
    if _taken(namespace, attr) is not _MISSING:
        where = getattr(namespace, "__name__", str(namespace))
        raise _BindError(owner, f"plugin {owner!r} registered {attr!r}, which would replace ember's own "
                                f"{where}.{attr}; choose another name")
    _bound.append((namespace, attr, _MISSING))
    _owned[(id(namespace), attr)] = value
    setattr(namespace, attr, value)


def _bind_kernels(primitive_base, complete: bool = False) -> None:
    """Give each primitive class the kernels registered for it (device type -> fn). A kernel for a
    primitive no op declares is its owner's error; with modules not imported yet (``complete``), those
    are imported first to be sure, otherwise (a module imported on first use) it waits for them."""
    from .primitive import kernel_floor
    by_name = {}
    stack = [primitive_base]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            by_name[sub.name] = sub
            stack.append(sub)
            sub.kernels = {}
    kernels = list(_registries["devices"].kernels.entries.values())
    waiting = set()  # primitives of modules not imported yet, as their manifests list them
    for family in _pending():
        waiting.update(family.record.get("primitives", ()))
    if complete and any(e.obj.primitive not in by_name and e.obj.primitive not in waiting for e in kernels) \
            and _pending():
        for family in _pending():  # maybe a module that no manifest lists: import them all to be sure
            family.load()
        return _bind_kernels(primitive_base, complete)
    for entry in kernels:
        kernel = entry.obj
        target = by_name.get(kernel.primitive)
        if target is None:
            if not complete or kernel.primitive in waiting:
                continue  # bound when its module is imported
            raise _BindError(entry.owner, f"plugin {entry.owner!r} registered a {kernel.device_type} kernel for "
                                          f"unknown primitive {kernel.primitive!r}")
        fn = kernel.fn if kernel.factory is None else _made_kernel(kernel, target)
        target.kernels[kernel.device_type] = fn
        _share_kernel(target, kernel.device_type, fn)
    for cls in by_name.values():
        cls.kernels_from_numel = kernel_floor(cls.kernels)


_made: dict = {}  # (kernel, primitive class) -> the fn its factory made


def _attach_kernels(cls) -> None:
    """A primitive class made after the kernels were bound (its module imported on first use, or by
    hand) gets its kernels at once: those registered for its name, else its base's when it keeps the
    base's forward."""
    from .primitive import kernel_floor
    for entry in _registries["devices"].kernels.entries.values():
        kernel = entry.obj
        if kernel.primitive == cls.name:
            cls.kernels[kernel.device_type] = kernel.fn if kernel.factory is None else _made_kernel(kernel, cls)
    if "forward" not in cls.__dict__:
        for device_type, fn in getattr(cls.__mro__[1], "kernels", {}).items():
            cls.kernels.setdefault(device_type, fn)
    cls.kernels_from_numel = kernel_floor(cls.kernels)


def _made_kernel(kernel, target):
    fn = _made.get((kernel, target))
    if fn is None:
        fn = _made[(kernel, target)] = kernel.factory(target)
    return fn


def _share_kernel(prim, device_type, fn) -> None:
    """An overload that keeps its base's forward (``Mm`` of ``Matmul``, ``SumDim`` of ``Sum``) runs the
    base's kernel too, unless a kernel was registered for it."""
    from .primitive import kernel_floor
    for sub in prim.__subclasses__():
        if "forward" not in sub.__dict__ and device_type not in sub.kernels:
            sub.kernels[device_type] = fn
            sub.kernels_from_numel = kernel_floor(sub.kernels)
            _share_kernel(sub, device_type, fn)


# -- modules imported on first use ------------------------------------------------------------------

@dataclass
class _Plan:
    """How a plugin that declares :class:`Families` is loaded this time."""

    declared: tuple  # its Families
    cached: dict | None  # its manifest (module -> record), None: import every module now
    key: dict | None  # what a manifest written after this load is valid for (None: none is written)
    package_dir: str = ""


class _Family:
    """One module of a plugin's :class:`Families`: whether it is imported, what it registered."""

    def __init__(self, info: PluginInfo, declared: Families, module: str, record: dict | None = None):
        self.info, self.declared, self.module, self.record = info, declared, module, record
        self.state = "pending"  # pending | loading | loaded | failed | removed
        self.error = ""
        self.added: list[str] = []  # the names it registered (a manifest's "names")
        self.placeholders: list[tuple[str, str]] = []  # (namespace key, attribute) bound as placeholders
        self.primitives: list[str] = []  # primitive classes it holds (a manifest's "primitives")

    def load(self) -> None:
        """Import the module, register it and bind its names (once; a no-op after)."""
        if self.state != "loaded":
            _load_family(self)

    def __repr__(self) -> str:
        return f"<module {self.module} of plugin {self.info.name!r}: {self.state}>"


_plans: dict[str, _Plan] = {}
_families: dict[str, list[_Family]] = {}  # plugin name -> its modules
_lazy_attrs: dict[tuple[str, str], LazyEntry] = {}  # (namespace key, attribute) -> the name it will be


def _plan_families(plugin, info: PluginInfo, raising: bool, whole: bool) -> bool:
    """Read ``plugin``'s :class:`Families`, and its manifest unless it loads ``whole``; False (the plugin
    failed) when the declaration is malformed."""
    declared = getattr(plugin, "ember_families", None) if isinstance(plugin, ModuleType) else None
    if declared is None:
        return True
    declared = tuple(declared) if isinstance(declared, list) or (isinstance(declared, tuple) and not
                                                                    isinstance(declared, Families)) else (declared,)
    if declared and isinstance(declared[0], str):  # one (kind, modules, register) triple
        declared = (declared,)
    declared = tuple(Families(*d) if isinstance(d, tuple) and len(d) == 3 else d for d in declared)
    bad = [d for d in declared if not isinstance(d, Families) or d.kind not in _LAZY_KINDS
           or not callable(d.register) or isinstance(d.modules, str)]
    if bad:
        _rollback(info)
        _fail(info, f"invalid plugin: ember_families must hold ember.plugins.Families declarations of kind "
                    f"{_LAZY_KINDS} with a tuple of module names and a register function, got {bad[0]!r}",
              raising=raising)
        return False
    package_dir = os.path.dirname(plugin.__file__) if getattr(plugin, "__path__", None) else ""
    cache_key = cached = None
    if package_dir and info.dist is not None:
        cache_key = manifest.key(package_dir, getattr(sys.modules["ember"], "__version__", ""))
        if not whole:
            cached = manifest.read(info.name, package_dir, cache_key)
    _plans[info.name] = _Plan(declared, cached, cache_key, package_dir)
    return True


def _declared(plugin_name: str, kind: str) -> Families | None:
    plan = _plans.get(plugin_name)
    return next((d for d in plan.declared if d.kind == kind), None) if plan is not None else None


def _register_families(info: PluginInfo, declared: Families, raising: bool) -> None:
    """Register each of ``declared``'s modules: from the manifest as placeholders, else by importing it."""
    registry = _registries[declared.kind]
    cached = _plans[info.name].cached
    for module in declared.modules:
        record = cached.get(module) if cached is not None else None
        family = _Family(info, declared, module, record if record and record.get("kind") == declared.kind else None)
        _families.setdefault(info.name, []).append(family)
        if family.record is not None and _promise(family, registry):
            info.registered.setdefault(declared.kind, []).extend(family.record["names"])
            continue
        family.record = None
        if not _import_family(family, raising):
            return


def _promise(family: _Family, registry) -> bool:
    """Put a placeholder for each name of ``family``'s manifest; False (none left) where a name is taken
    already: the module is then imported, and its registration meets the other name as usual."""
    overrides = set(family.record.get("overrides", ()))
    placed = []
    for name in family.record["names"]:
        if not registry.add_pending(LazyEntry(name, family.info.name, family.load, name in overrides)):
            for done in placed:
                del registry.entries[done]
            return False
        placed.append(name)
    return True


def _import_family(family: _Family, raising: bool) -> bool:
    """Import ``family``'s module and register it; on failure the whole plugin is rolled back and failed."""
    info, registry = family.info, _registries[family.declared.kind]
    family.state = "loading"
    known = _primitive_names() if family.record is None else None  # a whole load lists what it brings
    registrar = Registrar(registry, info.name)
    snapshot = _snapshot()
    with _InterruptWatch() as interrupts:
        try:
            family.declared.register(importlib.import_module(family.module), registrar)
        except BaseException as exc:  # a broken plugin must not break import ember, whatever it raises
            interrupts.reraise_if_real(exc)
            _undo_side_effects(snapshot)
            family.state = "failed"
            _rollback(info)
            _fail(info, f"module {family.module} failed: {type(exc).__name__}: {exc}", exc, raising=raising)
            return False
    if _undo_side_effects(snapshot, info, f"when its module {family.module} registered", raising):
        family.state = "failed"
        return False
    family.state, family.added = "loaded", registrar.added
    if family.record is None:
        info.registered.setdefault(family.declared.kind, []).extend(registrar.added)
        family.primitives = _primitives_of(sys.modules.get(family.module), known)
    return True


def _primitive_names() -> set:
    from .primitive import Primitive
    names, stack = set(), [Primitive]
    while stack:
        for sub in stack.pop().__subclasses__():
            names.add(sub.name)
            stack.append(sub)
    return names


def _primitives_of(module, known: set) -> list[str]:
    """The primitives a module brought (made while it was imported) or holds: a manifest lists them, so
    that a kernel for one of them waits for the module instead of being an unknown primitive's."""
    from .primitive import Primitive
    held = {value.name for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Primitive) and value is not Primitive} \
        if module is not None else set()
    return sorted(held | (_primitive_names() - known))


def _load_family(family: _Family) -> None:
    """First use of one of ``family``'s names: import it, register it, bind what it registered in place of
    its placeholders. A module that fails is its plugin's failure, raised as :class:`PluginError`."""
    from .optim.lr_scheduler import LRScheduler
    from .primitive import Primitive

    with _lock:
        if family.state == "loaded":
            return
        info = family.info
        if family.state != "pending":
            why = "is being imported" if family.state == "loading" else f"failed: {family.error or info.error}"
            raise PluginError(f"plugin {info.name!r}: a name of its module {family.module} was used, but the "
                              f"module {why}")
        _drop_placeholders(family)
        if not _import_family(family, raising=False):
            family.error = info.error
            bind(raising=False)  # the plugin's other names go too
            raise PluginError(f"ember plugin {info.name!r}{_dist_text(info)} failed: {info.error}")
        registry = _registries[family.declared.kind]
        promised = [name for name in family.record["names"]
                    if isinstance(registry.entries.get(name), LazyEntry) and registry.entries[name].owner == info.name
                    and not registry.entries[name].loaded]
        for name in promised:  # the manifest promised a name the module no longer registers
            del registry.entries[name]
        if promised or set(family.added) - set(family.record["names"]):
            plan = _plans.get(info.name)
            if plan is not None and plan.package_dir:
                manifest.discard(info.name, plan.package_dir)
        if _binding:
            return  # bind() is running: it binds what was just registered
        spaces = _namespaces()
        try:
            for name in family.added:
                entry = registry.entries.get(name)
                if entry is not None and entry.owner == info.name:
                    _bind_entry(family.declared.kind, entry, spaces, LRScheduler)
            _bind_kernels(Primitive)
        except _BindError as exc:
            _rollback(info)
            bind(raising=False)
            _fail(info, str(exc), raising=True)


def _bind_placeholder(entry: LazyEntry, spaces) -> None:
    """Bind a name whose module is not imported yet where its manifest says: a stub on ``Tensor`` (the
    operators need one), a module ``__getattr__`` entry elsewhere."""
    family = entry.load.__self__
    for key, attr in family.record["binds"].get(entry.name, ()):
        namespace = spaces[key]
        # the namespace's own names and placeholders (a module's lazy exports were checked when the
        # manifest was made: ember's __init__ is part of its key)
        if attr in namespace.__dict__ or (key, attr) in _lazy_attrs:
            raise _BindError(entry.owner, f"plugin {entry.owner!r} registered {attr!r}, which would replace "
                                          f"ember's own {getattr(namespace, '__name__', namespace)}.{attr}; "
                                          f"choose another name")
        family.placeholders.append((key, attr))
        if key == "Tensor":
            stub = _tensor_stub(namespace, attr, entry)
            _bound.append((namespace, attr, _MISSING))
            _owned[(id(namespace), attr)] = stub
            setattr(namespace, attr, stub)
        else:
            _lazy_attrs[(key, attr)] = entry


def _drop_placeholders(family: _Family) -> None:
    tensor = _namespaces()["Tensor"]
    stubs = set()
    for key, attr in family.placeholders:
        if key != "Tensor":
            _lazy_attrs.pop((key, attr), None)
        elif getattr(tensor.__dict__.get(attr), "_ember_placeholder", None) is not None:
            stubs.add(attr)
            delattr(tensor, attr)
            _owned[(id(tensor), attr)] = _REMOVED
    family.placeholders.clear()
    if stubs:
        _bound[:] = [b for b in _bound if not (b[0] is tensor and b[1] in stubs)]


def _tensor_stub(tensor_cls, attr: str, entry: LazyEntry):
    def placeholder(self, *args, **kwargs):
        entry.load()
        method = tensor_cls.__dict__.get(attr)
        if method is None or getattr(method, "_ember_placeholder", None) is entry:
            raise PluginError(f"plugin {entry.owner!r}: Tensor.{attr} was promised by its manifest but not bound")
        return getattr(self, attr)(*args, **kwargs)
    placeholder.__name__ = placeholder.__qualname__ = attr
    placeholder.__doc__ = (f"``{entry.name}`` of plugin {entry.owner!r}: its module is imported on first use, "
                           f"then this name is the op itself.")
    placeholder._ember_placeholder = entry
    return placeholder


def _install_lookups(spaces) -> None:
    """A module ``__getattr__``/``__dir__`` on each namespace that finds the names of modules not imported
    yet (PEP 562): the first access imports the module, later ones find the real name in the module."""
    for key, space in spaces.items():
        if isinstance(space, type) or getattr(vars(space).get("__getattr__"), "_ember_lookup", False):
            continue
        space.__getattr__ = _lookup(key, space, vars(space).get("__getattr__"))
        space.__dir__ = _listing(key, space, vars(space).get("__dir__"))


def _lookup(key, space, previous):
    def __getattr__(name):
        entry = _lazy_attrs.get((key, name))
        if entry is not None:
            entry.load()
            value = vars(space).get(name, _MISSING)
            if value is not _MISSING:
                return value
        if previous is not None:
            return previous(name)
        raise AttributeError(f"module {space.__name__!r} has no attribute {name!r}")
    __getattr__._ember_lookup = True
    return __getattr__


def _listing(key, space, previous):
    def __dir__():
        names = set(previous() if previous is not None else vars(space))
        return sorted(names | {attr for k, attr in _lazy_attrs if k == key})
    return __dir__


def _pending(kind: str | None = None) -> list[_Family]:
    return [family for families in _families.values() for family in families
            if family.state == "pending" and (kind is None or family.declared.kind == kind)]


def load_all() -> None:
    """Import every plugin module still waiting for first use (``ember.autocast`` and the profiler wrap
    every bound op, so they need them all)."""
    with _lock:
        for family in _pending():
            family.load()


def _write_manifests(infos) -> None:
    """After a whole load, write down each module's names for the next ``import ember``."""
    from .optim.lr_scheduler import LRScheduler
    for info in infos:
        plan = _plans.get(info.name)
        if plan is None or plan.cached is not None or plan.key is None or info.status != "loaded" or info.error:
            continue
        modules = {}
        for family in _families.get(info.name, ()):
            registry = _registries[family.declared.kind]
            entries = [registry.entries.get(name) for name in family.added]
            if family.state != "loaded" or any(e is None or e.owner != info.name for e in entries):
                break  # overridden by another plugin, or not loaded: no manifest this time
            if family.declared.kind == "ops":
                binds = {e.name: [[key, attr] for key, attr, _ in _op_bindings(e.obj)] for e in entries}
            else:
                binds = {e.name: [list(b) for b in _class_bindings(family.declared.kind, e.name, e.obj, LRScheduler)]
                         for e in entries}
            modules[family.module] = {"kind": family.declared.kind, "names": list(family.added),
                                      "overrides": [e.name for e in entries if e.override], "binds": binds,
                                      "primitives": family.primitives}
        else:
            manifest.write(info.name, plan.package_dir, plan.key, modules)
