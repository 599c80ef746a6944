"""``assert_close``: tensor comparison with dtype-aware tolerances and a readable report."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor

# PyTorch's defaults for torch.testing.assert_close, by dtype.
_TOLERANCES = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def default_tolerances(*dtypes) -> tuple[float, float]:
    """(rtol, atol) for the loosest of the given dtypes; exact for integers and bools."""
    rtol, atol = 0.0, 0.0
    for d in dtypes:
        r, a = _TOLERANCES.get(str(getattr(d, "name", d)), (0.0, 0.0))
        rtol, atol = max(rtol, r), max(atol, a)
    return rtol, atol


def _to_numpy(value) -> np.ndarray:
    if isinstance(value, Tensor):
        return np.asarray(value.detach()._host())
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


def assert_close(actual, expected, *, rtol: float | None = None, atol: float | None = None,
                 equal_nan: bool = True, check_dtype: bool = False, msg: str = "") -> None:
    """Raise AssertionError unless ``|actual - expected| <= atol + rtol * |expected|`` everywhere.

    Accepts ember tensors, torch tensors, numpy arrays and numbers. The report names the shapes, the
    largest absolute and relative errors and the index where each occurs.
    """
    a, e = _to_numpy(actual), _to_numpy(expected)
    prefix = f"{msg}: " if msg else ""
    if a.shape != e.shape:
        raise AssertionError(f"{prefix}shapes differ: actual {a.shape}, expected {e.shape}")
    if check_dtype and a.dtype != e.dtype:
        raise AssertionError(f"{prefix}dtypes differ: actual {a.dtype}, expected {e.dtype}")
    if rtol is None or atol is None:
        dr, da = default_tolerances(a.dtype.name, e.dtype.name)
        rtol = dr if rtol is None else rtol
        atol = da if atol is None else atol
    if a.size == 0:
        return
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if close.all():
        return
    diff = np.abs(a64 - e64)
    diff = np.where(np.isnan(diff), np.inf, diff)
    rel = diff / np.maximum(np.abs(e64), np.finfo(np.float64).tiny)
    worst_abs = np.unravel_index(np.argmax(diff), diff.shape)
    worst_rel = np.unravel_index(np.argmax(rel), rel.shape)
    raise AssertionError(
        f"{prefix}tensors are not close: {int((~close).sum())} of {a.size} elements differ "
        f"(shape {a.shape}, rtol={rtol:g}, atol={atol:g})\n"
        f"  greatest absolute difference: {diff[worst_abs]:.6g} at index {tuple(int(i) for i in worst_abs)} "
        f"(actual {a64[worst_abs]:.8g}, expected {e64[worst_abs]:.8g})\n"
        f"  greatest relative difference: {rel[worst_rel]:.6g} at index {tuple(int(i) for i in worst_rel)} "
        f"(actual {a64[worst_rel]:.8g}, expected {e64[worst_rel]:.8g})")
