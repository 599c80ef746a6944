"""A rank that raises or dies ends the whole MPI job within seconds with an error naming it: never a hang."""

import re
import sys
import time

import pytest
from mpi_jobs import WORKERS

DEADLINE = 45  # seconds: far above the few the job takes, far below a hang


def run_failing(mpirun, mode, env=None):
    start = time.monotonic()
    done = mpirun([sys.executable, WORKERS / "failing.py", mode], n=2, timeout=DEADLINE, env=env)
    return done, time.monotonic() - start


def test_a_rank_that_raises_aborts_the_job_naming_the_rank(mpirun):
    done, _ = run_failing(mpirun, "raise")
    assert done.returncode != 0
    assert "ember.distributed: rank 1 of 2 failed: ValueError: rank 1 cannot go on: bad batch" in done.stderr
    assert "finished" not in done.stdout


@pytest.mark.parametrize("mode, says", [("exit", "Exit code:    3"), ("kill", "rank 1 with PID")])
def test_a_rank_that_dies_ends_the_job(mpirun, mode, says):
    done, _ = run_failing(mpirun, mode)
    assert done.returncode != 0
    assert says in done.stderr, done.stderr[-2000:]
    assert "finished" not in done.stdout


def test_mismatched_collectives_in_debug_mode_end_the_job_naming_op_and_ranks(mpirun):
    done, _ = run_failing(mpirun, "mismatch", env={"EMBER_DISTRIBUTED_DEBUG": "1"})
    assert done.returncode != 0
    assert "CollectiveMismatchError" in done.stderr
    assert "rank 0 called all_reduce(shape=[3]" in done.stderr and "rank 1 called broadcast(shape=[3]" in done.stderr


def test_ember_train_distributed_fails_on_every_rank_without_hanging(mpirun):
    done = mpirun([sys.executable, "-m", "ember.cli", "train", "--distributed", "--lr", "-1"], n=2, timeout=DEADLINE)
    assert done.returncode != 0
    # every rank refuses the option; whichever reaches MPI_Abort first names itself (rank 1 under load)
    assert re.search(r"rank [01] of 2 failed: ember train: error: --lr must be positive", done.stderr), \
        done.stderr[-2000:]
