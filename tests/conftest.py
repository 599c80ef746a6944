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


@pytest.fixture
def device(ember_device_name):
    """ember's own tests call the device under test ``device``: ember's pytest plugin names its fixture
    ``ember_device_name`` (so users' own ``device`` fixtures are left alone); this is that fixture."""
    return ember_device_name
