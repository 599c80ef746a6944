"""Every registered device that is available here keeps the device contract (ember.testing.check_device):
cpu and the numpy-backed reference device on every machine, cuda where there is one."""

import pytest

from ember.testing import check_device
from ember.testing.devices import available_devices, is_available, registered_devices, unavailable_reason


@pytest.mark.parametrize("name", registered_devices())
def test_device_keeps_the_contract(name):
    if not is_available(name):
        pytest.skip(f"device {name!r} is registered but not available on this machine: {unavailable_reason(name)}")
    if name not in available_devices():
        pytest.skip(f"device {name!r} is not selected by --ember-device")
    assert check_device(name) > 0
