"""`ember train` / `evaluate` / `predict` as a user drives them: results, reproducibility, resume, errors."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.cli import main
from ember.tensor import bump_version
from ember.train.images import write_png


def _ember(*args, cwd=None):
    """Run the installed `ember` command (or `python -m ember.cli` when it is not on PATH)."""
    exe = shutil.which("ember", path=os.path.dirname(sys.executable))  # this environment's script
    command = [exe] if exe else [sys.executable, "-m", "ember.cli"]
    return subprocess.run(command + list(args), capture_output=True, text=True, cwd=cwd, timeout=300)


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _weights(path):
    return {k: v.numpy() for k, v in ember.load(path)["model"].items()}


def test_the_default_run_reaches_96_percent_on_held_out_digits(capsys):
    code, out, err = _run(capsys, "train", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["config"]["epochs"] == 20 and len(summary["history"]) == 20
    assert summary["test_accuracy"] >= 0.96, summary["test_accuracy"]


def test_a_user_run_with_json_reports_every_field(tmp_path):
    checkpoint = tmp_path / "run.safetensors"
    result = _ember("train", "--epochs", "2", "--json", "--seed", "1", "--save", str(checkpoint))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar: stdout is not a terminal
    summary = json.loads(result.stdout)
    assert summary["config"] == {"model": "mlp", "data": "digits", "root": None, "epochs": 2, "batch_size": 32,
                                 "optimizer": "SGD", "lr": 0.01, "momentum": 0.9, "hidden": 256, "seed": 1,
                                 "test_fraction": 0.2}
    assert (summary["train_size"], summary["test_size"]) == (1438, 359)
    assert summary["device"] == "cpu" and summary["checkpoint"] == str(checkpoint) and summary["plot"] is None
    assert summary["resumed_from_epoch"] is None and summary["seconds"] > 0
    assert [h["epoch"] for h in summary["history"]] == [1, 2]
    for h in summary["history"]:
        assert set(h) == {"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"}
        assert 0 <= h["train_accuracy"] <= 1 and 0 <= h["test_accuracy"] <= 1 and h["train_loss"] > 0
    assert summary["history"][1]["train_loss"] < summary["history"][0]["train_loss"]
    assert summary["test_accuracy"] == summary["history"][-1]["test_accuracy"] > 0.8
    assert summary["test_loss"] == summary["history"][-1]["test_loss"]
    assert ember.load(checkpoint)["epoch"] == 2


def test_text_output_prints_each_epoch_and_the_held_out_accuracy(capsys):
    code, out, _ = _run(capsys, "train", "--epochs", "2")
    lines = out.strip().splitlines()
    assert code == 0 and lines[0].startswith("training mlp on bundled UCI digits")
    assert lines[1].startswith("epoch   1") and lines[2].startswith("epoch   2")
    assert lines[-1].startswith("held-out accuracy: ")


def test_the_same_seed_gives_identical_runs_and_another_seed_does_not(tmp_path, capsys):
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        assert _run(capsys, "train", "--epochs", "2", "--seed", seed, "--json", "--save", str(tmp_path / name))[0] == 0
    a, b, c = (_weights(tmp_path / n) for n in "abc")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not all(np.array_equal(a[k], c[k]) for k in a)


def test_resuming_from_epoch_k_reproduces_the_uninterrupted_run_bit_for_bit(tmp_path, capsys):
    straight, first, resumed = (str(tmp_path / n) for n in ("straight", "first", "resumed"))
    assert _run(capsys, "train", "--epochs", "3", "--json", "--save", straight)[0] == 0
    assert _run(capsys, "train", "--epochs", "1", "--json", "--save", first)[0] == 0
    code, out, _ = _run(capsys, "train", "--resume", first, "--epochs", "3", "--json", "--save", resumed)
    assert code == 0 and json.loads(out)["resumed_from_epoch"] == 1
    a, b = ember.load(straight), ember.load(resumed)
    for key in a["model"]:
        assert np.array_equal(a["model"][key].numpy(), b["model"][key].numpy()), key
    for index, state in a["optimizer"]["state"].items():
        for name, value in state.items():
            assert np.array_equal(value.numpy(), b["optimizer"]["state"][index][name].numpy())
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in a["history"]]
    assert strip == [{k: v for k, v in h.items() if k != "seconds"} for h in b["history"]]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ck") / "digits.safetensors"
    assert main(["train", "--epochs", "3", "--json", "--save", str(path)]) == 0
    return str(path)


def test_evaluate_reports_accuracy_and_a_confusion_matrix(checkpoint, capsys):
    code, out, _ = _run(capsys, "evaluate", checkpoint, "--json")
    report = json.loads(out)
    matrix = np.array(report["confusion_matrix"])
    assert code == 0 and matrix.shape == (10, 10) and matrix.sum() == 359 == report["test_size"]
    assert report["accuracy"] == pytest.approx(np.trace(matrix) / matrix.sum())
    assert report["accuracy"] == ember.load(checkpoint)["history"][-1]["test_accuracy"]
    code, out, _ = _run(capsys, "evaluate", checkpoint)
    assert "confusion matrix" in out and "held-out accuracy" in out


def test_predict_classifies_npy_and_png_images(checkpoint, tmp_path, capsys):
    digits = ember.datasets.Digits()
    model_input = digits._scaled[:4]
    with ember.no_grad():
        expected = np.asarray(_load_model(checkpoint)(ember.from_numpy(model_input))).argmax(1).tolist()
    np.save(tmp_path / "stack.npy", digits.data[:4].numpy())
    np.save(tmp_path / "one.npy", model_input[0, 0])
    write_png(tmp_path / "one.png", np.round(model_input[0, 0] * 255).astype(np.uint8))
    code, out, _ = _run(capsys, "predict", checkpoint, str(tmp_path / "stack.npy"), str(tmp_path / "one.npy"),
                        str(tmp_path / "one.png"), "--json")
    rows = json.loads(out)
    assert code == 0 and [r["class"] for r in rows] == expected + [expected[0], expected[0]]
    assert rows[0]["file"].endswith("stack.npy[0]") and all(0 < r["probability"] <= 1 for r in rows)


def _load_model(path):
    from ember.train.loaded import load_trained
    return load_trained(path).model


def test_predict_rejects_an_image_of_the_wrong_size(checkpoint, tmp_path, capsys):
    np.save(tmp_path / "big.npy", np.zeros((28, 28), np.float32))
    code, _, err = _run(capsys, "predict", checkpoint, str(tmp_path / "big.npy"))
    assert code == 2 and "expected an image of 8x8 pixels" in err


def _one_line_error(code, err, command="train"):
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"ember {command}: error: ") and "Traceback" not in err


def test_missing_dataset_files_are_a_one_line_error(tmp_path, capsys):
    code, _, err = _run(capsys, "train", "--data", "mnist", "--root", str(tmp_path))
    _one_line_error(code, err)
    assert "train-images-idx3-ubyte" in err and str(tmp_path) in err


def test_a_corrupt_dataset_file_is_a_one_line_error(tmp_path, capsys):
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (tmp_path / name).write_bytes(b"\x00\x00\x08\x03not really an idx file")
    code, _, err = _run(capsys, "train", "--data", "fashion-mnist", "--root", str(tmp_path))
    _one_line_error(code, err)
    assert "train-images-idx3-ubyte" in err


def test_a_checkpoint_of_another_architecture_is_a_one_line_error(checkpoint, tmp_path, capsys):
    saved = ember.load(checkpoint)
    saved["config"]["hidden"] = 32  # the stored weights are 256 wide: they cannot fit
    other = tmp_path / "other.safetensors"
    ember.save(saved, other)
    code, _, err = _run(capsys, "evaluate", str(other))
    _one_line_error(code, err, "evaluate")
    assert "does not fit" in err and "size mismatch" in err
    code, _, err = _run(capsys, "train", "--resume", checkpoint, "--model", "cnn", "--epochs", "4")
    _one_line_error(code, err)
    assert "--model cnn (checkpoint has mlp)" in err


def test_a_file_that_is_not_a_checkpoint_is_a_one_line_error(tmp_path, capsys):
    ember.save({"w": ember.ones(2)}, tmp_path / "weights.safetensors")
    (tmp_path / "junk").write_bytes(b"junk")
    for path in ("weights.safetensors", "junk", "missing"):
        code, _, err = _run(capsys, "evaluate", str(tmp_path / path))
        _one_line_error(code, err, "evaluate")


def test_an_unknown_optimizer_is_a_one_line_error_listing_the_registered_ones(capsys):
    code, _, err = _run(capsys, "train", "--optimizer", "nonesuch")
    _one_line_error(code, err)
    assert "'nonesuch'" in err and "SGD" in err and "LambdaLR" not in err


def test_a_negative_epoch_count_is_a_one_line_error(capsys):
    code, _, err = _run(capsys, "train", "--epochs", "-1")
    _one_line_error(code, err)
    assert "--epochs must be >= 0, got -1" in err


def test_debug_shows_the_traceback():
    result = _ember("--debug", "train", "--epochs", "-1")
    assert result.returncode != 0 and "Traceback" in result.stderr and "--epochs must be >= 0" in result.stderr


def test_plot_writes_curves_or_says_matplotlib_is_missing(tmp_path, capsys):
    target = tmp_path / "curves.png"
    code, _, err = _run(capsys, "train", "--epochs", "1", "--json", "--plot", str(target))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        _one_line_error(code, err)
        assert "--plot needs matplotlib" in err
    else:
        assert code == 0 and target.stat().st_size > 0


def test_any_registered_optimizer_can_be_named_in_any_case(capsys):
    if "Adam" not in ember.plugins.registries["optimizers"]:
        pytest.skip("no optimizer named Adam is registered (ember_optim's adam family is missing)")
    code, out, _ = _run(capsys, "train", "--epochs", "1", "--optimizer", "adam", "--lr", "0.001", "--json")
    assert code == 0 and json.loads(out)["history"][0]["test_accuracy"] > 0.5


class _HalfStepSGD(ember.optim.Optimizer):
    """A third-party optimizer: plain gradient descent at half the learning rate."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})

    def step(self, closure=None):
        with ember.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p._data -= 0.5 * group["lr"] * p.grad._data
                        bump_version(p)


