"""``ember.testing``: what ember's own tests and plugin authors' tests use.

- :func:`assert_close` compares tensors with dtype-aware tolerances and says where they differ most.
- :func:`gradcheck` / :func:`gradgradcheck` compare analytic gradients with finite differences.
- :class:`SampleMaker` builds sample inputs on a device and in a dtype (the ``make`` that ops' and
  layers' ``samples`` receive).
- :func:`check_op` runs the conformance checks of one registered op from its declared samples.
"""

from .comparison import assert_close, default_tolerances
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .samples import SampleMaker
from .conformance import check_op, op_report, to_torch, torch_counterpart

__all__ = ["assert_close", "default_tolerances", "gradcheck", "gradgradcheck", "GradcheckError", "SampleMaker",
           "check_op", "op_report", "to_torch", "torch_counterpart"]
