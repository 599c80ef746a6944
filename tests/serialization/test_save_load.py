"""ember.save / ember.load within ember: round trips of tensors, containers, state dicts; safetensors; atomic writes."""

import io
import os
import pickle
import signal
import stat
import subprocess
import sys
import time
from collections import OrderedDict

import numpy as np
import pytest
import ember
from ember import serialization
from ember.serialization import CheckpointError


def _mlp():
    return ember.nn.Sequential(ember.nn.Flatten(), ember.nn.Linear(4, 3), ember.nn.ReLU(), ember.nn.Linear(3, 2))


def _torch_mlp(torch):
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))


def _round_trip(obj, **load_args):
    buffer = io.BytesIO()
    ember.save(obj, buffer)
    buffer.seek(0)
    return ember.load(buffer, **load_args)


def test_tensors_of_every_dtype_round_trip(tmp_path):
    values = {str(dt): ember.ones(2, 3, dtype=dt) for dt in
              (ember.float32, ember.float64, ember.float16, ember.int64, ember.int32, ember.int8, ember.uint8, ember.bool)}
    values["scalar"] = ember.tensor(3.5)
    values["empty"] = ember.zeros(0, 4)
    ember.save(values, tmp_path / "t.safetensors")
    back = ember.load(tmp_path / "t.safetensors")
    assert list(back) == list(values)
    for key, t in values.items():
        assert back[key].dtype == t.dtype and back[key].shape == t.shape and back[key].tolist() == t.tolist()


def test_nested_structures_with_numbers_strings_and_none_round_trip():
    obj = {"epoch": 3, "lr": 0.1, "name": "run", "flags": [True, None], "pair": (1, "a"), "inf": float("inf"),
           3: "int key", "nested": {"t": ember.arange(3)}, "dtype": ember.float64,
           "ordered": OrderedDict(b=1, a=2), "bytes": b"\x00\xff", "set": {1, 2}, "size": ember.Size([2, 3])}
    back = _round_trip(obj)
    assert back["nested"]["t"].tolist() == [0, 1, 2]
    assert isinstance(back["size"], ember.Size)
    del back["nested"], obj["nested"]
    assert back == obj and isinstance(back["pair"], tuple) and isinstance(back["ordered"], OrderedDict)
    assert list(back["ordered"]) == ["b", "a"]


def test_numpy_arrays_need_weights_only_false_as_in_pytorch():
    obj = {"arr": np.arange(4.0)}
    with pytest.raises(pickle.UnpicklingError, match="numpy"):
        _round_trip(obj)
    assert np.array_equal(_round_trip(obj, weights_only=False)["arr"], np.arange(4.0))


def test_a_tensor_stored_twice_comes_back_as_one_tensor():
    t = ember.ones(2)
    back = _round_trip({"a": t, "b": [t]})
    assert back["a"] is back["b"][0]


def test_parameters_and_requires_grad_are_kept():
    back = _round_trip({"p": ember.nn.Parameter(ember.ones(2)), "g": ember.ones(2, requires_grad=True)})
    assert isinstance(back["p"], ember.nn.Parameter) and back["p"].requires_grad and back["g"].requires_grad


