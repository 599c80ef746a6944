"""Sample-input builders shared by op families. ``make(*shape, ...)`` comes from the conformance kit
and builds tensors on the device and in the dtype under test."""

from __future__ import annotations

from ember.ops import Sample, StabilityInput

SHAPES = ((), (5,), (2, 3), (0, 3))
EXTREMES = (-1e4, -50.0, -1.0, 0.0, 1.0, 50.0, 1e4)


def unary_samples(make, low=-2.0, high=2.0, away_from_zero=False):
    """Scalars, vectors, matrices, an empty tensor and a non-contiguous one."""
    for shape in SHAPES:
        yield Sample((make(*shape, low=low, high=high, away_from_zero=away_from_zero),), name=f"shape {shape}")
    yield Sample((make(3, 4, low=low, high=high, away_from_zero=away_from_zero, noncontiguous=True),),
                 name="non-contiguous")


def binary_samples(make, positive=False, away_from_zero=False, low=-2.0, high=2.0, scalars=True):
    """Equal shapes, broadcasting both ways, a Python number (unless ``scalars=False``: the PyTorch op takes
    tensors only), a zero-dim tensor, empty and non-contiguous."""
    if positive:
        low, high = 0.5, 2.0

    def m(*s, **kw):
        return make(*s, low=low, high=high, away_from_zero=away_from_zero, **kw)
    yield Sample((m(2, 3), m(2, 3)), name="same shape")
    yield Sample((m(2, 3), m(3)), name="broadcast rhs")
    yield Sample((m(2, 1), m(1, 3)), name="broadcast both")
    if scalars:
        yield Sample((m(4), 1.5), name="python number")
    yield Sample((m(2, 3), m()), name="zero-dim rhs")
    yield Sample((m(0, 3), m(3)), name="empty")
    yield Sample((m(3, 4, noncontiguous=True), m(3, 4)), name="non-contiguous")


def nondiff_samples(make, low=-2.0, high=2.0):
    """Unary samples for ops without a gradient (inputs need not require grad)."""
    for shape in SHAPES:
        yield Sample((make(*shape, low=low, high=high, requires_grad=False),), name=f"shape {shape}")
    yield Sample((make(3, 4, low=low, high=high, noncontiguous=True, requires_grad=False),), name="non-contiguous")


def extreme_inputs(make, **kwargs):
    """A stability case: values from -1e4 to 1e4, where ``exp`` overflows in both float dtypes; values and
    gradients must stay finite and match PyTorch (``kwargs`` are the op's options)."""
    yield StabilityInput(Sample((make.tensor([EXTREMES]),), kwargs))
