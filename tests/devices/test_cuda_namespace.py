"""``ember.cuda`` answers PyTorch's questions on any machine, GPU or not."""

import pytest

import ember


def test_the_common_device_idiom_runs_everywhere():
    device = ember.device("cuda" if ember.cuda.is_available() else "cpu")
    x = ember.ones(2, device=device)
    assert x.device.type == device.type
    assert ember.cuda.device_count() >= 0
    ember.cuda.manual_seed(0)
    ember.cuda.manual_seed_all(0)


def test_questions_that_need_a_gpu_say_so_without_one():
    if ember.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert ember.cuda.device_count() == 0
    with pytest.raises(ember.DeviceError, match="no CUDA device is available"):
        ember.cuda.synchronize()


def _without_gpu():
    if ember.cuda.is_available():
        pytest.skip("this machine has a GPU")


def test_the_reason_cuda_is_unavailable_is_named_everywhere_a_user_meets_it():
    _without_gpu()
    reason = ember.cuda.unavailable_reason()
    assert reason and ("CuPy" in reason or "CUDA" in reason or "GPU" in reason)
    with pytest.raises(ember.DeviceError) as made:
        ember.zeros(2, device="cuda")
    assert "cuda:0" in str(made.value) and reason in str(made.value)
    with pytest.raises(ember.DeviceError, match="CuPy|CUDA|GPU"):
        ember.ones(2).to("cuda")
    from ember.testing.devices import unavailable_reason
    assert unavailable_reason("cuda") == reason


def test_cupy_missing_is_reported_with_the_install_command(monkeypatch):
    import importlib.util
    backend = ember.device._backends["cuda"]
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "cupy" else real_find_spec(name, *a))
    assert "pip install 'ember[cuda]'" in backend.unavailable_reason()
    assert not backend.is_available()


def test_events_and_streams_need_cuda_and_say_why():
    _without_gpu()
    with pytest.raises(RuntimeError, match="Event: no CUDA device is available"):
        ember.cuda.Event(enable_timing=True)
    with pytest.raises(RuntimeError, match="Stream: no CUDA device is available"):
        ember.cuda.Stream()
    with ember.cuda.stream(None) as s:  # PyTorch accepts an absent stream on any machine
        assert s is None


def test_ember_plugins_lists_each_device_with_its_availability(capsys):
    from ember.cli import main
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "device cpu: available" in out
    if not ember.cuda.is_available():
        assert f"device cuda: unavailable: {ember.cuda.unavailable_reason()}" in out


def test_pin_memory_needs_cuda_as_in_pytorch(torch):
    x = ember.ones(2)
    assert x.is_pinned() is torch.ones(2).is_pinned() is False
    if ember.cuda.is_available():
        pinned = x.pin_memory()
        assert pinned.is_pinned() and pinned.device.type == "cpu" and pinned.tolist() == [1.0, 1.0]
        return
    with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available"):
        x.pin_memory()
    with pytest.raises(RuntimeError, match="Cannot access accelerator device"):
        torch.ones(2).pin_memory()