def test_model_and_optimizer_state_dicts_round_trip(tmp_path):
    model = _mlp()
    optimizer = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for p in model.parameters():
        p.grad = ember.ones_like(p)
    optimizer.step()
    ember.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "ck")
    back = ember.load(tmp_path / "ck")
    fresh = _mlp()
    fresh.load_state_dict(back["model"])
    fresh_optimizer = ember.optim.SGD(fresh.parameters(), lr=0.5)
    fresh_optimizer.load_state_dict(back["optimizer"])
    for a, b in zip(model.parameters(), fresh.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    assert fresh_optimizer.param_groups[0]["lr"] == 0.1 and fresh_optimizer.param_groups[0]["momentum"] == 0.9
    assert sorted(back["optimizer"]["state"]) == [0, 1, 2, 3]


def test_unpicklable_objects_are_refused_by_pickle_as_in_pytorch():
    with pytest.raises((TypeError, pickle.PicklingError, AttributeError)):
        ember.save({"cfg": {"fn": lambda: 1}}, io.BytesIO())


def test_a_safetensors_state_dict_saved_by_pytorch_loads_into_the_equivalent_ember_model(tmp_path, torch):
    import safetensors.torch
    reference = _torch_mlp(torch)
    safetensors.torch.save_file(reference.state_dict(), tmp_path / "torch.safetensors")
    model = _mlp()
    model.load_state_dict(ember.load(tmp_path / "torch.safetensors"))
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(ember.from_numpy(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_a_state_dict_saved_by_ember_loads_into_pytorch(tmp_path, torch):
    model = _mlp()
    ember.save(model.state_dict(), tmp_path / "ember.pt")
    reference = _torch_mlp(torch)
    reference.load_state_dict(torch.load(tmp_path / "ember.pt"))
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    with torch.no_grad():
        got = reference(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, model(ember.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_map_location_moves_tensors_to_a_device(tmp_path):
    ember.save({"w": ember.ones(2)}, tmp_path / "ck")
    seen = []
    back = ember.load(tmp_path / "ck", map_location=lambda t, saved: seen.append(saved) or t * 2)
    assert seen == ["cpu"] and back["w"].tolist() == [2.0, 2.0]
    assert ember.load(tmp_path / "ck", map_location="cpu")["w"].device == ember.device("cpu")
    assert ember.load(tmp_path / "ck", map_location={"cpu": "cpu"})["w"].device == ember.device("cpu")
    assert ember.load(tmp_path / "ck", map_location=ember.device("cpu"))["w"].device == ember.device("cpu")


class _Boom:
    def __reduce__(self):
        return (os.system, ("touch should-never-exist",))


def test_a_plain_pickle_is_refused_and_nothing_in_it_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(_Boom()))
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        ember.load(tmp_path / "evil.pkl", weights_only=False)
    assert not (tmp_path / "should-never-exist").exists()


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_files_give_a_clear_error(tmp_path, damage):
    path = tmp_path / "ck"
    ember.save({"w": ember.ones(100)}, path)
    raw = path.read_bytes()
    path.write_bytes({"truncate": raw[:len(raw) // 2], "garbage": b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!",
                      "empty": b""}[damage])
    with pytest.raises(CheckpointError, match="corrupt|truncated|too short"):
        ember.load(path)


def test_a_failure_while_writing_leaves_the_previous_checkpoint_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "ck.safetensors"
    ember.save({"epoch": 1, "w": ember.ones(3)}, path)

    def write_half_then_fail(obj, handle, protocol, byteorder_record):
        handle.write(b"PK\x03\x04 half of a checkpoint")
        raise OSError("disk full (injected)")

    monkeypatch.setattr(serialization.writer, "_write_zip", write_half_then_fail)
    with pytest.raises(OSError, match="injected"):
        ember.save({"epoch": 2, "w": ember.zeros(3)}, path)
    assert ember.load(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["ck.safetensors"]


_WRITER = """
import sys, ember
path = sys.argv[1]
big = ember.zeros(4_000_000)
epoch = 0
while True:
    epoch += 1
    ember.save({"epoch": epoch, "w": big + epoch}, path)
    print(epoch, flush=True)
"""


def test_killing_a_process_in_the_middle_of_saving_leaves_a_loadable_checkpoint(tmp_path):
    path = tmp_path / "ck.safetensors"
    process = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "1"  # a first checkpoint is complete
        time.sleep(0.05)  # now, most likely, in the middle of another write
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    back = ember.load(path)
    assert back["epoch"] >= 1
    assert float(back["w"][0]) == back["epoch"] and float(back["w"][-1]) == back["epoch"]
    ember.save({"epoch": 0}, path)  # the next save of the same target removes the killed writer's temporary
    assert os.listdir(tmp_path) == ["ck.safetensors"]


def _dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_save_removes_temporaries_of_dead_writers_of_the_same_file_only(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    leftovers = {f".ck.pt.{dead}.abc123.tmp": False, f".ck.pt.{alive}.def456.tmp": True,
                 f".other.pt.{dead}.abc123.tmp": True, "ck.pt.notes": True}
    for name in leftovers:
        (tmp_path / name).write_bytes(b"partial")
    ember.save({"w": ember.ones(1)}, tmp_path / "ck.pt")
    for name, kept in leftovers.items():
        assert (tmp_path / name).exists() == kept, name


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_mode_open_would_give_as_torch_save(tmp_path, torch, umask, mode):
    old = os.umask(umask)
    try:
        ember.save({"w": ember.ones(1)}, tmp_path / "ember.pt")
        torch.save({"w": torch.ones(1)}, tmp_path / "torch.pt")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "ember.pt").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "torch.pt").stat().st_mode) == mode


def test_overwriting_keeps_the_existing_files_mode(tmp_path):
    path = tmp_path / "ck.pt"
    ember.save({"epoch": 1}, path)
    os.chmod(path, 0o640)
    ember.save({"epoch": 2}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and ember.load(path)["epoch"] == 2


def test_saving_to_a_directory_is_refused_and_leaves_it_alone(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        ember.save({"w": ember.ones(1)}, tmp_path)
    assert os.listdir(tmp_path) == []
