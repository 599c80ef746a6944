"""Name manifests: what each module of a lazily loaded plugin registers, cached between runs.

A plugin that splits its registrations into modules (:class:`ember.plugins.Families`) is loaded whole
the first time; ember then writes down, per module, the names it registered and where each name is bound
(``ember.relu``, ``Tensor.relu``, ...). The next ``import ember`` reads that instead of importing the
modules, binds placeholders, and imports a module when one of its names is first used.

A manifest is valid only for the exact files it was made from: its key holds the size and modification
time of every ``.py`` file of the plugin's package and of the core modules that decide how names are
bound, and ember's version. Any edit, upgrade or reinstall changes the key, and the plugin is loaded whole
again (which writes a new manifest). Manifests live in ``$EMBER_CACHE_DIR``, else
``$XDG_CACHE_HOME/ember``, else ``~/.cache/ember``; where that cannot be written, plugins load whole.
"""

from __future__ import annotations

import json
import os
import zlib

__all__ = ["cache_dir", "key", "read", "write", "discard"]

FORMAT = 1
# Core modules whose code decides which names a declaration binds where (Op's defaults, the binder, the
# names ember keeps for itself).
_CORE_FILES = ("__init__.py", "ops.py", "plugins.py", "registry.py", "manifest.py")


def cache_dir() -> str:
    """Where manifests are kept (see the module docstring); "" where there is no such place (no home
    directory: manifests are then neither read nor written)."""
    explicit = os.environ.get("EMBER_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = os.path.expanduser("~")
        if home.startswith("~"):
            return ""
        base = os.path.join(home, ".cache")
    return os.path.join(base, "ember")


def _path(plugin: str, package_dir: str) -> str:
    directory = cache_dir()
    if not directory:
        return ""
    digest = zlib.crc32(package_dir.encode("utf-8", "surrogatepass"))  # zlib: hashlib costs a ms to import
    return os.path.join(directory, f"plugin-{plugin}-{digest:08x}.json")


def _file_stats(directory: str) -> list:
    """[name, size, mtime_ns] of every ``.py`` file under ``directory`` (sub-packages included)."""
    stats = []
    stack = [directory]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as entries:
                for item in entries:
                    if item.name.endswith(".py") and item.is_file():
                        st = item.stat()
                        stats.append([os.path.relpath(item.path, directory), st.st_size, st.st_mtime_ns])
                    elif item.is_dir() and item.name != "__pycache__" and not item.name.startswith("."):
                        stack.append(item.path)
        except OSError:
            continue
    return sorted(stats)


def key(package_dir: str, version: str) -> dict:
    """What a manifest of the plugin in ``package_dir`` is valid for (see the module docstring)."""
    core_dir = os.path.dirname(os.path.abspath(__file__))
    core = []
    for name in _CORE_FILES:
        try:
            st = os.stat(os.path.join(core_dir, name))
        except OSError:
            continue
        core.append([name, st.st_size, st.st_mtime_ns])
    return {"format": FORMAT, "ember": version, "package": package_dir, "files": _file_stats(package_dir),
            "core": core}


def read(plugin: str, package_dir: str, expected_key: dict) -> dict | None:
    """The cached manifest ``{module: {"kind", "names", "overrides", "binds"}}`` of ``plugin``, or None when
    there is none or it was made from other files."""
    path = _path(plugin, package_dir)
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            cached = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(cached, dict) or cached.get("key") != expected_key:
        return None
    modules = cached.get("modules")
    return modules if isinstance(modules, dict) else None


def write(plugin: str, package_dir: str, cache_key: dict, modules: dict) -> None:
    """Store ``plugin``'s manifest; silently nothing where the cache cannot be written (the plugin then
    keeps loading whole)."""
    path = _path(plugin, package_dir)
    if not path:
        return
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump({"key": cache_key, "modules": modules}, handle, separators=(",", ":"))
        os.replace(temporary, path)  # atomic: processes importing ember at once never read half a file
    except OSError:
        try:
            os.remove(temporary)
        except OSError:
            pass


def discard(plugin: str, package_dir: str) -> None:
    """Remove ``plugin``'s manifest (it promised a name its module no longer registers)."""
    path = _path(plugin, package_dir)
    if path:
        try:
            os.remove(path)
        except OSError:
            pass
