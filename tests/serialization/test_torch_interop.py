"""ember.save <-> torch.load and torch.save <-> ember.load: state dicts of every layer, optimizers, nested
containers, shared storages, views, every dtype, the legacy format, whole modules."""

import io
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember.plugins import registries
from ember.serialization import CheckpointError, WeightsOnlyError
from ember.testing import SampleMaker


def _to_torch_file(obj):
    buffer = io.BytesIO()
    ember.save(obj, buffer)
    buffer.seek(0)
    return buffer


def _from_torch(torch, obj, **save_args):
    buffer = io.BytesIO()
    torch.save(obj, buffer, **save_args)
    buffer.seek(0)
    return ember.load(buffer)


def _layer_cases():
    cases = []
    for name in sorted(registries["layers"].names()):
        for i, _ in enumerate(registries["layers"][name].samples(SampleMaker(dtype=ember.float32, seed=0))):
            cases.append((name, i))
    return cases


def _torch_args(torch, value):
    if isinstance(value, ember.Tensor):
        return torch.from_numpy(np.array(value.detach().numpy()))
    if isinstance(value, (tuple, list)):
        return type(value)(_torch_args(torch, v) for v in value)
    if isinstance(value, dict):
        return {k: _torch_args(torch, v) for k, v in value.items()}
    return value


def _sample(name, index):
    return list(registries["layers"][name].samples(SampleMaker(dtype=ember.float32, seed=0)))[index]


def _materialized(layer, inputs, lib):
    """A lazy layer (LazyLinear...) has its parameters' shapes after its first forward, in PyTorch too: run
    it once (eval, no grad: no state changes) so that what is saved is the layer code trains."""
    if getattr(layer, "has_uninitialized_params", lambda: False)():
        training = layer.training
        with lib.no_grad():
            layer.eval()(*inputs)
        layer.train(training)
    return layer


def _layer(name, index):
    sample = _sample(name, index)
    return _materialized(registries["layers"][name](*sample.args, **sample.kwargs), sample.inputs, ember)


def _twins(torch, name, index):
    sample = _sample(name, index)
    ours = _materialized(registries["layers"][name](*sample.args, **sample.kwargs), sample.inputs, ember)
    if not hasattr(torch.nn, name) or any(isinstance(a, ember.nn.Module) for a in sample.args):
        return ours, None
    theirs = getattr(torch.nn, name)(*_torch_args(torch, sample.args), **_torch_args(torch, sample.kwargs))
    return ours, _materialized(theirs, _torch_args(torch, sample.inputs), torch)


def _same_values(ember_state, torch_state):
    assert list(ember_state) == list(torch_state)
    for key, t in torch_state.items():
        mine = ember_state[key]
        assert tuple(mine.shape) == tuple(t.shape), key
        np.testing.assert_array_equal(mine.detach().numpy(), t.detach().numpy(), err_msg=key)


@pytest.mark.parametrize("name,index", _layer_cases())
def test_layer_state_dicts_go_from_ember_to_torch_and_back(torch, name, index):
    ours, theirs = _twins(torch, name, index)
    if theirs is None:
        pytest.skip(f"{name}: PyTorch has no twin for this sample")
    loaded = torch.load(_to_torch_file(ours.state_dict()))  # weights_only=True, torch's default
    theirs.load_state_dict(loaded)
    _same_values(ours.state_dict(), theirs.state_dict())
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(0.5)
    ours.load_state_dict(_from_torch(torch, theirs.state_dict()))
    _same_values(ours.state_dict(), theirs.state_dict())


@pytest.mark.parametrize("name,index", _layer_cases())
def test_whole_layers_pickle_and_load_with_weights_only_false(name, index):
    ours = _layer(name, index)
    back = ember.load(_to_torch_file(ours), weights_only=False)
    assert type(back) is type(ours) and repr(back) == repr(ours)
    for (k, a), (k2, b) in zip(ours.state_dict().items(), back.state_dict().items()):
        assert k == k2 and np.array_equal(a.numpy(), b.numpy(), equal_nan=True)
    assert [type(p) for p in back.parameters()] == [type(p) for p in ours.parameters()]


