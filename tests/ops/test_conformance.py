"""Every registered op, checked from its own declared samples: forward and gradients against PyTorch
(float32 and float64), finite differences and second derivatives in float64. Adding an op adds its
tests here by itself: one item per (op, device, dtype), e.g. ``test_op[add-cpu-float32]``, so that a
broken float32 path cannot hide the float64 one; a failing item lists every failing sample."""

import pytest


@pytest.mark.ember_kit("ops")  # ember's own plugins (--ember-all-plugins: every installed one)
def test_op(ember_case):
    assert ember_case.check() > 0
