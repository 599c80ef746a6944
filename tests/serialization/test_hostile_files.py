"""Hostile and damaged checkpoints: each is one CheckpointError (or, for a refused global, an
UnpicklingError as PyTorch raises) naming the file; nothing in them runs; nothing is read or
allocated beyond what the file holds."""

import io
import os
import pickle
import random
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember.serialization import CheckpointError, WeightsOnlyError
from ember.serialization.pickler import REBUILD_TENSOR_V2, TorchName, TorchNamesPickler

FLOAT = TorchName("torch", "FloatStorage")


class _Call:
    """Pickles as ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class _Pid:
    def __init__(self, *pid):
        self.pid = pid


class _CraftingPickler(TorchNamesPickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, _Pid) else None


def _pickle(obj) -> bytes:
    buffer = io.BytesIO()
    _CraftingPickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def _zip(data_pkl: bytes, records=None, byteorder=b"little") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("archive/data.pkl", data_pkl)
        archive.writestr("archive/byteorder", byteorder)
        for name, data in (records or {}).items():
            archive.writestr(f"archive/{name}", data)
        archive.writestr("archive/version", b"3\n")
    return out.getvalue()


def _legacy(main: bytes, keys=(), storages=b"") -> bytes:
    header = b"".join(pickle.dumps(x, protocol=2) for x in
                      (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}))
    return header + main + pickle.dumps(list(keys), protocol=2) + storages


def _tensor(pid, offset=0, size=(4,), stride=(1,)):
    return _Call(REBUILD_TENSOR_V2, _Pid(*pid), offset, size, stride, False, OrderedDict())


def _load(tmp_path, data: bytes, **kwargs):
    path = tmp_path / "hostile.pt"
    path.write_bytes(data)
    return ember.load(path, **kwargs)


class _Payload:
    def __reduce__(self):
        return os.system, ("touch pwned-marker",)


class _EvalPayload:
    def __reduce__(self):
        return eval, ("__import__('os').system('touch pwned-marker')",)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    assert not (tmp_path / "pwned-marker").exists(), "a payload ran"


@pytest.mark.parametrize("payload,refused", [(_Payload, r"posix\.system|os\.system"), (_EvalPayload, "builtins.eval")])
@pytest.mark.parametrize("protocol", [2, 4])
def test_a_pickle_payload_in_a_zip_checkpoint_is_refused_before_it_runs(in_tmp, payload, refused, protocol):
    data = _zip(pickle.dumps({"w": payload()}, protocol=protocol))
    with pytest.raises(pickle.UnpicklingError, match=f"hostile.pt.*refused the global ({refused})"):
        _load(in_tmp, data)


@pytest.mark.parametrize("where", ["main", "magic"])
def test_a_pickle_payload_in_a_legacy_checkpoint_is_refused_before_it_runs(in_tmp, where):
    if where == "main":
        data = _legacy(pickle.dumps({"w": _Payload()}, protocol=2))
        with pytest.raises(WeightsOnlyError, match="refused the global"):
            _load(in_tmp, data)
    else:
        data = pickle.dumps(_Payload(), protocol=2) + _legacy(b"N.")
        with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
            _load(in_tmp, data)
        with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):  # the header is never trusted
            _load(in_tmp, data, weights_only=False)


def test_a_plain_pickle_is_not_a_checkpoint_even_with_weights_only_false(in_tmp):
    with pytest.raises(CheckpointError, match="hostile.pt is a pickle but not a PyTorch checkpoint"):
        _load(in_tmp, pickle.dumps(_Payload()), weights_only=False)


@pytest.mark.parametrize("opcodes,why", [
    (b"\x80\x02cos\nsystem\n.", "refused the global os.system"),
    (b"\x80\x02(X\x02\x00\x00\x00lsios\nsystem\n.", "INST"),  # INST: a class found by name, called at once
    (b"\x80\x02\x82\x01.", "EXT1"),  # the copyreg extension registry
    (b"\x80\x02ctorch\nFloatStorage\n)R.", "refused to call"),  # allowed name, but not a callable
    (b"\x80\x02ccollections\nOrderedDict\n)R]b.", "BUILD state"),
    (b"\x80\x02N]a.", "append to lists"),
    (b"\x80\x02NNNs.", "set items of dicts"),
    (b"\x80\x02\x8c\x02os\x8c\x06system\x93.", "refused the global os.system"),
])
def test_opcodes_outside_a_state_dict_are_refused(in_tmp, opcodes, why):
    with pytest.raises(CheckpointError, match=why):
        _load(in_tmp, _zip(opcodes))


@pytest.mark.parametrize("obj,message", [
    ({"w": _tensor(("storage", FLOAT, "0", "cpu", 10 ** 12))}, "should hold 1000000000000 float32"),
    ({"w": _tensor(("storage", FLOAT, "7", "cpu", 4))}, "no record 'data/7'"),
    ({"w": _tensor(("storage", FLOAT, "0", "cpu", 4), size=(10,))}, "reaches element 9 of a storage of 4"),
    ({"w": _tensor(("storage", FLOAT, "0", "cpu", 4), offset=5, size=(0,))}, "offset 5 is past"),
    ({"w": _tensor(("storage", FLOAT, "0", "cpu", 4), size=(2,), stride=(-1,))}, "negative"),
    ({"w": _tensor(("storage", FLOAT, "0", "cpu", 4), size="abcd")}, "size must be a tuple of ints"),
    ({"w": _tensor(("storage", FLOAT, "0", "cpu", 4), size=((2,),))}, "size must be a tuple of ints"),
    ({"w": _tensor(("storage", FLOAT, "0", "cpu", 4), size=(2, 2), stride=(1,))}, "different lengths"),
    ({"w": _tensor(("storage", FLOAT, "0", "cpu", 4), offset=1.5)}, "offset must be an int"),
    ({"w": _tensor(("storage", "FloatStorage", "0", "cpu", 4))}, "storage's type must be a torch storage class"),
    ({"w": _tensor(("storage", FLOAT, "0", "xpu:99", 4))}, "xpu:99"),
    ({"w": _tensor(("storage", FLOAT, ["0"], "cpu", 4))}, "malformed storage id"),
    ({"w": _tensor(("storage", FLOAT, "0", "cpu"))}, "persistent id must be"),
    ({"w": _tensor(("module", FLOAT, "0", "cpu", 4))}, "unknown persistent id kind"),
    ({"w": _Pid(7)}, "only resolves persistent ids of storages"),
    ({"w": _Call(REBUILD_TENSOR_V2, "not a storage", 0, (1,), (1,), False, OrderedDict())}, "stored storage"),
    ({"w": _Call(TorchName("torch", "Size"), ("a", "b"))}, "torch.Size must be a tuple of ints"),
    ({"w": _Call(TorchName("torch", "device"), "warp-drive")}, "not a device ember knows"),
    ({"w": _Call(TorchName("_codecs", "encode"), "x", "rot13")}, "only allowed as encode"),
    ({"w": _Call(TorchName("builtins", "bytearray"), 10 ** 12)}, "bytearray is only allowed from bytes"),
])
def test_crafted_structure_metadata_is_one_checkpoint_error(in_tmp, obj, message):
    data = _zip(_pickle(obj), {"data/0": np.arange(4, dtype="<f4").tobytes()})
    with pytest.raises(CheckpointError, match=message) as error:
        _load(in_tmp, data)
    assert "hostile.pt" in str(error.value) or "<checkpoint>" in str(error.value)


def test_a_record_smaller_than_its_storage_is_refused(in_tmp):
    data = _zip(_pickle({"w": _tensor(("storage", FLOAT, "0", "cpu", 4))}), {"data/0": b"\x00" * 8})
    with pytest.raises(CheckpointError, match="should hold 4 float32 elements \\(16 bytes\\) but its record has 8"):
        _load(in_tmp, data)


def test_legacy_storages_declaring_more_than_the_file_holds_are_refused_before_allocating(in_tmp):
    main = _pickle({"w": _tensor(("storage", FLOAT, "0", "cpu", 10 ** 13, None))})
    with pytest.raises(CheckpointError, match="storages declare 40000000000008 bytes but only"):
        _load(in_tmp, _legacy(main, ["0"]))


def test_a_legacy_storage_whose_data_is_missing_or_mislabelled_is_refused(in_tmp):
    main = _pickle({"w": _tensor(("storage", FLOAT, "0", "cpu", 4, None))})
    good = struct.pack("<q", 4) + np.ones(4, "<f4").tobytes()
    assert _load(in_tmp, _legacy(main, ["0"], good))["w"].tolist() == [1.0] * 4
    with pytest.raises(CheckpointError, match="holds 5 elements but the object declared 4"):
        _load(in_tmp, _legacy(main, ["0"], struct.pack("<q", 5) + good[8:] + b"\x00" * 4))
    with pytest.raises(CheckpointError, match="does not match the storages"):
        _load(in_tmp, _legacy(main, ["1"], good))
    with pytest.raises(CheckpointError, match="key list must be a list of strings"):
        _load(in_tmp, _legacy(main, [0], good))


def test_tuples_nested_deep_enough_to_crash_hashing_are_refused(in_tmp):
    bomb = b"\x80\x02}" + b")" + b"\x85" * 100_000 + b"Ns."  # {((((...)))): None}: hash() would segfault
    with pytest.raises(CheckpointError, match="nests tuples more than"):
        _load(in_tmp, _zip(bomb))


def test_deeply_nested_lists_load_as_pytorch_loads_them(in_tmp):
    data = b"\x80\x02" + b"]" * 10_000 + b"a" * 9_999 + b"."  # [[[[...]]]] 10,000 deep
    nested = _load(in_tmp, _zip(data))
    depth = 0
    while nested:
        nested, depth = nested[0], depth + 1
    assert depth == 9_999


@pytest.mark.parametrize("opcodes", [b"\x80\x02a.", b"\x80\x02t.", b"\x80\x02h\x05.", b"\x80\x02X\xff\xff\xff\x00ab.",
                                     b"\x80\x02]]]", b"\x80\x02(K\x01d.", b"\x80\x02I99999999999999999999" + b"9" * 5000 + b"\n."])
def test_malformed_pickles_are_checkpoint_errors_not_python_errors(in_tmp, opcodes):
    with pytest.raises(CheckpointError, match="hostile.pt"):
        _load(in_tmp, _zip(opcodes))


def test_dev_zero_and_a_directory_are_refused_at_once(tmp_path):
    with pytest.raises(CheckpointError, match="/dev/zero is not a regular file"):
        ember.load("/dev/zero")
    with open("/dev/zero", "rb") as handle:
        with pytest.raises(CheckpointError, match="not a checkpoint"):
            ember.load(handle)
    with pytest.raises(CheckpointError, match="is a directory"):
        ember.load(tmp_path)
    with pytest.raises(FileNotFoundError):
        ember.load(tmp_path / "missing.pt")


def test_a_safetensors_header_claiming_more_than_the_file_is_refused(in_tmp):
    header = b'{"w": {"dtype": "F32", "shape": [1000000000], "data_offsets": [0, 4000000000]}}'
    with pytest.raises(CheckpointError, match="does not fit"):
        _load(in_tmp, struct.pack("<Q", len(header)) + header + b"\x00" * 16)
    with pytest.raises(CheckpointError, match="header claims"):
        _load(in_tmp, struct.pack("<Q", 10 ** 12) + b"{" + b"\x00" * 64)


def test_structure_metadata_of_old_ember_checkpoints_nested_too_deep_is_refused(in_tmp):
    structure = "[" * 100_000 + "]" * 100_000
    header = ('{"__metadata__": {"format": "ember.checkpoint/1", "ember.structure": "%s"}}' % structure).encode()
    with pytest.raises(CheckpointError, match="hostile.pt"):
        _load(in_tmp, struct.pack("<Q", len(header)) + header)


def _valid_checkpoints():
    base = ember.arange(12.0).reshape(3, 4)
    obj = {"epoch": 3, "model": OrderedDict(w=base, t=base.t(), b=ember.ones(4, dtype=ember.int64)), "name": "x"}
    zip_buffer, legacy_buffer = io.BytesIO(), io.BytesIO()
    ember.save(obj, zip_buffer)
    ember.save(obj, legacy_buffer, _use_new_zipfile_serialization=False)
    return {"zip": zip_buffer.getvalue(), "legacy": legacy_buffer.getvalue()}


@pytest.mark.parametrize("kind", ["zip", "legacy"])
def test_every_truncation_of_a_checkpoint_is_a_checkpoint_error(tmp_path, kind):
    data = _valid_checkpoints()[kind]
    for cut in range(0, len(data), max(1, len(data) // 150)):
        with pytest.raises(CheckpointError):
            _load(tmp_path, data[:cut])


@pytest.mark.parametrize("kind", ["zip", "legacy"])
def test_random_damage_never_leaks_another_exception(tmp_path, kind):
    data = _valid_checkpoints()[kind]
    rng = random.Random(1234)
    for _ in range(int(os.environ.get("EMBER_FUZZ_CASES", 300))):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        try:
            _load(tmp_path, bytes(damaged))
        except CheckpointError:
            pass  # refused with a message: fine; loading garbage values into a tensor is fine too


def test_storages_saved_on_a_gpu_need_map_location_where_there_is_none(in_tmp):
    data = _zip(_pickle({"w": _tensor(("storage", FLOAT, "0", "cuda:0", 4))}),
                {"data/0": np.arange(4, dtype="<f4").tobytes()})
    if not ember.cuda.is_available():
        with pytest.raises(RuntimeError, match="cuda:0.*map_location='cpu'"):
            _load(in_tmp, data)
    for location in ("cpu", ember.device("cpu"), {"cuda:0": "cpu"}):
        loaded = _load(in_tmp, data, map_location=location)["w"]
        assert loaded.device == ember.device("cpu") and loaded.tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("structure", ['{"tensor": "w", "device": "warp:9"}', '{"dict": 5}', '{"float": "abc"}',
                                       '{"tensor": "missing"}', '{"dtype": "complex256"}', '{"what": 1}', '"not json'])
def test_crafted_structure_metadata_of_old_ember_checkpoints_is_one_checkpoint_error(in_tmp, structure):
    import safetensors.numpy
    data = safetensors.numpy.save({"w": np.ones(2, np.float32)},
                                  metadata={"format": "ember.checkpoint/1", "ember.structure": structure})
    with pytest.raises(CheckpointError, match="hostile.pt"):
        _load(in_tmp, data)


def _central_entry(data: bytes, name: str) -> int:
    """Where the central-directory entry of record ``name`` starts (46 bytes before its name)."""
    return data.index(name.encode(), data.index(b"PK\x01\x02")) - 46


def test_a_directory_entry_pointing_at_another_records_header_is_refused(in_tmp):
    storages = {f"data/{i}": np.arange(256, dtype="<f4").tobytes() for i in range(2)}
    obj = {f"w{i}": _tensor(("storage", FLOAT, str(i), "cpu", 256), size=(256,)) for i in range(2)}
    data = bytearray(_zip(_pickle(obj), storages))
    first = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("archive/data/0")
    entry = _central_entry(bytes(data), "archive/data/1")
    data[entry + 42:entry + 46] = struct.pack("<I", first.header_offset)
    with pytest.raises(CheckpointError, match="points at the local header of another record"):
        _load(in_tmp, bytes(data))


def test_records_that_overlap_cannot_multiply_the_file(in_tmp):
    """Records whose local headers sit inside one big record, each claiming the rest of it: a small
    file would load as many copies of itself. The storages' total is checked against the file's size."""
    count, tail = 6, 4096
    names = [f"archive/data/{k}" for k in range(1, count + 1)]
    headers = [b"PK\x03\x04" + struct.pack("<5H3L2H", 20, 0, 0, 0, 0, 0, 0, 0, len(n), 0) + n.encode()
               for n in names]
    payload = b"".join(headers) + b"\x00" * tail
    ends = [sum(len(h) for h in headers[:k + 1]) for k in range(count)]  # data of record k starts here
    byte = TorchName("torch", "ByteStorage")
    obj = {"w0": _tensor(("storage", byte, "0", "cpu", len(payload)), size=(len(payload),))}
    for k, end in enumerate(ends, start=1):
        obj[f"w{k}"] = _tensor(("storage", byte, str(k), "cpu", len(payload) - end), size=(len(payload) - end,))
    data = bytearray(_zip(_pickle(obj), {"data/0": payload, **{n[len("archive/"):]: b"" for n in names}}))
    start = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("archive/data/0").header_offset
    payload_at = bytes(data).index(payload, start)
    for k, (name, end) in enumerate(zip(names, ends)):
        entry = _central_entry(bytes(data), name)
        size = len(payload) - end
        data[entry + 20:entry + 28] = struct.pack("<2L", size, size)
        data[entry + 42:entry + 46] = struct.pack("<I", payload_at + end - len(headers[k]))
    assert (len(payload) - ends[-1]) * count > len(data) / 2
    with pytest.raises(CheckpointError, match="records overlap"):
        _load(in_tmp, bytes(data))