def test_a_whole_module_is_refused_by_the_default_weights_only_load_naming_its_class():
    with pytest.raises(WeightsOnlyError, match=r"refused the global ember_nn\.linear\.Linear"):
        ember.load(_to_torch_file(ember.nn.Linear(2, 2)))


def test_a_torch_module_saved_whole_is_refused_naming_its_class(torch):
    buffer = io.BytesIO()
    torch.save(torch.nn.Linear(2, 2), buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match=r"torch\.nn\.modules\.linear\.Linear"):
        ember.load(buffer)


def _optimizer_cases():
    cases = []
    for name in sorted(registries["optimizers"].names()):
        cls = registries["optimizers"][name]
        if isinstance(cls, type) and issubclass(cls, ember.optim.Optimizer):
            cases += [(name, i) for i in range(len(cls.sample_options))]
    return cases


def _trained_optimizer(name, options):
    ember.manual_seed(0)
    model = ember.nn.Linear(3, 2)
    optimizer = registries["optimizers"][name](model.parameters(), **options)

    def closure():
        optimizer.zero_grad()
        loss = model(ember.ones(4, 3)).pow(2).sum()
        loss.backward()
        return loss

    for _ in range(2):
        optimizer.step(closure)
    return model, optimizer


def _same_state(ours, theirs, where="state"):
    """``theirs`` (from torch or back from it) holds the same values as ``ours``, tensors included."""
    if hasattr(ours, "numpy"):
        np.testing.assert_array_equal(np.asarray(theirs.numpy() if hasattr(theirs, "numpy") else theirs),
                                      ours.numpy(), err_msg=where)
    elif isinstance(ours, dict):
        for key, value in ours.items():
            _same_state(value, theirs[key], f"{where}[{key!r}]")
    elif isinstance(ours, (list, tuple)):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _same_state(a, b, f"{where}[{i}]")
    else:
        assert ours == theirs, where


@pytest.mark.parametrize("name,index", _optimizer_cases())
def test_optimizer_state_dicts_load_into_torch_and_back(torch, name, index):
    options = registries["optimizers"][name].sample_options[index]
    model, optimizer = _trained_optimizer(name, options)
    state = optimizer.state_dict()
    in_torch = torch.load(_to_torch_file(state))  # weights_only=True
    _same_state(state, in_torch)
    if hasattr(torch.optim, name):  # and torch's own optimizer takes it
        twin = torch.nn.Linear(3, 2)
        twin.load_state_dict(torch.load(_to_torch_file(model.state_dict())))
        torch_optimizer = getattr(torch.optim, name)(twin.parameters(), **options)
        torch_optimizer.load_state_dict(in_torch)
        in_torch = torch_optimizer.state_dict()
    fresh = registries["optimizers"][name](model.parameters(), **options)
    fresh.load_state_dict(_from_torch(torch, in_torch))
    _same_state(state, fresh.state_dict())


_DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


@pytest.mark.parametrize("dtype", _DTYPES)
def test_every_dtype_crosses_both_ways_exactly(torch, dtype):
    values = np.array([[0, 1, 2], [3, 100, 127]]).astype(np.dtype(dtype if dtype != "bool" else "?"))
    ours = ember.from_numpy(values)
    theirs = torch.load(_to_torch_file({"t": ours}))["t"]
    assert str(theirs.dtype) == f"torch.{dtype}" and np.array_equal(theirs.numpy(), values)
    back = _from_torch(torch, {"t": theirs})["t"]
    assert back.dtype == getattr(ember, dtype) and np.array_equal(back.numpy(), values)


def test_bfloat16_from_torch_loads_exactly(torch):
    theirs = torch.tensor([1.5, -2.25, 3.0e38, 1e-3]).to(torch.bfloat16)
    with pytest.warns(UserWarning, match="bfloat16") if not hasattr(ember, "bfloat16") else _nothing():
        back = _from_torch(torch, {"t": theirs})["t"]
    np.testing.assert_array_equal(back.float().numpy(), theirs.float().numpy())


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_dtype_ember_lacks_is_one_clear_error(torch):
    if hasattr(ember, "complex64"):
        pytest.skip("this ember has complex64")
    with pytest.raises(CheckpointError, match="complex64.*not support"):
        _from_torch(torch, {"t": torch.zeros(2, dtype=torch.complex64)})


