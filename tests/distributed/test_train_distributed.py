"""`mpirun -n 2 ember train --distributed` and the DDP example script report, epoch by epoch, the losses of
one process training with the doubled batch (to float32 rounding)."""

import json
import re
import sys

import pytest
from mpi_jobs import ROOT

EXAMPLE = ROOT / "examples" / "distributed_seed_mlp.py"


def test_ember_train_distributed_matches_one_process_with_the_doubled_batch(mpirun):
    from ember.train import TrainConfig, run_training
    done = mpirun([sys.executable, "-m", "ember.cli", "train", "--distributed", "--json", "--epochs", "2",
                   "--batch-size", "32"], n=2, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    distributed = json.loads(done.stdout)["history"]
    single = run_training(TrainConfig(epochs=2, batch_size=64)).history
    assert [h["epoch"] for h in distributed] == [1, 2]
    for ours, reference in zip(distributed, single):
        assert ours["train_loss"] == pytest.approx(reference.train_loss, rel=1e-5)
        assert ours["test_loss"] == pytest.approx(reference.test_loss, rel=1e-5)
        assert ours["train_accuracy"] == reference.train_accuracy
        assert ours["test_accuracy"] == reference.test_accuracy


def _losses(stdout):
    return [float(x) for x in re.findall(r"^epoch \d+ loss (\S+)$", stdout, flags=re.M)]


def test_ddp_example_script_matches_one_process_with_the_doubled_batch(mpirun):
    two = mpirun([sys.executable, EXAMPLE, "--batch-size", "32", "--epochs", "2"], n=2, timeout=120)
    one = mpirun([sys.executable, EXAMPLE, "--batch-size", "64", "--epochs", "2"], n=1, timeout=120)
    assert two.returncode == 0 and one.returncode == 0, two.stderr[-2000:] + one.stderr[-2000:]
    assert len(_losses(two.stdout)) == 2
    assert _losses(two.stdout) == pytest.approx(_losses(one.stdout), rel=1e-5)
