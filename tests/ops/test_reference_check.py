"""An op that declares its own forward/backward is checked against the composite it stands for."""

import pytest

import ember
from ember.ops import Op, Primitive, Sample, apply
from ember.testing import check_op


class Doubling(Primitive):
    @staticmethod
    def forward(xp, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 3  # wrong on purpose: the composite x + x has gradient 2


def doubled(input):
    return apply(Doubling, input)


def test_a_fused_op_that_disagrees_with_its_composite_fails_the_kit():
    op = Op(doubled, torch=None, reference=lambda input: input + input,
            skips={"gradgradcheck": "the test checks only the first-order comparison with the composite"},
            samples=lambda make: [Sample((make(3),))])
    with pytest.raises(AssertionError, match="gradient of input 0 differs from the op's composite reference"):
        check_op(op, finite_differences=False)


def test_builtin_fused_ops_declare_their_composites():
    ops = ember.plugins.registries["ops"]
    for name in ("linear", "log_softmax", "softmax", "nll_loss"):
        assert ops[name].reference is not None, name