def test_tensors_sharing_a_storage_share_memory_after_loading(torch):
    base = torch.arange(12.0).reshape(3, 4)
    state = {"base": base, "transposed": base.t(), "row": base[1], "column": base[:, 2], "tail": base.view(-1)[5:]}
    back = _from_torch(torch, state)
    for key, t in state.items():
        assert tuple(back[key].shape) == tuple(t.shape)
        np.testing.assert_array_equal(back[key].numpy(), t.numpy(), err_msg=key)
    assert back["transposed"].numpy().strides == (4, 16) and not back["transposed"].is_contiguous()
    for key in state:
        assert np.shares_memory(back[key].numpy(), back["base"].numpy()), key


def test_views_saved_by_ember_share_one_storage_in_torch(torch):
    base = ember.arange(12.0).reshape(3, 4)
    loaded = torch.load(_to_torch_file({"base": base, "t": base.t(), "row": base[1], "col": base[:, 2]}))
    pointer = loaded["base"].untyped_storage().data_ptr()
    for key in ("t", "row", "col"):
        assert loaded[key].untyped_storage().data_ptr() == pointer, key
    assert loaded["t"].stride() == (1, 4) and loaded["col"].stride() == (4,) and loaded["col"].storage_offset() == 2
    np.testing.assert_array_equal(loaded["t"].numpy(), base.t().numpy())


def test_non_contiguous_and_negative_stride_arrays_are_saved_with_their_values(torch):
    data = np.arange(24.0, dtype=np.float32).reshape(4, 6)
    flipped = ember.from_numpy(data[::-1, ::2])  # numpy's negative strides have no torch equivalent: copied
    loaded = torch.load(_to_torch_file({"f": flipped}))
    np.testing.assert_array_equal(loaded["f"].numpy(), data[::-1, ::2])


def test_nested_containers_numbers_and_torch_types_cross_both_ways(torch):
    obj = {"epoch": 7, "lr": [0.1, 0.01], "name": "run", "none": None, "pair": (1, 2.5), "flag": True,
           "nested": OrderedDict(a={"t": ember.ones(2)}, b=[ember.zeros(1, dtype=ember.int64)]),
           "dtype": ember.float16, "size": ember.Size([2, 3]), "device": ember.device("cpu"), "big": 2 ** 70}
    theirs = torch.load(_to_torch_file(obj))
    assert theirs["dtype"] is torch.float16 and theirs["size"] == torch.Size([2, 3])
    assert theirs["device"] == torch.device("cpu") and theirs["big"] == 2 ** 70
    assert isinstance(theirs["nested"], OrderedDict) and theirs["nested"]["a"]["t"].tolist() == [1.0, 1.0]
    back = _from_torch(torch, theirs)
    assert back["dtype"] is ember.float16 and back["size"] == ember.Size([2, 3]) and back["device"] == "cpu"
    assert back["nested"]["b"][0].dtype == ember.int64
    for key in ("epoch", "lr", "name", "none", "pair", "flag", "big"):
        assert back[key] == obj[key]


def test_parameters_and_requires_grad_cross_both_ways(torch):
    theirs = torch.load(_to_torch_file({"p": ember.nn.Parameter(ember.ones(2)), "g": ember.ones(2, requires_grad=True),
                                        "frozen": ember.nn.Parameter(ember.ones(1), requires_grad=False)}))
    assert isinstance(theirs["p"], torch.nn.Parameter) and theirs["g"].requires_grad
    assert not theirs["frozen"].requires_grad
    back = _from_torch(torch, theirs)
    assert isinstance(back["p"], ember.nn.Parameter) and back["p"].requires_grad and back["g"].requires_grad
    assert isinstance(back["frozen"], ember.nn.Parameter) and not back["frozen"].requires_grad


