"""Distributed tests start real MPI jobs: ``mpirun --oversubscribe -n N`` subprocesses, each with a timeout.

Without ``mpirun`` or mpi4py they skip, naming what is missing; ``EMBER_REQUIRE_MPI=1`` (set by ``.ci/run``)
turns that into a failure.
"""

import os

import pytest
from mpi_jobs import missing_mpi, run_mpi


@pytest.fixture(scope="session")
def mpirun():
    """``mpirun(args, n=2, timeout=60, env=None)`` -> CompletedProcess; skips (or fails under
    EMBER_REQUIRE_MPI=1) where MPI is missing."""
    reason = missing_mpi()
    if reason:
        if os.environ.get("EMBER_REQUIRE_MPI") == "1":
            pytest.fail(f"EMBER_REQUIRE_MPI=1, but {reason}")
        pytest.skip(reason)
    return run_mpi
