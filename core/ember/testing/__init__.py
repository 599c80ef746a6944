"""``ember.testing``: what ember's own tests and plugin authors' tests use.

- :func:`assert_close` compares tensors with dtype-aware tolerances and says where they differ most.
- :func:`gradcheck` / :func:`gradgradcheck` compare analytic gradients with finite differences.
- :class:`SampleMaker` builds sample inputs on a device and in a dtype (the ``make`` that ops' and
  layers' ``samples`` receive).
- The conformance kit: :func:`check_op`, :func:`check_layer`, :func:`check_optimizer`,
  :func:`check_device` and :func:`check_plugin` run every check from what a plugin declared.
- :mod:`ember.testing.reference_device`: the numpy-backed ``ref`` device the tests run on besides the CPU.
- The pytest plugin (:mod:`ember.testing.pytest_plugin`): ``--ember-device``, the ``ember_device_name``
  fixture, the ``ember_device`` marker, the ``register_plugin`` fixture and ``--ember-all-plugins``.
- :func:`suite_names`: the names ember's own suite checks (its built-in plugins' unless asked).
- :class:`KitCase` / :func:`kit_cases`: the kit's (kind, name, device, dtype) units, one pytest item each
  through the ``ember_kit`` marker.
"""

from .comparison import assert_close, default_tolerances
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .samples import SampleMaker
from .devices import available_devices
from .conformance import check_op, op_report, to_torch, torch_counterpart
from .layer_checks import check_layer
from .optimizer_checks import check_optimizer
from .device_checks import check_device
from .plugin_checks import check_plugin, plugin_items
from .suite import suite_names
from .cases import KitCase, kit_cases

__all__ = ["assert_close", "default_tolerances", "gradcheck", "gradgradcheck", "GradcheckError", "SampleMaker",
           "available_devices", "check_op", "check_layer", "check_optimizer", "check_device", "check_plugin",
           "plugin_items", "op_report", "to_torch", "torch_counterpart", "suite_names", "KitCase", "kit_cases"]


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """PyTorch's deprecated ``torch.testing.assert_allclose``: :func:`assert_close` with NaNs equal by
    default and no dtype check (numbers and sequences are turned into tensors like ``expected``)."""
    from ..creation import tensor
    from ..tensor import Tensor
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    assert_close(actual, expected.to(actual.dtype), rtol=rtol, atol=atol, equal_nan=equal_nan, msg=msg)
