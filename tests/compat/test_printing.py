"""Tensors print as PyTorch prints them: scripts and tutorials show tensors, and `import ember as torch`
should show the same text (number format, padding, wrapping, summarising, suffixes)."""

import numpy as np
import pytest

import ember

_RNG = np.random.default_rng(0)
CASES = {
    "fixed": lambda: np.array([[1.0, 2.5], [3.0, 4.0]], np.float32),
    "whole numbers": lambda: np.array([1.0, 2.0, -3.0], np.float32),
    "0-d": lambda: np.array(3.5, np.float32),
    "0-d int": lambda: np.array(7, np.int64),
    "ints": lambda: np.array([1, 22, -3], np.int64),
    "bools": lambda: np.array([True, False]),
    "sci (span > 1000)": lambda: np.array([1e-5, 1.0, 300.0], np.float32),
    "whole numbers over 1e8": lambda: np.array([1.0, 1e9], np.float32),
    "nan and inf": lambda: np.array([np.nan, 1.5, np.inf], np.float32),
    "inf with whole numbers": lambda: np.array([-np.inf, 2.0, 0.0], np.float32),
    "zeros": lambda: np.zeros((2, 3), np.float32),
    "wrapped rows": lambda: _RNG.standard_normal((4, 30)).astype(np.float32),
    "3-d": lambda: _RNG.standard_normal((3, 2, 4)).astype(np.float32),
    "summarised matrix": lambda: _RNG.standard_normal((50, 40)).astype(np.float32),
    "summarised vector": lambda: np.arange(2000, dtype=np.float32),
    "summarised ints": lambda: np.arange(3000, dtype=np.int64),
    "float64 wrapped with suffix": lambda: _RNG.standard_normal(30),
    "int8": lambda: np.array([1, -2], np.int8),
    "uint8": lambda: np.array([[1, 200]], np.uint8),
    "float16": lambda: np.array([1.5, 2.25], np.float16),
    "empty 2-d": lambda: np.zeros((0, 3), np.float32),
    "empty int32": lambda: np.zeros((0, 2), np.int32),
}


def _same_repr(torch, make, **kwargs):
    values = make()
    ours = repr(ember.tensor(values, **kwargs))
    theirs = repr(torch.tensor(values, **kwargs)).replace("torch.", "ember.")
    assert ours == theirs, f"\nember: {ours}\ntorch: {theirs}"


@pytest.mark.parametrize("name", CASES)
def test_repr_matches_pytorch(torch, name):
    _same_repr(torch, CASES[name])


def test_grad_suffixes_move_to_a_new_line_like_pytorch(torch):
    values = _RNG.standard_normal((2, 9)).astype(np.float32)
    ours, theirs = ember.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    assert repr(ours) == repr(theirs)
    assert repr(ours * 2) == repr(theirs * 2)


@pytest.mark.parametrize("options", [dict(precision=2), dict(sci_mode=False), dict(sci_mode=True),
                                     dict(threshold=5, edgeitems=1), dict(linewidth=40), dict(profile="short")])
def test_print_options_match_pytorch(torch, options):
    try:
        ember.set_printoptions(**options)
        torch.set_printoptions(**options)
        for name in ("fixed", "sci (span > 1000)", "whole numbers over 1e8", "zeros", "wrapped rows", "3-d"):
            _same_repr(torch, CASES[name])
    finally:
        ember.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
