"""ember's CPU device: numpy arrays, numpy's PCG64 random streams. Always available."""

from __future__ import annotations

import numpy as np

import ember
from ember.device import Backend
from ember.random import NumpyStream


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
