"""ember's CUDA device on CuPy (optional: ``pip install ember[cuda]``).

The backend is registered whether or not CuPy is installed, so ``ember.device("cuda")`` gives a clear
"not available" error instead of "unknown device"; CuPy is imported only when a CUDA tensor is made.
"""

from __future__ import annotations

import importlib.util

import numpy as np

import ember
from ember.device import Backend


class CupyStream:
    """A seeded random stream on one GPU, over cupy's Generator."""

    def __init__(self, seed: int, index: int):
        import cupy
        self._cupy = cupy
        self._index = index
        with cupy.cuda.Device(index):
            self._rng = cupy.random.Generator(cupy.random.XORWOW(seed))

    def random(self, shape, dtype):
        with self._cupy.cuda.Device(self._index):
            return self._rng.random(shape, dtype=np.float64).astype(dtype, copy=False)

    def normal(self, shape, dtype):
        with self._cupy.cuda.Device(self._index):
            return self._rng.standard_normal(shape, dtype=np.float64).astype(dtype, copy=False)

    def integers(self, low, high, shape, dtype):
        with self._cupy.cuda.Device(self._index):
            return self._rng.integers(low, high, shape, dtype=np.int64).astype(dtype, copy=False)

    def permutation(self, n):
        with self._cupy.cuda.Device(self._index):
            return self._rng.permutation(n).astype(np.int64)

    def get_state(self) -> dict:
        raise NotImplementedError("saving the state of a CUDA generator is not supported yet")

    def set_state(self, state: dict) -> None:
        raise NotImplementedError("restoring the state of a CUDA generator is not supported yet")


class CudaBackend(Backend):
    type = "cuda"

    def is_available(self) -> bool:
        return self.unavailable_reason() is None

    def unavailable_reason(self) -> str | None:
        """Why CUDA can't be used here, checked in the order a user would fix it: CuPy installed,
        CuPy importable (its CUDA libraries found), a driver that reports at least one GPU."""
        if importlib.util.find_spec("cupy") is None:
            return "CuPy is not installed (pip install 'ember[cuda]' installs cupy-cuda12x)"
        try:
            import cupy
        except Exception as exc:  # a broken CUDA toolkit shows up here, e.g. a missing libcudart
            return f"CuPy is installed but failed to import: {type(exc).__name__}: {exc}"
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # no driver, or the driver is older than CuPy's CUDA
            return f"CuPy found no usable CUDA driver: {type(exc).__name__}: {exc}"
        return None if count > 0 else "the CUDA driver reports no GPU"

    def device_count(self) -> int:
        if not self.is_available():
            return 0
        import cupy
        return cupy.cuda.runtime.getDeviceCount()

    @property
    def xp(self):
        import cupy
        return cupy

    def from_host(self, array: np.ndarray, index: int):
        import cupy
        with cupy.cuda.Device(index):
            return cupy.array(array, copy=True)

    def to_host(self, array) -> np.ndarray:
        return array.get()

    def generator(self, seed: int, index: int) -> CupyStream:
        return CupyStream(seed, index)

    def synchronize(self, index: int) -> None:
        import cupy
        with cupy.cuda.Device(index):
            cupy.cuda.runtime.deviceSynchronize()

    def memory_allocated(self, index: int) -> int:
        import cupy
        return cupy.get_default_memory_pool().used_bytes()


@ember.hookimpl
def ember_register_devices(registry):
    registry.register(CudaBackend())
