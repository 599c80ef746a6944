"""`mpirun -n 2 ember train --distributed` and the DDP example script report, epoch by epoch, the losses of
one process training with the doubled batch (to float32 rounding); PyTorch's DDP tutorial run with
`import ember as torch` reports PyTorch's losses."""

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


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_pytorch_ddp_tutorial_gives_pytorchs_losses_and_state_dict_keys(mpirun, torch):
    script = ROOT / "tests" / "distributed" / "workers" / "pytorch_ddp_tutorial.py"
    ours = mpirun([sys.executable, script, "ember"], n=2, timeout=120)
    theirs = mpirun([sys.executable, script, "torch"], n=2, timeout=180, env={"MASTER_PORT": str(_free_port())})
    assert ours.returncode == 0 and theirs.returncode == 0, ours.stderr[-2000:] + theirs.stderr[-2000:]
    ours_rows = [line.split(" ", 2) for line in ours.stdout.splitlines()]
    theirs_rows = [line.split(" ", 2) for line in theirs.stdout.splitlines()]
    assert len(ours_rows) == len(theirs_rows) == 3
    for (epoch, loss, keys), (t_epoch, t_loss, t_keys) in zip(ours_rows, theirs_rows):
        assert (epoch, keys) == (t_epoch, t_keys)
        assert float(loss) == pytest.approx(float(t_loss), rel=1e-5)
