"""Device-generic behaviour, run once per available device through the kit's ``device`` fixture: on
every machine that is the CPU and the numpy-backed reference device ``ref``, plus CUDA where present."""

import numpy as np
import pytest

import ember
from ember.testing import assert_close, available_devices


def other_device(device):
    """A second device to move things to: the CPU, or from the CPU any other available device."""
    if device != "cpu":
        return "cpu"
    others = [d for d in available_devices() if d != "cpu"]
    if not others:
        pytest.skip("needs a second device (run without --ember-no-reference-device)")
    return others[0]


def test_tensor_made_on_a_device_stays_there_through_ops(device):
    x = ember.tensor([[1.0, -2.0], [3.0, 4.0]], device=device)
    y = (x * 2 + 1).relu().sum(0)
    assert y.device == ember.device(device)
    assert_close(y.cpu(), [10.0, 9.0])


def test_transfer_round_trip_copies_the_data(device):
    host = ember.tensor([1.0, 2.0, 3.0])
    moved = host.to(device)
    back = moved.to("cpu")
    assert back.device == ember.device("cpu")
    if device != "cpu":
        host.numpy()[0] = 100.0
        assert moved.cpu().tolist() == [1.0, 2.0, 3.0]
    assert back.tolist() == [1.0, 2.0, 3.0]


def test_gradient_flows_back_across_a_transfer(device):
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x.to(device) ** 2).sum().backward()
    assert x.grad.device == ember.device("cpu")
    assert_close(x.grad, [2.0, 4.0])


def test_mixing_devices_in_an_op_raises_device_error(device):
    a = ember.ones(2, 2, device=device)
    b = ember.ones(2, 2, device=other_device(device))
    with pytest.raises(ember.DeviceError, match="same device"):
        a + b


@pytest.mark.ember_device("ref")
def test_reference_device_has_two_ordinals_that_do_not_mix():
    a = ember.ones(3, device="ref:0")
    b = ember.ones(3, device="ref:1")
    with pytest.raises(ember.DeviceError, match="ref:0.*ref:1|ref:1.*ref:0"):
        a * b


def test_module_to_moves_parameters_and_buffers_in_place(device):
    model = ember.nn.Linear(3, 2)
    weight = model.weight
    assert model.to(device) is model
    assert model.weight is weight
    assert all(p.device == ember.device(device) for p in model.parameters())
    out = model(ember.ones(4, 3, device=device))
    assert out.device == ember.device(device)


def test_optimizer_state_follows_its_parameters_on_load(device):
    source = ember.nn.Linear(3, 2)
    optimizer = ember.optim.SGD(source.parameters(), lr=0.1, momentum=0.9)
    source(ember.ones(4, 3)).sum().backward()
    optimizer.step()
    saved = optimizer.state_dict()

    target = ember.nn.Linear(3, 2)
    target.load_state_dict(source.state_dict())
    target.to(device)
    moved = ember.optim.SGD(target.parameters(), lr=0.1, momentum=0.9)
    moved.load_state_dict(saved)
    for p in target.parameters():
        assert moved.state[p]["momentum_buffer"].device == p.device


def test_optimizer_step_after_loading_state_matches_the_cpu(device):
    def train(model, optimizer, dev, steps):
        for _ in range(steps):
            optimizer.zero_grad()
            model(ember.ones(4, 3, device=dev)).pow(2).sum().backward()
            optimizer.step()

    ember.manual_seed(0)
    reference = ember.nn.Linear(3, 2)
    ref_opt = ember.optim.SGD(reference.parameters(), lr=0.05, momentum=0.9)
    train(reference, ref_opt, "cpu", 2)
    state, weights = ref_opt.state_dict(), {k: v.clone() for k, v in reference.state_dict().items()}
    train(reference, ref_opt, "cpu", 1)

    model = ember.nn.Linear(3, 2)
    model.load_state_dict(weights)
    model.to(device)
    optimizer = ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    optimizer.load_state_dict(state)
    train(model, optimizer, device, 1)
    assert_close(model.weight.cpu(), reference.weight, rtol=1e-5, atol=1e-6)


def test_load_with_map_location_puts_tensors_on_the_device(device, tmp_path):
    serialization = pytest.importorskip("ember.serialization", reason="ember.save/load not available")
    if not hasattr(serialization, "load"):
        pytest.skip("ember.serialization has no load yet")
    path = tmp_path / "weights.safetensors"
    ember.save({"w": ember.tensor([[1.0, 2.0]], device=other_device(device))}, path)
    loaded = ember.load(path, map_location=device)
    assert loaded["w"].device == ember.device(device)
    assert loaded["w"].tolist() == [[1.0, 2.0]]


def test_seeded_random_numbers_repeat_on_the_device(device):
    ember.manual_seed(11)
    first = ember.randn(5, device=device)
    ember.manual_seed(11)
    assert np.array_equal(ember.randn(5, device=device).cpu().numpy(), first.cpu().numpy())


@pytest.mark.ember_device("ref")
def test_reference_device_refuses_a_host_array_inside_a_kernel():
    t = ember.ones(3, device="ref")
    with pytest.raises(ember.DeviceError, match="host numpy array"):
        t._data + np.ones(3)


@pytest.mark.ember_device("ref")
def test_reference_device_arrays_are_not_the_cpu_arrays():
    host = np.arange(3.0)
    t = ember.from_numpy(host).to("ref")
    assert type(t._data) is not np.ndarray
    with pytest.raises(TypeError, match="cpu"):
        t.numpy()
