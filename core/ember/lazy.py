"""Names a package exports but imports only on first use, so that ``import ember`` stays fast.

One helper for every lazy export table (``ember``, ``ember.distributed``, ``ember.nn.parallel``): the
package lists each public name and where it lives, and gets a module ``__getattr__`` (PEP 562) that
imports that module on first access and caches the value in the package, so the next access is a plain
global lookup.
"""

from __future__ import annotations

import sys
from importlib import import_module

__all__ = ["lazy_exports"]


def lazy_exports(package: str, attributes: dict | None = None, modules: dict | None = None, hint: str = ""):
    """``(__getattr__, __dir__)`` for ``package``.

    - ``attributes``: public name -> the module holding a value of that name (absolute, or relative to
      ``package`` when it starts with a dot);
    - ``modules``: public name -> a module that is itself the value (``ember.utils``);
    - ``hint``: appended to the AttributeError for any other name.
    """
    attributes, modules = dict(attributes or {}), dict(modules or {})

    def absolute(name: str) -> str:
        return package + name if name.startswith(".") else name

    def __getattr__(name):
        if name in modules:
            value = import_module(absolute(modules[name]))
        elif name in attributes:
            value = getattr(import_module(absolute(attributes[name])), name)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}{hint}")
        vars(sys.modules[package])[name] = value
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(attributes) | set(modules))

    return __getattr__, __dir__
