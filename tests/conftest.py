"""Shared test setup: PyTorch is the oracle. Without it, oracle tests skip, unless
EMBER_REQUIRE_TORCH=1 (as CI sets), which makes a missing torch a failure."""

import os

import pytest


@pytest.fixture(scope="session")
def torch():
    if os.environ.get("EMBER_REQUIRE_TORCH") == "1":
        import torch as torch_module
        return torch_module
    return pytest.importorskip("torch")
