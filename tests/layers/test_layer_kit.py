"""Every registered layer, checked by the conformance kit from its own declared samples on every
available device: shapes, dtypes and devices through forward and backward, gradients against finite
differences (float64), state_dict round trip, train/eval, and PyTorch's layer of the same name."""

import pytest

from ember.plugins import registries
from ember.testing import check_layer

LAYERS = sorted(registries["layers"])


@pytest.mark.parametrize("name", LAYERS)
def test_layer_conforms(name):
    check_layer(name)