class _ThirdPartyPlugin:
    @ember.hookimpl
    def ember_register_optimizers(self, registry):
        registry.register(_HalfStepSGD)


def test_a_third_party_optimizer_is_found_by_name(capsys):
    info = ember.plugins.register(_ThirdPartyPlugin(), name="halfstep-test")
    try:
        code, out, err = _run(capsys, "train", "--epochs", "1", "--optimizer", "_halfstepsgd", "--lr", "0.5", "--json")
        assert code == 0, err
        assert json.loads(out)["config"]["optimizer"] == "_halfstepsgd"
    finally:
        ember.plugins.unregister(info.name)


def test_a_cnn_trains_when_conv_layers_are_registered(capsys):
    missing = [name for name in ("Conv2d", "MaxPool2d") if not hasattr(ember.nn, name)]
    if missing:
        pytest.skip(f"--model cnn needs ember.nn.{', '.join(missing)}, not registered here")
    code, out, _ = _run(capsys, "train", "--model", "cnn", "--epochs", "1", "--lr", "0.05", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["config"]["model"] == "cnn" and summary["test_accuracy"] > 0.5


def test_mnist_files_on_disk_train_end_to_end(tmp_path, capsys):
    from ember.datasets.idx import write_idx
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 40), ("t10k", 10)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n, dtype=np.uint8))
    code, out, _ = _run(capsys, "train", "--data", "mnist", "--root", str(tmp_path), "--epochs", "1", "--json")
    summary = json.loads(out)
    assert code == 0 and (summary["train_size"], summary["test_size"]) == (40, 10)


def test_an_unusable_device_is_a_one_line_error(capsys):
    code, out, err = _run(capsys, "train", "--device", "nosuchdevice", "--epochs", "1")
    _one_line_error(code, err)
    assert out == "" and "nosuchdevice" in err


def test_python_dash_m_ember_cli_reports_errors_like_the_ember_command():
    result = subprocess.run([sys.executable, "-m", "ember.cli", "train", "--epochs", "-1"], capture_output=True,
                            text=True, timeout=120)
    _one_line_error(result.returncode, result.stderr)
