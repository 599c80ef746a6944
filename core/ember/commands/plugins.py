"""``ember plugins``: every plugin with its distribution, version, status and what it registered."""

from __future__ import annotations

import json


def add_parser(subparsers):
    parser = subparsers.add_parser("plugins", help="list plugins, what each registered, and failures",
                                   description="List ember's plugins: distribution, version, status, registered names.")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--ops", action="store_true", help="list every op with how the conformance kit checks it")
    return parser


def run(args) -> int:
    import ember
    if args.ops:
        return _print_ops(args.json)
    infos = ember.plugins.report()
    overrides = ember.plugins.overrides()
    if args.json:
        print(json.dumps({"plugins": [_as_dict(i) for i in infos],
                          "overrides": [{"kind": k, "name": n, "winner": w, "replaced": r}
                                        for k, n, w, r in overrides],
                          "devices": [{"name": n, "available": r is None, "reason": r} for n, r in _devices()]},
                         indent=2))
        return 0
    rows = [("plugin", "distribution", "version", "status", "registered")]
    for info in infos:
        registered = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in info.registered.items())
        status = info.status if not info.error else f"{info.status}: {info.error}"
        rows.append((info.name, info.distribution or info.source, info.version or "-", status, registered or "-"))
    print(_table(rows))
    for name, reason in _devices():
        print(f"device {name}: {'available' if reason is None else 'unavailable: ' + reason}")
    for kind, name, winner, replaced in overrides:
        print(f"override: {kind} {name!r} from plugin {winner!r} replaces {', '.join(repr(r) for r in replaced)}")
    return 0


def _devices() -> list[tuple[str, str | None]]:
    """Each registered device type with None if it is usable here, else why not."""
    from ember.testing.devices import registered_devices, unavailable_reason
    return [(name, unavailable_reason(name)) for name in registered_devices()]


def _as_dict(info) -> dict:
    return {"name": info.name, "distribution": info.distribution, "version": info.version, "source": info.source,
            "status": info.status, "error": info.error, "registered": info.registered}


def _table(rows, max_width: int = 70) -> str:
    """Columns padded to their widest cell; the last column wraps at ``max_width``."""
    import textwrap
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for r in rows:
        head = "  ".join(str(c).ljust(w) for c, w in zip(r, widths))
        wrapped = textwrap.wrap(str(r[-1]), max_width) or [""]
        lines.append(f"{head}  {wrapped[0]}")
        lines.extend(" " * (len(head) + 2) + cont for cont in wrapped[1:])
    return "\n".join(lines)


def _print_ops(as_json: bool) -> int:
    from ember.testing import op_report
    rows = op_report()
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    table = [("op", "plugin", "kind", "declared at", "samples", "oracle", "checks")]
    for r in rows:
        checks = ", ".join(c for c, on in (("gradcheck", r["gradcheck"]), ("gradgradcheck", r["gradgradcheck"])) if on)
        kind = f"{r['kind']} ({r['primitive']})" if r["primitive"] else r["kind"]
        table.append((r["op"], r["plugin"], kind, r["declared_at"], str(r["samples"]), r["torch"] or "-",
                      checks or "forward only"))
    print(_table(table))
    return 0
