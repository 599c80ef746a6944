"""`ember train --resume` / `ember evaluate` on damaged and crafted checkpoints: one line, exit 2, nothing
built from a checkpoint before it was checked."""

import copy
import tracemalloc

import pytest

import ember
from ember.cli import main
from ember.train import TrainConfig
from ember.train.checkpoint import expected_state_shapes, load_checkpoint, save_checkpoint
from ember.train.models import build_model


def _state(hidden=8):
    ember.manual_seed(0)
    config = TrainConfig(hidden=hidden, epochs=1)
    model = build_model("mlp", (1, 8, 8), 10, hidden)
    optimizer = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(ember.ones(2, 1, 8, 8)).sum().backward()
    optimizer.step()
    return dict(config=config, model=model, optimizer=optimizer, epoch=1,
                loader_generator=ember.Generator().manual_seed(0),
                history=[{"epoch": 1, "train_loss": 2.0, "train_accuracy": 0.1, "test_loss": 2.0,
                          "test_accuracy": 0.1, "seconds": 0.5}], image_shape=(1, 8, 8), classes=list(range(10)))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ck") / "run.ckpt"
    save_checkpoint(str(path), **_state())
    return path


def _run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(code, err, command):
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"ember {command}: error: ") and "Traceback" not in err


def _crafted(checkpoint, tmp_path, change):
    saved = ember.load(checkpoint)
    change(saved)
    path = tmp_path / "crafted.ckpt"
    ember.save(saved, path)
    return path


def test_the_fixture_checkpoint_is_valid_and_evaluates(checkpoint, capsys):
    code, out, err = _run(capsys, "evaluate", checkpoint)
    assert code == 0, err
    assert "held-out accuracy" in out


@pytest.mark.parametrize("command", [("evaluate",), ("train", "--resume")])
def test_a_directory_is_named_a_directory(tmp_path, capsys, command):
    code, _, err = _run(capsys, *command, tmp_path)
    _one_line_error(code, err, command[0])
    assert f"{tmp_path} is a directory" in err and "does not exist" not in err


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def change(saved):
        target = saved
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value(target[keys[-1]]) if callable(value) else value
    return change


def _with_seed(state, seed):
    """A generator state (a uint8 tensor of JSON) whose seed is ``seed``, the stream left valid."""
    import json
    blob = json.loads(bytes(state.tolist()).decode())
    blob["seed"] = seed
    return ember.tensor(list(json.dumps(blob).encode()), dtype=ember.uint8)


@pytest.mark.parametrize("change,field", [
    (_set("config", "not a dict"), "'config'"),
    (_set("config", "hidden", "256"), "'config.hidden'"),
    (_set("config", "lr", "fast"), "'config.lr'"),
    (_set("config", "model", 7), "'config.model'"),
    (_set("config", "hidden", -4), "--hidden must be positive"),
    (_set("epoch", -1), "'epoch'"),
    (_set("epoch", "3"), "'epoch'"),
    (_set("model", ["w"]), "'model'"),
    (_set("model", "1.weight", 3), "model['1.weight']"),
    (_set("rng", "default", lambda t: t.float()), "'rng.default'"),
    (_set("rng", "loader", lambda t: ember.tensor(list(b"{not json"), dtype=ember.uint8)), "'rng.loader'"),
    (_set("rng", "not a dict"), "'rng'"),
    (_set("rng", "default", lambda t: _with_seed(t, "x")), "'rng.default'"),
    (_set("history", 0, {"epoch": 1}), "'history[0]'"),
    (_set("history", 0, "train_loss", "low"), "'history[0].train_loss'"),
    (_set("image_shape", [1, 8]), "'image_shape'"),
    (_set("classes", []), "'classes'"),
    (_set("optimizer", "param_groups", {"lr": 1}), "'optimizer.param_groups'"),
    (_set("optimizer", "param_groups", 0, "params", ["a"]), "'optimizer.param_groups[0].params'"),
])
def test_wrong_typed_fields_are_one_line_naming_the_field(checkpoint, tmp_path, capsys, change, field):
    path = _crafted(checkpoint, tmp_path, change)
    for command in (("evaluate",), ("train", "--epochs", "3", "--resume")):
        code, _, err = _run(capsys, *command, path)
        _one_line_error(code, err, command[0])
        assert str(path) in err and field in err, err


def test_a_config_claiming_a_huge_model_is_refused_before_anything_is_allocated(checkpoint, tmp_path, capsys):
    path = _crafted(checkpoint, tmp_path, _set("config", "hidden", 10 ** 9))
    assert path.stat().st_size < 20_000
    tracemalloc.start()
    try:
        code, _, err = _run(capsys, "evaluate", path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    _one_line_error(code, err, "evaluate")
    assert "does not fit the mlp model its config describes" in err and "hidden=1000000000" in err
    assert peak < 50 * 2 ** 20, f"{peak / 2 ** 20:.0f} MiB allocated for a refused checkpoint"


def test_saving_to_a_directory_is_one_line(tmp_path, capsys):
    code, _, err = _run(capsys, "train", "--epochs", "0", "--save", tmp_path)
    _one_line_error(code, err, "train")
    assert "is a directory" in err or "is a folder" in err


def test_a_file_that_is_not_a_checkpoint_is_one_line(tmp_path, capsys):
    path = tmp_path / "garbage.ckpt"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    code, _, err = _run(capsys, "evaluate", path)
    _one_line_error(code, err, "evaluate")
    assert "garbage.ckpt" in err and "zip" in err


@pytest.mark.parametrize("model,image_shape,hidden", [("mlp", (1, 8, 8), 16), ("mlp", (3, 5, 7), 4),
                                                      ("cnn", (1, 28, 28), 256), ("cnn", (3, 9, 13), 256)])
def test_the_shape_table_matches_the_models_built(model, image_shape, hidden):
    built = build_model(model, image_shape, 7, hidden)
    shapes = {k: tuple(v.shape) for k, v in built.state_dict().items()}
    assert expected_state_shapes(model, image_shape, 7, hidden) == shapes


def test_a_valid_checkpoint_passes_every_check(checkpoint):
    loaded = load_checkpoint(str(checkpoint))
    assert loaded["epoch"] == 1 and loaded["config"]["hidden"] == 8
    assert copy.deepcopy(loaded["history"]) == _state()["history"]


def test_damaged_pickles_in_a_training_checkpoint_are_one_train_error(checkpoint, tmp_path):
    """Bytes of the checkpoint's pickle flipped, deleted or inserted (the archive kept valid, so the
    damage reaches the unpickler and the checks): loading gives a model or a TrainError, nothing else."""
    import os
    import random
    import zipfile
    from ember.train import TrainError
    from ember.train.loaded import load_trained
    with zipfile.ZipFile(checkpoint) as archive:
        records = {info.filename: archive.read(info) for info in archive.infolist()}
    name = next(n for n in records if n.endswith("data.pkl"))
    rng = random.Random(7)
    path = tmp_path / "damaged.ckpt"
    for _ in range(int(os.environ.get("EMBER_FUZZ_CASES", 200))):
        data = bytearray(records[name])
        for _ in range(rng.randint(1, 3)):
            position, kind = rng.randrange(len(data)), rng.random()
            if kind < 0.6:
                data[position] = rng.randrange(256)
            elif kind < 0.8:
                del data[position]
            else:
                data.insert(position, rng.randrange(256))
        with zipfile.ZipFile(path, "w") as archive:
            for record, value in records.items():
                archive.writestr(record, bytes(data) if record == name else value)
        try:
            load_trained(str(path))
        except TrainError:
            pass
