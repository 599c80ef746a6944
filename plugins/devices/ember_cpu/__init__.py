"""ember's CPU device: numpy arrays, numpy's PCG64 random streams. Always available."""

from __future__ import annotations

import numpy as np

import ember
from ember.device import Backend


class NumpyStream:
    """A seeded random stream over numpy's Generator, with the methods ember's factories call.

    Shared by every numpy-backed device (the CPU and the test reference device).
    """

    def __init__(self, seed: int):
        self._rng = np.random.Generator(np.random.PCG64(seed))

    def random(self, shape, dtype):
        return self._rng.random(shape, dtype=np.float64).astype(dtype, copy=False)

    def normal(self, shape, dtype):
        return self._rng.standard_normal(shape, dtype=np.float64).astype(dtype, copy=False)

    def integers(self, low, high, shape, dtype):
        return self._rng.integers(low, high, shape, dtype=np.int64).astype(dtype, copy=False)

    def permutation(self, n):
        return self._rng.permutation(n).astype(np.int64)

    def get_state(self) -> dict:
        state = self._rng.bit_generator.state
        return {"bit_generator": state["bit_generator"], "state": {k: str(v) for k, v in state["state"].items()},
                "has_uint32": state["has_uint32"], "uinteger": state["uinteger"]}

    def set_state(self, state: dict) -> None:
        self._rng.bit_generator.state = {
            "bit_generator": state["bit_generator"],
            "state": {k: int(v) for k, v in state["state"].items()},
            "has_uint32": state["has_uint32"], "uinteger": state["uinteger"]}


class CPUBackend(Backend):
    """The host: arrays are numpy arrays, so ``to_host`` is free and ``from_host`` copies."""

    type = "cpu"
    xp = np

    def is_available(self) -> bool:
        return True

    def from_host(self, array: np.ndarray, index: int):
        return np.array(array, copy=True)

    def to_host(self, array) -> np.ndarray:
        return array

    def generator(self, seed: int, index: int) -> NumpyStream:
        return NumpyStream(seed)

    def memory_allocated(self, index: int) -> int:
        return 0


@ember.hookimpl
def ember_register_devices(registry):
    registry.register(CPUBackend())
