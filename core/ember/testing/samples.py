"""``SampleMaker``: the ``make`` that op and layer samples call to build inputs on a device and dtype."""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..creation import tensor
from ..tensor import Tensor


class SampleMaker:
    """Builds seeded sample tensors on ``device`` in ``dtype``.

    ``make(2, 3)`` is a (2, 3) tensor of values in [-2, 2) that requires grad (when floating);
    ``make.index([0, 2])`` an integer (or bool) tensor for indexing and targets.
    """

    def __init__(self, device="cpu", dtype=_dt.float64, seed: int = 0):
        self.device = device
        self.dtype = _dt.as_dtype(dtype)
        self._rng = np.random.default_rng(seed)

    def __call__(self, *shape, low: float = -2.0, high: float = 2.0, requires_grad: bool = True, dtype=None,
                 noncontiguous: bool = False, away_from_zero: bool = False) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        dtype = self.dtype if dtype is None else _dt.as_dtype(dtype)
        build = shape[:-2] + (shape[-1], shape[-2]) if noncontiguous and len(shape) >= 2 else shape
        values = self._rng.uniform(low, high, size=build)
        if away_from_zero:
            values = np.where(np.abs(values) < 0.2, np.sign(values + 1e-12) * 0.2 + values, values)
        if not dtype.is_floating_point:
            values = np.floor(values)
        t = tensor(values.astype(dtype.numpy), device=self.device)
        if noncontiguous and len(shape) >= 2:
            t = t.transpose(-2, -1)
        t = t.detach()
        if requires_grad and dtype.is_floating_point:
            t.requires_grad_(True)
        return t

    def tensor(self, values, requires_grad: bool = True, dtype=None) -> Tensor:
        """A tensor of exactly ``values`` (extremes for stability cases) in the sample dtype, a leaf that
        requires grad when floating."""
        dtype = self.dtype if dtype is None else _dt.as_dtype(dtype)
        t = tensor(np.asarray(values).astype(dtype.numpy), device=self.device)
        return t.requires_grad_(True) if requires_grad and dtype.is_floating_point else t

    def index(self, values, dtype=None) -> Tensor:
        """An integer (or bool, for boolean data) tensor that never requires grad."""
        arr = np.asarray(values)
        if dtype is None:
            dtype = _dt.bool if arr.dtype == np.bool_ else _dt.int64
        return tensor(arr, dtype=dtype, device=self.device)

    def __repr__(self) -> str:
        return f"SampleMaker(device={self.device!s}, dtype={self.dtype})"
