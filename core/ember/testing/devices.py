"""Which devices the conformance kit runs on: every registered device that is available here, or the
ones a test session selected (``pytest --ember-device=cpu,ref``)."""

from __future__ import annotations

_selected: list[str] | None = None  # set by the pytest plugin's --ember-device


def registered_devices() -> list[str]:
    """Every registered device type, the CPU first."""
    from ..plugins import registries
    return sorted(registries["devices"], key=lambda name: (name != "cpu", name))


def is_available(name: str) -> bool:
    from ..plugins import registries
    backend = registries["devices"].get(name.partition(":")[0])
    return backend is not None and backend.is_available()


def unavailable_reason(name: str) -> str | None:
    """None if device ``name`` can be used here, else why not (what the device plugin says)."""
    from ..plugins import registries
    backend = registries["devices"].get(name.partition(":")[0])
    if backend is None:
        return f"no plugin registered a device {name!r}"
    return backend.unavailable_reason()


def available_devices() -> list[str]:
    """The device types the kit checks by default: registered, available, and selected if a selection
    was made."""
    names = [n for n in registered_devices() if is_available(n)]
    if _selected is not None:
        names = [n for n in names if n in _selected]
    return names


def select(names) -> None:
    """Restrict :func:`available_devices` to ``names`` (None lifts the restriction)."""
    global _selected
    _selected = None if names is None else [str(n) for n in names]


def resolve_devices(devices) -> list[str]:
    """A ``devices=`` argument of the kit: None for all available, a name, or a list of names."""
    if devices is None:
        return available_devices()
    if isinstance(devices, str) or not hasattr(devices, "__iter__"):
        return [str(devices)]
    return [str(d) for d in devices]
