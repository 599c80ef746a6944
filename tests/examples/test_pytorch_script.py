"""A PyTorch script runs on ember with only its imports changed, and learns."""

import pathlib
import re
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "examples" / "pytorch_script.py"


def test_a_pytorch_style_script_runs_and_learns(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "ckpt.safetensors")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    accuracy, lr, epoch = re.fullmatch(r"accuracy ([0-9.]+) lr ([0-9.]+) epoch (\d+)\s*", result.stdout).groups()
    assert float(accuracy) > 0.75 and float(lr) == 0.0025 and epoch == "4"
