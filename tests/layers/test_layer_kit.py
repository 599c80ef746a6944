"""Every registered layer, checked by the conformance kit from its own declared samples on every
available device: shapes, dtypes and devices through forward and backward, gradients against finite
differences (float64), state_dict round trip, train/eval, and PyTorch's layer of the same name."""

import pytest

from ember.plugins import registries
from ember.testing import check_layer, suite_names

LAYERS = suite_names("layers")  # ember's own plugins (--ember-all-plugins: every installed one)


@pytest.mark.parametrize("name", LAYERS)
def test_layer_conforms(name):
    check_layer(name)
