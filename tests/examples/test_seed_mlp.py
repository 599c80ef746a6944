"""The mission's seed program: it runs unchanged but for its imports, its loss falls, and three
training steps from identical weights give PyTorch's losses."""

import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import ember

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "seed_mlp.py"


def test_seed_example_runs_and_its_loss_falls():
    result = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    losses = [float(x) for x in re.findall(r"Epoch \d+, Loss: ([0-9.]+)", result.stdout)]
    assert len(losses) == 10 and result.stdout.strip().endswith("Finished Training")
    assert losses[-1] < 0.5 * losses[0]


class Net(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = ember.nn.Linear(28 * 28, 512)
        self.fc2 = ember.nn.Linear(512, 10)

    def forward(self, x):
        return self.fc2(ember.relu(self.fc1(ember.flatten(x, 1))))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_three_training_steps_match_pytorch(torch, dtype):
    ember.manual_seed(0)
    model = Net().to(getattr(ember, dtype))
    tmodel = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                 torch.nn.Linear(512, 10)).to(getattr(torch, dtype))
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    tmodel.load_state_dict({k.replace("fc1", "1").replace("fc2", "3"): torch.from_numpy(v.copy())
                            for k, v in state.items()})
    optimizer = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    toptimizer = torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9)
    criterion, tcriterion = ember.nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    for step in range(3):
        images = rng.standard_normal((16, 1, 28, 28)).astype(dtype)
        labels = rng.integers(0, 10, 16)
        optimizer.zero_grad()
        loss = criterion(model(ember.from_numpy(images)), ember.from_numpy(labels))
        loss.backward()
        optimizer.step()
        toptimizer.zero_grad()
        tloss = tcriterion(tmodel(torch.from_numpy(images)), torch.from_numpy(labels))
        tloss.backward()
        toptimizer.step()
        assert abs(loss.item() - tloss.item()) < 1e-5, f"step {step}: {loss.item()} vs {tloss.item()}"
    tweights = tmodel[1].weight.detach().numpy()
    np.testing.assert_allclose(model.fc1.weight.detach().numpy(), tweights, rtol=1e-4, atol=1e-5)


def test_linear_layer_rejects_a_wrong_feature_size_naming_both():
    layer = ember.nn.Linear(784, 512)
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=784.*\(64, 100\)"):
        layer(ember.zeros(64, 100))


def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"matmul\(\): mat1 and mat2 shapes cannot be multiplied \(64x784 and 512x10\)"):
        ember.zeros(64, 784) @ ember.zeros(512, 10)
