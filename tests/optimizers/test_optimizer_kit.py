"""Every registered optimizer, checked by the conformance kit on every available device for each of its
``sample_options``: descent on a small problem, state on its parameters' device, state_dict round trip
giving the same next step (also across devices), and PyTorch's trajectory where PyTorch has it."""

import pytest

from ember.optim.lr_scheduler import LRScheduler
from ember.plugins import registries
from ember.testing import check_optimizer, suite_names

OPTIMIZERS = [name for name in suite_names("optimizers")  # ember's own plugins unless --ember-all-plugins
              if not issubclass(registries["optimizers"][name], LRScheduler)]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_conforms(name):
    assert check_optimizer(name) > 0
