"""Helpers of the distributed tests: start ``mpirun --oversubscribe -n N`` jobs and read their worker's checks.

A worker script runs many checks in one job (starting MPI costs seconds) and prints one
``CHECK <rank> <name> PASS|FAIL <detail>`` line per check and rank; each test asserts one check.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

WORKERS = Path(__file__).resolve().parent / "workers"
ROOT = Path(__file__).resolve().parents[2]


def missing_mpi() -> str | None:
    if shutil.which("mpirun") is None:
        return "mpirun not found: apt-get install openmpi-bin libopenmpi-dev"
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed: pip install 'ember[distributed]'"
    return None


def mpi_env(extra=None) -> dict:
    env = dict(os.environ)
    env.update({"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                "OMPI_MCA_rmaps_base_oversubscribe": "1", "PYTHONUNBUFFERED": "1",
                # waiting ranks yield the core: CI machines have few cores, shared with other jobs
                "OMPI_MCA_mpi_yield_when_idle": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    env.update(extra or {})
    return env


def mpirun_command(args, n: int) -> list[str]:
    return ["mpirun", "--oversubscribe", "-n", str(n), *map(str, args)]


def run_mpi(args, n=2, timeout=60, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(mpirun_command(args, n), capture_output=True, text=True, timeout=timeout,
                          env=mpi_env(env), cwd=ROOT)


def run_worker(mpirun, name: str, n: int, timeout: int = 90, env=None) -> dict:
    """{check name: {rank: (status, detail)}} from one job of ``workers/<name>.py``."""
    with tempfile.TemporaryDirectory() as folder:
        done = mpirun([sys.executable, WORKERS / f"{name}.py"], n=n, timeout=timeout,
                      env={**(env or {}), "EMBER_CHECK_DIR": folder})
        lines = [line for path in sorted(Path(folder).glob("rank*.txt")) for line in path.read_text().splitlines()]
    results = {}
    for line in lines:
        if line.startswith("CHECK "):
            _, rank, check, status, *detail = line.split(" ", 4)
            results.setdefault(check, {})[int(rank)] = (status, detail[0] if detail else "")
    if done.returncode != 0 or not results:
        raise AssertionError(f"worker {name} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n"
                             f"{done.stderr[-3000:]}")
    return results


def assert_check(results: dict, check: str, n: int) -> None:
    assert check in results, f"check {check!r} did not run; ran: {sorted(results)}"
    by_rank = results[check]
    assert sorted(by_rank) == list(range(n)), f"{check}: ranks that reported: {sorted(by_rank)}"
    failures = {rank: detail for rank, (status, detail) in by_rank.items() if status != "PASS"}
    assert not failures, f"{check} failed: {failures}"
