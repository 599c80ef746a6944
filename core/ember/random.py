"""Seeded random number generation: ``ember.Generator``, ``manual_seed`` and the default generators.

Each device backend supplies the actual generator (numpy's PCG64 on the CPU); this module gives it
PyTorch's interface and keeps one default generator per device. Streams do not match PyTorch's:
seeding makes ember reproducible with itself, not bit-identical to torch.
"""

from __future__ import annotations

import json
import os
import threading

import numpy as np

from . import dtypes
from .device import canonical as _canonical, device as _device, resolve as _resolve
from .tensor import wrap

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
           "default_generator", "NumpyStream"]

DEFAULT_SEED = 67280421310721  # PyTorch's default CPU seed


class Generator:
    """A random stream on one device (``torch.Generator``): ``manual_seed``, ``seed``, ``initial_seed``,
    ``get_state``/``set_state``. The backend stream is created on first use, so making a CUDA generator
    does not import cupy."""

    def __init__(self, device="cpu"):
        self.device = _canonical(device)
        self._seed = DEFAULT_SEED
        self._stream = None

    def manual_seed(self, seed) -> "Generator":
        seed = int(seed)
        if seed < 0:
            seed += 1 << 64  # as PyTorch: negative seeds wrap
        self._seed = seed
        self._stream = None
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy and return the seed used."""
        self.manual_seed(int.from_bytes(os.urandom(8), "little") >> 1)
        return self._seed

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with (``torch.Generator.initial_seed``)."""
        return self._seed

    @property
    def stream(self):
        """The backend's generator object (``random``, ``normal``, ``integers``, ``permutation``).

        Made once under a lock: two threads drawing first at the same time must share one stream, or
        the draws of one would come from a stream that is then thrown away."""
        stream = self._stream
        if stream is None:
            with _creation_lock:
                if self._stream is None:
                    dev = _resolve(self.device)
                    self._stream = dev.backend.generator(self._seed, dev.ordinal)
                stream = self._stream
        return stream

    def get_state(self):
        """The full state as a uint8 tensor (as PyTorch returns), so it can be saved with ``ember.save``."""
        blob = json.dumps({"seed": self._seed, "stream": self.stream.get_state()}).encode()
        return wrap(np.frombuffer(blob, dtype=dtypes.uint8.numpy).copy(), _resolve("cpu"))

    def set_state(self, state) -> "Generator":
        """Restore a state from :meth:`get_state`; returns this generator (``torch.Generator.set_state``)."""
        blob = json.loads(bytes(state.tolist()).decode())
        self._seed = blob["seed"]
        self.stream.set_state(blob["stream"])
        return self

    def __repr__(self) -> str:
        return f"<ember.Generator device={self.device} seed={self._seed}>"


class NumpyStream:
    """A seeded random stream over numpy's PCG64 Generator, with the methods ember's factories call.

    For device backends whose arrays are numpy's (the CPU plugin, the test reference device): a backend's
    ``generator(seed, index)`` returns one.
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


_defaults: dict = {}
# Guards the first creation of default generators and streams. Draws themselves need no lock here: the
# backends' generators (numpy's, cupy's) serialise their own state.
_creation_lock = threading.Lock()


def default_generator(device=None) -> Generator:
    """The generator that ``rand``/``randn``/``dropout`` use on ``device`` when none is passed."""
    dev = _canonical(device)
    gen = _defaults.get(dev)
    if gen is None:
        with _creation_lock:
            gen = _defaults.get(dev)
            if gen is None:
                gen = _defaults[dev] = Generator(dev)
    return gen


def manual_seed(seed) -> Generator:
    """Seed the default generator of every registered device (``torch.manual_seed``); returns the CPU one."""
    for backend_type in list(_device._backends):
        default_generator(backend_type).manual_seed(seed)
    for gen in list(_defaults.values()):  # a copy: another thread may add a device's generator meanwhile
        gen.manual_seed(seed)
    return default_generator("cpu")


def seed() -> int:
    """Seed the default CPU generator from the operating system's entropy and return the seed (``torch.seed``)."""
    s = default_generator("cpu").seed()
    manual_seed(s)
    return s


def initial_seed() -> int:
    """The seed the default CPU generator was last seeded with (``torch.initial_seed``)."""
    return default_generator("cpu").initial_seed()


def get_rng_state():
    """The default CPU generator's state as a uint8 tensor, for :func:`set_rng_state` or ``ember.save``
    (``torch.get_rng_state``)."""
    return default_generator("cpu").get_state()


def set_rng_state(state) -> None:
    """Restore the default CPU generator to a state from :func:`get_rng_state` (``torch.set_rng_state``)."""
    default_generator("cpu").set_state(state)
