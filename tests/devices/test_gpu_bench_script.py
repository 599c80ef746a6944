"""The prepared GPU benchmark (bench/bench_cuda.py) runs its own logic on the CPU, so the one GPU run a
session gets is not spent on a broken script."""

import importlib.util
import pathlib

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "bench" / "bench_cuda.py"


def test_the_gpu_benchmark_script_runs_and_checks_values_on_the_cpu(torch, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("bench_cuda", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "bench.json"
    status = bench.main(["--device", "cpu", "--only", "mlp_step_b512", "--warmup", "0", "--repeat", "1",
                         "--json", str(out)])
    assert status == 0, capsys.readouterr().out
    assert "values agree" in capsys.readouterr().out
    assert out.exists()
