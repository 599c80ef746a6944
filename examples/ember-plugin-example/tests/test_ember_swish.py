"""ember-swish's tests: the conformance kit checks everything the plugin registered (one line), and a
few tests state what is specific to swish and Lion."""

import numpy as np
import pytest

import ember
from ember.testing import assert_close, check_plugin


def test_everything_the_plugin_registered_conforms():
    assert check_plugin("swish") == {"ops": 1, "layers": 1, "optimizers": 1}


def test_installed_names_are_where_users_look():
    assert ember.swish is ember.nn.functional.swish
    assert hasattr(ember.Tensor, "swish")
    assert ember.nn.Swish.__module__ == "ember_swish.layers"
    assert ember.optim.Lion.__module__ == "ember_swish.lion"


def test_ember_plugins_lists_the_distribution_with_its_version():
    info = {i.name: i for i in ember.plugins.report()}["swish"]
    assert (info.distribution, info.version, info.status) == ("ember-swish", "0.1.0", "loaded")
    assert info.registered == {"ops": ["swish"], "layers": ["Swish"], "optimizers": ["Lion"]}


def test_swish_with_beta_one_is_silu():
    torch = pytest.importorskip("torch")
    x = np.linspace(-4, 4, 9)
    assert_close(ember.swish(ember.tensor(x), 1.0), torch.nn.functional.silu(torch.tensor(x, dtype=torch.float32)))


def test_swish_beta_is_learnable_in_the_layer():
    layer = ember.nn.Swish()
    layer(ember.tensor([1.0, -2.0, 3.0])).sum().backward()
    x = np.array([1.0, -2.0, 3.0])
    s = 1 / (1 + np.exp(-x))
    assert_close(layer.beta.grad, [np.sum(x * x * s * (1 - s))], rtol=1e-5, atol=1e-6)


def test_swish_refuses_a_non_tensor_input():
    with pytest.raises(TypeError, match="swish.*input"):
        ember.swish([1.0, 2.0])


def test_lion_moves_every_coordinate_by_the_learning_rate_on_the_first_step():
    p = ember.tensor([1.0, -1.0, 0.5], requires_grad=True)
    optimizer = ember.optim.Lion([p], lr=0.1)
    (p * ember.tensor([3.0, -0.01, 2.0])).sum().backward()
    optimizer.step()
    assert_close(p, [0.9, -0.9, 0.4])


def test_lion_runs_on_every_available_device(ember_device_name):
    device = ember_device_name
    p = ember.tensor([1.0, -1.0], device=device, requires_grad=True)
    optimizer = ember.optim.Lion([p], lr=0.1)
    (p * p).sum().backward()
    optimizer.step()
    assert p.device == ember.device(device)
    assert optimizer.state[p]["exp_avg"].device == p.device


def test_ember_train_uses_the_plugins_optimizer():
    import json
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-m", "ember.cli", "train", "--optimizer", "lion", "--lr", "0.001",
                             "--epochs", "1", "--json"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["config"]["optimizer"].lower() == "lion"
    assert 0.0 <= summary["test_accuracy"] <= 1.0 and summary["history"]
