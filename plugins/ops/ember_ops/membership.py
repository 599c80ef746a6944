"""Set membership: ``isin`` (is each element among the test elements?), as masks and filters in
data-processing code (``labels[torch.isin(labels, keep)]``) use it."""

from __future__ import annotations

import numbers

from ember.device import DeviceError
from ember.ops import OpTable, Sample
from ember.tensor import Tensor
from ember.ops import wrap

ops = OpTable()


def _isin_samples(make):
    a = make(3, 4, requires_grad=False).round()
    yield Sample((a, a[0]), name="against a row")
    yield Sample((a, a[1, 2].item()), name="against a number")
    yield Sample((a, a[:2].reshape(-1)), {"invert": True}, name="inverted")


@ops.op(namespaces=("ember",), differentiable=False, samples=_isin_samples)
def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """A bool tensor shaped like ``elements``: True where the element equals one of ``test_elements`` (False with
    ``invert=True``). Either argument may be a Python number (``torch.isin``).

    Shape:
        - elements: a tensor (or a number); test_elements: a tensor or a number.
        - output: bool, the shape of ``elements``.

    Raises:
        TypeError: both are numbers, or one is neither a tensor nor a number.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.isin``."""
    for name, value in (("elements", elements), ("test_elements", test_elements)):
        if not isinstance(value, (Tensor, numbers.Number)):
            raise TypeError(f"isin(): expected {name} to be a tensor or a number, got {type(value).__name__}")
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin(): expected elements or test_elements to be a tensor, got two numbers")
    device = elements.device if isinstance(elements, Tensor) else test_elements.device
    if isinstance(elements, Tensor) and isinstance(test_elements, Tensor) and test_elements.device is not device:
        raise DeviceError(f"isin(): expected both tensors on one device, got {device} and {test_elements.device}")
    xp = device.xp
    values = elements.array if isinstance(elements, Tensor) else xp.asarray(elements)
    tests = test_elements.array if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    return wrap(xp.isin(values, tests, assume_unique=assume_unique, invert=invert), device)
