"""The conformance kit as one test item per (name, device, dtype) of what ember-swish registered, through
ember's pytest plugin: ``test_op[swish-cpu-float32]``, ``test_layer[Swish-ref-float64]``,
``test_optimizer[Lion-cpu-float32]``... A broken float32 path fails its own item without hiding the
float64 one, and a failing item lists every failing sample of it."""

import pytest


@pytest.mark.ember_kit("ops", plugin="swish")
def test_op(ember_case):
    assert ember_case.check() > 0


@pytest.mark.ember_kit("layers", plugin="swish")
def test_layer(ember_case):
    assert ember_case.check() > 0


@pytest.mark.ember_kit("optimizers", plugin="swish")
def test_optimizer(ember_case):
    assert ember_case.check() > 0
