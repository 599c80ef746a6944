"""``ember.utils.tensorboard.SummaryWriter`` writes event files TensorBoard can read: each record is
read back here with its checksums verified and parsed as TensorBoard's ``Event`` protobuf."""

import os
import struct

import numpy as np
import pytest

import ember
from ember.cli import main
from ember.utils.tensorboard import SummaryWriter

tensorboardX = pytest.importorskip("tensorboardX", reason="SummaryWriter needs tensorboardX "
                                                          "(pip install 'ember[tensorboard]')")


def _records(path):
    """The payloads of a TFRecord file (TensorBoard's event file framing), checksums verified."""
    from tensorboardX.record_writer import masked_crc32c
    data = open(path, "rb").read()
    pos = 0
    while pos < len(data):
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        payload = data[pos + 12:pos + 12 + length]
        (payload_crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        assert header_crc == masked_crc32c(header) and payload_crc == masked_crc32c(payload), path
        yield payload
        pos += 16 + length


def read_events(log_dir):
    """{(run, tag): [(step, summary value)]} of every event file under ``log_dir`` (run: its subfolder)."""
    from tensorboardX.proto.event_pb2 import Event
    found = {}
    for folder, _, files in os.walk(log_dir):
        run = os.path.relpath(folder, log_dir)
        for name in sorted(files):
            assert name.startswith("events.out.tfevents."), name
            for payload in _records(os.path.join(folder, name)):
                event = Event.FromString(payload)
                for value in event.summary.value:
                    found.setdefault((run, value.tag), []).append((event.step, value))
    return found


def scalars(events, run, tag):
    return [(step, value.simple_value) for step, value in events[(run, tag)]]


def test_scalars_from_tensors_and_numbers_are_written(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalar("loss", ember.tensor(1.0 / (step + 1)), step)
        writer.add_scalar("lr", 0.5, 0)
    events = read_events(tmp_path)
    assert scalars(events, ".", "loss") == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    assert scalars(events, ".", "lr") == [(0, 0.5)]


def test_add_scalars_puts_each_curve_in_its_own_run_as_pytorch(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalars("Loss", {"train": ember.tensor(0.25), "test": 0.5}, 4)
    events = read_events(tmp_path)
    assert scalars(events, os.path.join("Loss", "train"), "Loss") == [(4, 0.25)]
    assert scalars(events, os.path.join("Loss", "test"), "Loss") == [(4, 0.5)]


def test_histogram_counts_every_value(tmp_path):
    values = ember.randn(1000)
    with SummaryWriter(tmp_path) as writer:
        writer.add_histogram("weights", values, 7)
    ((step, value),) = read_events(tmp_path)[(".", "weights")]
    histogram = value.histo
    assert step == 7 and histogram.num == 1000 and sum(histogram.bucket) == 1000
    assert histogram.min == pytest.approx(float(values.min())) and histogram.max == pytest.approx(float(values.max()))


def test_image_is_a_png_of_the_right_size(tmp_path):
    image = ember.rand(3, 6, 5)
    with SummaryWriter(tmp_path) as writer:
        writer.add_image("sample", image, 0)
        writer.add_image("gray", ember.rand(6, 5), 0, dataformats="HW")
    events = read_events(tmp_path)
    for tag in ("sample", "gray"):
        ((_, value),) = events[(".", tag)]
        assert (value.image.height, value.image.width) == (6, 5)
        assert value.image.encoded_image_string.startswith(b"\x89PNG")


def test_scalar_of_several_values_is_refused(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match=r"add_scalar: expected a single value, got .* shape \(2,\)"):
            writer.add_scalar("x", ember.ones(2))


def test_add_graph_says_why_it_is_not_available(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(NotImplementedError, match="no JIT tracer"):
            writer.add_graph(ember.nn.Linear(2, 2), ember.ones(1, 2))


def test_log_dir_defaults_to_runs_as_pytorch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="-x")
    writer.close()
    assert writer.get_logdir().startswith("runs" + os.sep) and writer.get_logdir().endswith("-x")


def test_ember_train_tensorboard_logs_the_runs_curves(tmp_path, capsys):
    code = main(["train", "--epochs", "2", "--json", "--tensorboard", str(tmp_path / "tb")])
    assert code == 0, capsys.readouterr().err
    events = read_events(tmp_path / "tb")
    test_accuracy = scalars(events, os.path.join("Accuracy", "test"), "Accuracy")
    assert [step for step, _ in test_accuracy] == [1, 2] and all(0 <= v <= 1 for _, v in test_accuracy)
    summary = __import__("json").loads(capsys.readouterr().out)
    assert test_accuracy[-1][1] == pytest.approx(summary["test_accuracy"])
    assert (".", "weights/1.weight") in events and (os.path.join("Loss", "train"), "Loss") in events
    assert np.isfinite([v for _, v in scalars(events, os.path.join("Loss", "train"), "Loss")]).all()