def test_torchs_legacy_format_loads(torch):
    base = torch.arange(6.0).reshape(2, 3)
    state = OrderedDict(w=base.t(), b=base[1], i=torch.tensor([1, 2], dtype=torch.int16), m=torch.tensor([True]))
    back = _from_torch(torch, state, _use_new_zipfile_serialization=False)
    for key, t in state.items():
        np.testing.assert_array_equal(back[key].numpy(), t.numpy(), err_msg=key)
    assert np.shares_memory(back["w"].numpy(), back["b"].numpy())


def test_the_legacy_format_written_by_ember_loads_in_torch(torch):
    base = ember.arange(6.0).reshape(2, 3)
    buffer = io.BytesIO()
    ember.save({"w": base.t(), "b": base[1], "epoch": 3}, buffer, _use_new_zipfile_serialization=False)
    buffer.seek(0)
    assert buffer.getvalue()[:2] == b"\x80\x02"
    loaded = torch.load(buffer)
    np.testing.assert_array_equal(loaded["w"].numpy(), base.t().numpy())
    assert loaded["epoch"] == 3 and loaded["w"].untyped_storage().data_ptr() == loaded["b"].untyped_storage().data_ptr()
    buffer.seek(0)
    assert ember.load(buffer)["b"].tolist() == [3.0, 4.0, 5.0]


def test_a_big_endian_archive_is_byte_swapped(torch):
    values = np.array([1.5, -2.0, 1e10], dtype=np.float64)
    source = zipfile.ZipFile(_to_torch_file({"t": ember.from_numpy(values)}))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("byteorder"):
                data = b"big"
            elif "/data/" in info.filename:
                data = values.astype(">f8").tobytes()
            target.writestr(info.filename, data)
    out.seek(0)
    np.testing.assert_array_equal(torch.load(io.BytesIO(out.getvalue()))["t"].numpy(), values)
    np.testing.assert_array_equal(ember.load(out)["t"].numpy(), values)


def test_storages_are_aligned_to_64_bytes_and_torch_can_mmap_them(torch, tmp_path):
    path = tmp_path / "ck.pt"
    ember.save({"a": ember.ones(3), "b": ember.arange(5)}, path)
    with open(path, "rb") as handle:
        for info in zipfile.ZipFile(handle).infolist():
            handle.seek(info.header_offset + 26)
            name_length, extra_length = np.frombuffer(handle.read(4), "<u2")
            assert (info.header_offset + 30 + int(name_length) + int(extra_length)) % 64 == 0, info.filename
    assert torch.load(path, mmap=True)["b"].tolist() == [0, 1, 2, 3, 4]


def test_mmap_maps_storages_of_a_zip_checkpoint(torch, tmp_path):
    path = tmp_path / "ck.pt"
    torch.save({"w": torch.arange(10.0)}, path)
    loaded = ember.load(path, mmap=True)
    array = loaded["w"].numpy()
    while not isinstance(array, np.memmap) and isinstance(array.base, np.ndarray):
        array = array.base
    assert isinstance(array, np.memmap) and loaded["w"].tolist() == list(map(float, range(10)))


def test_map_location_gets_each_storage_and_its_location_as_in_torch(torch):
    seen = []
    back = ember.load(_to_torch_file({"a": ember.ones(2), "b": ember.arange(3.0)}),
                      map_location=lambda storage, location: seen.append((tuple(storage.shape), location)) or storage * 2)
    assert sorted(seen) == [((2,), "cpu"), ((3,), "cpu")]
    assert back["a"].tolist() == [2.0, 2.0] and back["b"].tolist() == [0.0, 2.0, 4.0]


class Point:
    def __init__(self, x):
        self.x = x


def test_add_safe_globals_and_the_safe_globals_context_allow_a_class():
    from ember import serialization
    data = _to_torch_file({"p": Point(3)}).getvalue()
    with pytest.raises(WeightsOnlyError, match=f"{__name__}.Point"):
        ember.load(io.BytesIO(data))
    with serialization.safe_globals([Point]):
        assert Point in serialization.get_safe_globals()
        assert ember.load(io.BytesIO(data))["p"].x == 3
    assert Point not in serialization.get_safe_globals()
    serialization.add_safe_globals([Point])
    try:
        assert ember.load(io.BytesIO(data))["p"].x == 3
    finally:
        serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []


def test_the_public_names_are_pytorchs():
    from ember import serialization
    for name in ("add_safe_globals", "safe_globals", "get_safe_globals", "clear_safe_globals"):
        assert callable(getattr(serialization, name))
    assert issubclass(WeightsOnlyError, pickle.UnpicklingError)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_every_pickle_protocol_torch_writes_loads(torch, protocol):
    base = torch.arange(4.0).reshape(2, 2)
    buffer = io.BytesIO()
    torch.save({"t": base.t(), "dtype": torch.float16, "size": torch.Size([3])}, buffer, pickle_protocol=protocol)
    buffer.seek(0)
    loaded = ember.load(buffer)
    assert loaded["t"].tolist() == [[0.0, 2.0], [1.0, 3.0]]
    assert loaded["dtype"] is ember.float16 and loaded["size"] == ember.Size([3])


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("protocol", [2, 3])
def test_ember_files_of_the_protocols_torchs_weights_only_reads_load_in_torch(torch, protocol):
    buffer = io.BytesIO()
    ember.save({"t": ember.arange(4.0).reshape(2, 2).t()}, buffer, pickle_protocol=protocol)
    buffer.seek(0)
    assert torch.load(buffer)["t"].tolist() == [[0.0, 2.0], [1.0, 3.0]]


def test_a_model_and_its_optimizer_saved_whole_keep_shared_parameters():
    model = ember.nn.Sequential(ember.nn.Linear(3, 3), ember.nn.Linear(3, 3))
    model[1].weight = model[0].weight  # tied weights
    optimizer = ember.optim.Adam(model.parameters(), lr=0.01)
    model(ember.ones(2, 3)).sum().backward()
    optimizer.step()
    back = ember.load(_to_torch_file({"model": model, "optimizer": optimizer, "epoch": 3}), weights_only=False)
    assert back["model"][1].weight is back["model"][0].weight
    assert back["optimizer"].param_groups[0]["params"][0] is back["model"][0].weight
    state = back["optimizer"].state_dict()["state"][0]
    np.testing.assert_array_equal(state["exp_avg"].numpy(), optimizer.state_dict()["state"][0]["exp_avg"].numpy())


_WITHOUT_TORCH = """
import sys
sys.modules["torch"] = None  # any import of torch now fails
import ember
for path in sys.argv[1:]:
    loaded = ember.load(path)
    ember.save(loaded, path + ".again")
    print(sorted(loaded), ember.load(path + ".again")["w"].tolist())
"""


def test_reading_and_writing_need_no_torch(torch, tmp_path):
    import subprocess
    import sys
    state = {"w": torch.arange(3.0)}
    torch.save(state, tmp_path / "zip.pt")
    torch.save(state, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    result = subprocess.run([sys.executable, "-c", _WITHOUT_TORCH, str(tmp_path / "zip.pt"), str(tmp_path / "legacy.pt")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["['w'] [0.0, 1.0, 2.0]"] * 2


class _Pipe:
    """A write-only stream without tell or seek, like a pipe."""

    def __init__(self):
        self.chunks = []

    def write(self, data):
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self):
        pass


def test_saving_to_a_stream_that_cannot_seek_gives_a_file_torch_reads(torch):
    pipe = _Pipe()
    ember.save({"w": ember.arange(5.0)}, pipe)
    data = b"".join(pipe.chunks)
    assert torch.load(io.BytesIO(data))["w"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert ember.load(io.BytesIO(data))["w"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_get_unsafe_globals_in_checkpoint_lists_what_weights_only_refuses():
    from ember import serialization
    data = _to_torch_file({"p": Point(1), "w": ember.ones(1), "m": ember.nn.ReLU()}).getvalue()
    unsafe = serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(data))
    assert f"{__name__}.Point" in unsafe and "ember_nn.activation.ReLU" in unsafe
    assert not any(g.startswith(("torch.", "collections.")) for g in unsafe)
    with serialization.safe_globals([Point]):
        assert f"{__name__}.Point" not in serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(data))
