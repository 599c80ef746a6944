"""Named result tuples, as ``torch.return_types``: ``values, indices = x.max(dim)`` or ``x.max(dim).values``."""

from __future__ import annotations

from collections import namedtuple


def _result(name, fields=("values", "indices")):
    cls = namedtuple(name, fields)
    cls.__module__ = "ember.return_types"
    cls.__qualname__ = name
    return cls


max = _result("max")  # noqa: A001 - PyTorch's names
min = _result("min")  # noqa: A001
sort = _result("sort")
topk = _result("topk")
median = _result("median")
mode = _result("mode")
cummax = _result("cummax")
cummin = _result("cummin")
kthvalue = _result("kthvalue")
