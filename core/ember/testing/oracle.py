"""PyTorch as the conformance kit's oracle: imported when installed, and its absence said out loud.

Without torch, the kit still runs every check it can (finite differences, composite references,
devices, rules), then reports the PyTorch comparisons that could not run: under pytest the test is
skipped with that list as the reason, elsewhere an :class:`OracleSkippedWarning` is issued. With
``EMBER_REQUIRE_TORCH=1`` a missing torch is an ImportError instead. A check never passes as if it
had compared with PyTorch when it had not.
"""

from __future__ import annotations

import contextvars
import functools
import os
import warnings

__all__ = ["OracleSkippedWarning", "torch_or_none", "not_compared", "reports_missing_oracle"]

_missing: contextvars.ContextVar = contextvars.ContextVar("ember_missing_oracle", default=None)


class OracleSkippedWarning(UserWarning):
    """A conformance check ran without its PyTorch comparison because torch is not installed."""


def torch_or_none():
    """The ``torch`` module, or None when it is not installed (ImportError if EMBER_REQUIRE_TORCH=1)."""
    try:
        import torch
    except ImportError:
        if os.environ.get("EMBER_REQUIRE_TORCH") == "1":
            raise ImportError("EMBER_REQUIRE_TORCH=1, but torch is not installed: the conformance kit compares "
                              "with PyTorch; pip install torch") from None
        return None
    return torch


def not_compared(what: str) -> None:
    """Record that ``what`` (e.g. "op 'clamp' against torch.clamp") was not compared with PyTorch."""
    notes = _missing.get()
    if notes is None:
        _report([what])
    elif what not in notes:
        notes.append(what)


def _report(notes: list[str]) -> None:
    if not notes:
        return
    reason = (f"the PyTorch comparison did not run, torch is not installed: {'; '.join(notes)} (every other "
              f"check passed). Install torch (pip install torch, or the plugin's test extra), or set "
              f"EMBER_REQUIRE_TORCH=1 to make this a failure")
    if "PYTEST_CURRENT_TEST" in os.environ:
        import pytest
        pytest.skip(reason)
    warnings.warn(reason, OracleSkippedWarning, stacklevel=3)


def reports_missing_oracle(check):
    """Decorate a ``check_*`` function: comparisons skipped inside it (and inside checks it calls) are
    reported once, after it returns, as a skip under pytest or a warning elsewhere."""
    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        if _missing.get() is not None:  # an enclosing check reports
            return check(*args, **kwargs)
        notes: list[str] = []
        token = _missing.set(notes)
        try:
            result = check(*args, **kwargs)
        finally:
            _missing.reset(token)
        _report(notes)
        return result
    return wrapper
