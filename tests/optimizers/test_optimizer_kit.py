"""Every registered optimizer, checked by the conformance kit (``ember.testing.check_optimizer``) for
each of its ``sample_options``: one item per (optimizer, device, dtype), e.g.
``test_optimizer[Adam-cpu-float32]``. Bad arguments refused by name, version bumps, descent, state on
its parameters' device, zero_grad, the state_dict round trip (pickle, other devices, the same next
step) and PyTorch's trajectory where PyTorch has the optimizer."""

import pytest

from ember.optim.lr_scheduler import LRScheduler
from ember.plugins import registries
from ember.testing import suite_names


@pytest.mark.ember_kit("optimizers")  # ember's own plugins unless --ember-all-plugins
def test_optimizer(ember_case):
    assert ember_case.check() > 0


def test_every_optimizer_declares_sample_options():
    optimizers = [name for name in suite_names("optimizers") if not issubclass(registries["optimizers"][name],
                                                                               LRScheduler)]
    assert optimizers
    assert [name for name in optimizers if not registries["optimizers"][name].sample_options] == []
