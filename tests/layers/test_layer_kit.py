"""Every registered layer, checked by the conformance kit (``ember.testing.check_layer``) from its own
declared samples: one item per (layer, device, dtype), e.g. ``test_layer[Linear-cpu-float32]``. Shapes,
dtypes and devices through forward and backward (a missing gradient fails), finite differences
(float64), train/eval and dropout seeding, the state_dict round trip, and PyTorch's layer of the same
name (state_dict layout, repr, initialisation, outputs, gradients and buffers in both modes)."""

import pytest

from ember.plugins import registries
from ember.testing import suite_names
from ember.testing.layer_checks import layer_dtypes


@pytest.mark.ember_kit("layers")  # ember's own plugins (--ember-all-plugins: every installed one)
def test_layer(ember_case):
    assert ember_case.check() > 0


def test_only_containers_without_forward_go_unchecked():
    unchecked = [name for name in suite_names("layers") if not layer_dtypes(registries["layers"][name])]
    assert set(unchecked) <= {"ModuleList", "ModuleDict", "ParameterList", "ParameterDict"}, unchecked
