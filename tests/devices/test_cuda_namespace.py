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
