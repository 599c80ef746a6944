"""`ember train` on MNIST-style data found without flags, per-optimizer defaults, divergence, progress
output, up-front checks of output paths, resuming, and the CLI's help and error slips."""

import inspect
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.cli import main
from ember.datasets import locate
from ember.datasets.idx import write_idx
from ember.train import TrainConfig, TrainingDiverged
from ember.train.loop import DivergenceGuard


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _ember(*args, env=None):
    exe = shutil.which("ember", path=os.path.dirname(sys.executable))  # this environment's script
    command = [exe] if exe else [sys.executable, "-m", "ember.cli"]
    return subprocess.run(command + list(args), capture_output=True, text=True, timeout=300,
                          env=None if env is None else {**os.environ, **env})


def _one_line_error(code, out, err, command="train"):
    assert code == 2 and out == ""  # not even the run's header
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"ember {command}: error: "), err


def _write_mnist(folder, train=40, test=10, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for prefix, n in (("train", train), ("t10k", test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n, dtype=np.uint8))
    return folder


@pytest.fixture
def no_system_data(tmp_path, monkeypatch):
    """No $EMBER_DATA and an empty system data folder: nothing is found unless a test puts it there."""
    monkeypatch.delenv("EMBER_DATA", raising=False)
    monkeypatch.setattr(locate, "SYSTEM_DATA_DIR", str(tmp_path / "system"))
    return tmp_path


# --- finding the data ---------------------------------------------------------------------------------

def test_fashion_mnist_in_ember_data_is_found_without_root(no_system_data, monkeypatch, capsys):
    folder = _write_mnist(no_system_data / "data" / "fashion-mnist")
    monkeypatch.setenv("EMBER_DATA", str(no_system_data / "data"))
    code, out, err = _run(capsys, "train", "--data", "fashion-mnist", "--epochs", "1", "--json")
    summary = json.loads(out)
    assert code == 0, err
    assert summary["data_root"] == str(folder) and (summary["train_size"], summary["test_size"]) == (40, 10)
    assert summary["config"]["root"] is None  # found again when resumed, wherever the files are then


def test_the_system_package_folder_is_found_and_root_overrides_it(no_system_data, capsys):
    _write_mnist(no_system_data / "system" / "fashion-mnist", train=30)
    mine = _write_mnist(no_system_data / "mine", train=20)
    code, out, _ = _run(capsys, "train", "--data", "fashion-mnist", "--epochs", "0", "--json")
    assert code == 0 and json.loads(out)["train_size"] == 30
    code, out, _ = _run(capsys, "train", "--data", "fashion-mnist", "--root", str(mine), "--epochs", "0", "--json")
    assert code == 0 and json.loads(out)["train_size"] == 20


def test_missing_fashion_mnist_names_the_command_that_installs_it(no_system_data, capsys):
    with pytest.raises(ValueError, match="install it with `sudo apt-get install dataset-fashion-mnist`"):
        ember.datasets.FashionMNIST(no_system_data / "data", download=True)
    code, out, err = _run(capsys, "train", "--data", "fashion-mnist")
    _one_line_error(code, out, err)
    assert "apt-get install dataset-fashion-mnist" in err and "--root" in err
    assert os.path.join(str(no_system_data / "system"), "fashion-mnist") in err  # where it looked


def test_missing_mnist_says_where_to_put_the_files(no_system_data, capsys):
    code, out, err = _run(capsys, "train", "--data", "mnist")
    _one_line_error(code, out, err)
    assert "$EMBER_DATA/mnist" in err and "--root" in err


def test_root_pointing_at_a_file_says_it_is_a_file(tmp_path, capsys):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"")
    code, out, err = _run(capsys, "train", "--data", "mnist", "--root", str(tmp_path / "train-images-idx3-ubyte"))
    _one_line_error(code, out, err)
    assert "is a file, not a folder" in err


def test_evaluate_needs_only_the_test_files(tmp_path, capsys):
    data = _write_mnist(tmp_path / "mnist")
    checkpoint = str(tmp_path / "ck")
    assert _run(capsys, "train", "--data", "mnist", "--root", str(data), "--epochs", "1", "--json",
                "--save", checkpoint)[0] == 0
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (data / name).unlink()
    code, out, err = _run(capsys, "evaluate", checkpoint, "--json")
    assert code == 0, err
    assert json.loads(out)["test_size"] == 10


def test_download_true_uses_a_copy_already_on_the_machine_as_torchvision_code_expects(no_system_data):
    _write_mnist(no_system_data / "system" / "fashion-mnist", train=12, test=5)
    train = ember.datasets.FashionMNIST(no_system_data / "data", train=True, download=True)
    assert len(train) == 12 and train.root == os.path.join(str(no_system_data / "system"), "fashion-mnist")
    with pytest.raises(ValueError, match=r"does not download data sets; put the IDX files .* \$EMBER_DATA/mnist"):
        ember.datasets.MNIST(no_system_data / "data", download=True)
    mine = _write_mnist(no_system_data / "mine", train=7)
    assert len(ember.datasets.FashionMNIST(mine, download=True)) == 7  # files in root: used, as torchvision


