"""Every registered op, checked from its own declared samples: forward and gradients against PyTorch
(float32 and float64), finite differences and second derivatives in float64. Adding an op adds its
tests here by itself."""

import pytest

from ember.plugins import registries
from ember.testing import check_op, suite_names

OPS = suite_names("ops")  # ember's own plugins (--ember-all-plugins: every installed one)


@pytest.mark.parametrize("name", OPS)
def test_op_conforms(name):
    assert check_op(name) > 0
