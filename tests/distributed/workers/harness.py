"""Runs a worker's checks on every rank and writes one ``CHECK <rank> <name> PASS|FAIL <detail>`` line each
to ``$EMBER_CHECK_DIR/rank<rank>.txt`` (mpirun interleaves the ranks' stdout, even within lines).

A check is a function ``check_<name>(rank, world)``; it fails by raising. Every rank runs every check, in
file order, so collectives inside checks line up across ranks.
"""

import os
import traceback


def run_checks(namespace: dict, rank: int) -> None:
    world = None
    out = open(os.path.join(os.environ["EMBER_CHECK_DIR"], f"rank{rank}.txt"), "w")
    for name, fn in list(namespace.items()):
        if not (name.startswith("check_") and callable(fn)):
            continue
        try:
            fn(rank, world)
            status, detail = "PASS", ""
        except Exception as exc:  # report, and keep going: the other checks still say something
            status = "FAIL"
            detail = f"{type(exc).__name__}: {exc} | " + traceback.format_exc().replace("\n", " / ")[-800:]
        out.write(f"CHECK {rank} {name[len('check_'):]} {status} {detail}".rstrip() + "\n")
        out.flush()
    out.close()
