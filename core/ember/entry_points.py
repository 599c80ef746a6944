"""Finding the ``ember.plugins`` entry points at ``import ember``, without importlib.metadata's cost.

``importlib_metadata.entry_points(group=...)`` builds a Distribution for every installed package and
parses every ``entry_points.txt`` on ``sys.path``: a sixth of ``import ember`` in a typical environment,
for a handful of plugins. This scan finds the same entry points, in the same order, with the same
first-on-``sys.path``-wins rule per distribution (names compared as importlib.metadata normalises them):
it lists each ``sys.path`` directory once, reads an ``entry_points.txt`` only to look for the group, and
parses only the files that name it. Distribution metadata (name, version) is read when ``ember plugins``
asks for it. Where that layout does not hold (a zip or egg on ``sys.path``, a custom meta-path finder
that provides distributions), it returns None and the caller asks importlib.metadata instead.
"""

from __future__ import annotations

import importlib
import os
import re
import sys

__all__ = ["EntryPoint", "find"]

# importlib.metadata's entry-point value: "module.path:attr.path [extras]"
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")


def normalize(name: str) -> str:
    """A distribution name as importlib.metadata compares them (PEP 503, with underscores)."""
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


class Distribution:
    """The distribution an entry point came from; its metadata is parsed on first use."""

    def __init__(self, path: str, normalized_name: str):
        self.path = path
        self._normalized_name = normalized_name
        self._metadata = None

    def _dist(self):
        if self._metadata is None:
            import pathlib

            from importlib_metadata import PathDistribution
            self._metadata = PathDistribution(pathlib.Path(self.path))
        return self._metadata

    @property
    def name(self) -> str:
        return self._dist().name

    @property
    def version(self) -> str:
        return self._dist().version

    def __repr__(self) -> str:
        return f"<Distribution {self.path}>"


class EntryPoint:
    """One entry point: ``name = value`` of ``group`` in ``dist``'s ``entry_points.txt``."""

    __slots__ = ("name", "value", "group", "dist")

    def __init__(self, name: str, value: str, group: str, dist: Distribution):
        self.name, self.value, self.group, self.dist = name, value, group, dist

    def load(self):
        """The object the value names: its module imported, then its attribute path followed."""
        match = _VALUE.match(self.value)
        if match is None:
            raise ValueError(f"entry point {self.name!r}: cannot parse {self.value!r} as 'module:attribute'")
        obj = importlib.import_module(match["module"])
        for attr in filter(None, (match["attr"] or "").split(".")):
            obj = getattr(obj, attr)
        return obj

    def __repr__(self) -> str:
        return f"EntryPoint(name={self.name!r}, value={self.value!r}, group={self.group!r})"


def _standard_finders_only() -> bool:
    """Whether every meta-path finder that can provide distributions is the path-based one (the standard
    PathFinder, or importlib_metadata's MetadataPathFinder which searches the same directories)."""
    from importlib.machinery import PathFinder
    for finder in sys.meta_path:
        if finder is PathFinder or not hasattr(finder, "find_distributions"):
            continue
        if (getattr(finder, "__module__", "") or type(finder).__module__).startswith("importlib_metadata"):
            continue
        return False
    return True


def _section(text: str, group: str):
    """(name, value) pairs of ``[group]`` in an ``entry_points.txt``, as importlib.metadata reads them."""
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
        elif current == group and "=" in line:
            name, _, value = line.partition("=")
            yield name.strip(), value.strip()


def find(group: str) -> list[EntryPoint] | None:
    """Every entry point of ``group``, in importlib.metadata's order; None where the fast scan cannot
    stand in for importlib.metadata (the caller then uses it)."""
    if not _standard_finders_only():
        return None
    seen = set()
    found = []
    for entry in sys.path:
        directory = entry or "."
        try:
            children = os.listdir(directory)
        except OSError:
            if os.path.isfile(directory):  # a zip or an egg file: importlib.metadata reads inside those
                return None
            continue
        for child in children:
            low = child.lower()
            if low.endswith(".egg"):
                return None  # an unpacked egg keeps its metadata in EGG-INFO: not this scan's layout
            if not low.endswith((".dist-info", ".egg-info")):
                continue
            normalized = normalize(low.rpartition(".")[0].partition("-")[0])
            if normalized in seen:
                continue  # the first distribution of a name on sys.path wins, as in importlib.metadata
            seen.add(normalized)
            path = os.path.join(directory, child)
            try:
                with open(os.path.join(path, "entry_points.txt"), encoding="utf-8") as handle:
                    text = handle.read()
            except OSError:
                continue
            if group not in text:
                continue
            dist = Distribution(path, normalized)
            found += [EntryPoint(name, value, group, dist) for name, value in _section(text, group)]
    return found
