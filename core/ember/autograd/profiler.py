"""``ember.autograd.profiler``: the older spelling of the profiler (``torch.autograd.profiler``), over
``ember.profiler``: ``profile(enabled=True, use_cuda=False, record_shapes=False, ...)`` and
``record_function``."""

from __future__ import annotations

from ..profiler import EventList, record_function  # noqa: F401
from ..profiler import profile as _profile

__all__ = ["profile", "record_function", "EventList"]


class profile(_profile):  # noqa: N801 - PyTorch's name
    """``torch.autograd.profiler.profile``: same results as ``ember.profiler.profile``."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None):
        super().__init__(record_shapes=record_shapes, enabled=enabled)

    def table(self, sort_by=None, row_limit=100, **kwargs) -> str:
        return self.key_averages().table(sort_by=sort_by, row_limit=row_limit)
