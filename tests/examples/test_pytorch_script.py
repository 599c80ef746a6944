"""A PyTorch script runs on ember with only its imports changed, and learns."""

import pathlib
import re
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "examples" / "pytorch_script.py"


def test_a_pytorch_style_script_runs_and_learns(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "ckpt.pt")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    accuracy, lr, epoch = re.fullmatch(r"accuracy ([0-9.]+) lr ([0-9.]+) epoch (\d+)\s*", result.stdout).groups()
    assert float(accuracy) > 0.75 and float(lr) == 0.0025 and epoch == "4"


def test_switches_scripts_set_exist_and_compile_is_the_identity():
    import ember as torch
    torch.backends.cudnn.benchmark = True
    assert torch.backends.cudnn.is_available() is False and torch.backends.mps.is_available() is False
    model = torch.nn.Linear(2, 2)
    assert torch.compile(model) is model
    assert torch.compile(mode="max-autotune")(model) is model
