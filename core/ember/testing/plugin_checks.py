"""``check_plugin``: everything one plugin registered, checked with the kit in one call, so that a
plugin's whole test suite can be ``def test_plugin(): check_plugin("swish")``."""

from __future__ import annotations

from .oracle import reports_missing_oracle


def _info(plugin_name):
    from ..plugins import report
    infos = {i.name: i for i in report()}
    info = infos.get(plugin_name)
    if info is None:
        raise AssertionError(f"check_plugin: no plugin named {plugin_name!r} is known; known: {sorted(infos)} "
                             f"(is the distribution installed, with an 'ember.plugins' entry point?)")
    if info.status != "loaded":
        raise AssertionError(f"check_plugin: plugin {plugin_name!r} is {info.status}"
                             + (f": {info.error}" if info.error else ""))
    return info


def plugin_items(plugin_name) -> list[tuple[str, str]]:
    """(kind, name) for everything the plugin registered, kinds in ember's hook order."""
    info = _info(plugin_name)
    return [(kind, name) for kind in ("devices", "ops", "layers", "optimizers")
            for name in info.registered.get(kind, [])]


def check_item(kind: str, name: str, devices=None) -> int:
    """Run the kit's check for one registered thing (``("ops", "swish")``); returns what it checked."""
    from .conformance import check_op
    from .device_checks import check_device
    from .devices import is_available
    from .layer_checks import check_layer
    from .optimizer_checks import check_optimizer
    if kind == "devices":
        return check_device(name) if is_available(name) else 0
    check = {"ops": check_op, "layers": check_layer, "optimizers": check_optimizer}[kind]
    return check(name, devices=devices)


@reports_missing_oracle
def check_plugin(plugin_name: str, devices=None) -> dict:
    """Check every op, layer, optimizer and device that ``plugin_name`` registered, on every available
    device; raises one AssertionError listing every failure. Returns {kind: number of names checked}.
    Comparisons with PyTorch that could not run (torch not installed) are reported once, at the end: a
    skip with the list under pytest, a warning elsewhere (see :mod:`ember.testing.oracle`)."""
    failures = []
    counts: dict = {}
    items = plugin_items(plugin_name)
    if not items:
        raise AssertionError(f"check_plugin: plugin {plugin_name!r} registered nothing")
    for kind, name in items:
        try:
            check_item(kind, name, devices)
        except AssertionError as exc:
            failures.append(f"{kind[:-1]} {name!r}: {exc}")
        except Exception as exc:
            failures.append(f"{kind[:-1]} {name!r}: {type(exc).__name__}: {exc}")
        else:
            counts[kind] = counts.get(kind, 0) + 1
    if failures:
        nested = [f.replace("\n", "\n    ") for f in failures]  # a check's own list, indented under it
        raise AssertionError(f"plugin {plugin_name!r}: {len(failures)} of {len(items)} checks failed:\n  - "
                             + "\n  - ".join(nested))
    return counts
