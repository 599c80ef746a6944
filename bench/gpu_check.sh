#!/usr/bin/env bash
# The one GPU check of the CUDA plugin (issue 16), prepared to run in a single call on a machine with an
# NVIDIA GPU, CuPy and torch: the conformance suite on "cuda" (oracle: torch), then the GPU workloads
# against PyTorch CUDA. Logs go to $OUT (or ./gpu-out). Budget: about 8 minutes.
#   bash bench/gpu_check.sh
set -uo pipefail
out=${OUT:-gpu-out}; mkdir -p "$out"
export PYTHONUNBUFFERED=1 EMBER_REQUIRE_TORCH=1
python -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | tail -2
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python -c "import cupy, ember; print('cupy', cupy.__version__, 'ember cuda available:', ember.cuda.is_available(), ember.cuda.unavailable_reason())" | tee -a "$out/gpu.txt"
timeout 420 python -m pytest -q -x --ember-device=cuda tests/ops tests/layers tests/optimizers tests/devices \
  -p no:cacheprovider 2>&1 | tee "$out/pytest-cuda.log" | tail -30
timeout 150 python bench/bench_cuda.py --json "$out/bench-cuda.json" 2>&1 | tee "$out/bench-cuda.log"