def test_real_fashion_mnist_from_the_system_package_is_read_whole():
    folder = os.path.join(locate.SYSTEM_DATA_DIR, "fashion-mnist")
    if not ember.datasets.FashionMNIST.files_present(folder):
        pytest.skip(f"Fashion-MNIST is not installed in {folder} (apt-get install dataset-fashion-mnist)")
    train, test = (ember.datasets.FashionMNIST(folder, train=t) for t in (True, False))
    assert (tuple(train.data.shape), tuple(test.data.shape)) == ((60000, 28, 28), (10000, 28, 28))
    assert np.bincount(np.asarray(test.targets), minlength=10).tolist() == [1000] * 10


# --- defaults per optimizer, L-BFGS, divergence -------------------------------------------------------

@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam"])
def test_the_default_learning_rate_is_pytorchs_for_each_optimizer(torch, name):
    if name not in ember.plugins.registries["optimizers"]:
        pytest.skip(f"no optimizer {name} registered")
    expected = inspect.signature(getattr(torch.optim, name)).parameters["lr"].default
    config = TrainConfig(optimizer=name.lower())
    assert config.lr == pytest.approx(float(expected)) and config.momentum is None


def test_sgd_defaults_to_the_tutorial_recipe_and_given_values_win():
    assert (TrainConfig().lr, TrainConfig().momentum) == (0.01, 0.9)
    assert TrainConfig(optimizer="adam", lr=0.5).lr == 0.5


def test_lbfgs_trains_with_a_closure(capsys):
    code, out, err = _run(capsys, "train", "--optimizer", "lbfgs", "--epochs", "1", "--batch-size", "512",
                          "--json")
    assert code == 0, err
    assert json.loads(out)["test_accuracy"] > 0.5


def test_divergence_guard_stops_a_loss_that_grew_a_hundredfold_while_finite():
    guard = DivergenceGuard(num_classes=10, lr=1.0)
    for loss in (2.3, 2.0, 1.8):
        guard.update(loss, epoch=1, batch=1)
    with pytest.raises(TrainingDiverged, match=r"epoch 2, batch 7: the running loss is .* over 100x"):
        for _ in range(50):
            guard.update(1e4, epoch=2, batch=7)


def test_divergence_guard_stops_a_non_finite_loss_and_tolerates_noise():
    guard = DivergenceGuard(num_classes=10, lr=0.1)
    for loss in (2.3, 9.0, 0.5, 30.0, 1.0):
        guard.update(loss, epoch=1, batch=1)
    with pytest.raises(TrainingDiverged, match="the loss is nan; lower --lr"):
        guard.update(float("nan"), epoch=1, batch=2)


def test_a_diverging_run_stops_with_a_message_and_exit_status_1(capsys):
    code, out, err = _run(capsys, "train", "--lr", "20", "--epochs", "3")
    assert code == 1 and "training diverged at epoch 1" in err and "lower --lr (now 20)" in err
    assert "held-out accuracy" not in out


# --- progress and output ------------------------------------------------------------------------------

def test_piped_output_is_one_line_per_epoch_and_no_bar():
    result = _ember("train", "--epochs", "2")
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and result.stderr == ""
    assert [line.split()[:2] for line in lines[1:3]] == [["epoch", "1"], ["epoch", "2"]] and len(lines) == 4


def test_on_a_terminal_each_epoch_shows_training_and_evaluation_bars(capsys, monkeypatch):
    import tqdm

    from ember.train import prepare_run, train_run

    class EveryStep(tqdm.tqdm):  # redraw on every batch: a fast epoch ends before tqdm's 0.1 s refresh
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "mininterval": 0, "miniters": 1})

    monkeypatch.setattr(tqdm, "tqdm", EveryStep)
    train_run(prepare_run(TrainConfig(epochs=1)), progress=True)
    err = capsys.readouterr().err
    assert "epoch 1/1 train" in err and "epoch 1/1 evaluate" in err
    assert "batch/s" in err and "loss=" in err


@pytest.mark.parametrize("option", ["--save", "--plot"])
def test_an_unwritable_output_path_fails_before_training_naming_it(tmp_path, capsys, option):
    target = str(tmp_path / "missing-folder" / "out.png")
    code, out, err = _run(capsys, "train", option, target)
    _one_line_error(code, out, err)
    assert target in err or "--plot needs matplotlib" in err


def test_save_into_a_folder_path_is_refused_up_front(tmp_path, capsys):
    code, out, err = _run(capsys, "train", "--save", str(tmp_path))
    _one_line_error(code, out, err)
    assert f"--save {tmp_path}: is a folder" in err


def test_resume_without_epochs_continues_to_the_runs_own_epochs(tmp_path, capsys):
    checkpoint = tmp_path / "ck"
    assert _run(capsys, "train", "--epochs", "1", "--json", "--save", str(checkpoint))[0] == 0
    state = ember.load(checkpoint)
    state["config"]["epochs"] = 3  # as if a 3-epoch run had stopped after its first epoch
    ember.save(state, checkpoint)
    code, out, _ = _run(capsys, "train", "--resume", str(checkpoint), "--json")
    summary = json.loads(out)
    assert code == 0 and summary["config"]["epochs"] == 3 and [h["epoch"] for h in summary["history"]] == [1, 2, 3]


# --- help and CLI slips -------------------------------------------------------------------------------

def test_train_help_shows_a_plain_percent_sign(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "20% of them held out" in " ".join(out.split()) and "%%" not in out


def test_evaluate_help_names_only_options_it_has(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    assert "--data" not in capsys.readouterr().out


def test_debug_works_after_the_subcommand_too():
    result = _ember("train", "--epochs", "-1", "--debug")
    assert result.returncode != 0 and "Traceback" in result.stderr and "--epochs must be >= 0" in result.stderr
