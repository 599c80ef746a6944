"""The conformance kit never reports a check it did not make: a missing PyTorch is a skip with the
reason (or a failure under EMBER_REQUIRE_TORCH=1), an op with nothing to compare its forward with is
refused, and every failure keeps its label (gradgradcheck for second derivatives; device, dtype and
sample for errors raised in backward)."""

import sys
import warnings

import numpy as np
import pytest

import ember
from ember.ops import Op, Primitive, Sample, apply, check_tensor
from ember.testing import check_op, check_optimizer, check_plugin
from ember.testing.gradcheck import GradcheckError, gradgradcheck
from ember.testing.oracle import OracleSkippedWarning


@pytest.fixture
def without_torch(monkeypatch):
    """``import torch`` fails, as in a venv without it, and EMBER_REQUIRE_TORCH is unset."""
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.delenv("EMBER_REQUIRE_TORCH", raising=False)


def _wrong_oracle_op():
    """clamp(x, -1, 1) declared with a wrong oracle: only a PyTorch comparison can catch it."""
    def clipped(input):
        return ember.clamp(input, -1.0, 1.0)
    return Op(clipped, torch="torch.tanh", dtypes=(ember.float64,), samples=lambda make: [Sample((make(4),))])


def test_without_torch_a_declared_comparison_is_a_skip_with_the_reason(without_torch):
    with pytest.raises(pytest.skip.Exception, match=r"torch is not installed: op 'clipped' against torch\.tanh"):
        check_op(_wrong_oracle_op())


def test_without_torch_outside_pytest_it_is_a_warning(without_torch, monkeypatch):
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    with pytest.warns(OracleSkippedWarning, match="EMBER_REQUIRE_TORCH=1 to make this a failure"):
        assert check_op(_wrong_oracle_op(), devices=["cpu"]) == 1


def test_without_torch_and_ember_require_torch_it_is_a_failure(without_torch, monkeypatch):
    monkeypatch.setenv("EMBER_REQUIRE_TORCH", "1")
    with pytest.raises(ImportError, match="EMBER_REQUIRE_TORCH=1, but torch is not installed"):
        check_op(_wrong_oracle_op())


def test_with_torch_the_wrong_oracle_fails(torch):
    with pytest.raises(AssertionError, match="forward differs from PyTorch"):
        check_op(_wrong_oracle_op())


def test_without_torch_optimizer_checks_say_what_they_skipped(without_torch):
    with pytest.raises(pytest.skip.Exception, match=r"optimizer SGD against torch\.optim\.SGD"):
        check_optimizer("SGD")


def test_check_plugin_reports_all_skipped_comparisons_once_at_the_end(without_torch, register_plugin):
    class Plugin:
        @ember.hookimpl
        def ember_register_ops(self, registry):
            registry.register(_wrong_oracle_op())
    register_plugin(Plugin(), name="wrong-oracle")
    with pytest.raises(pytest.skip.Exception, match=r"op 'clipped' against torch\.tanh \(every other check passed\)"):
        check_plugin("wrong-oracle")


def test_an_op_without_counterpart_must_say_what_its_forward_equals():
    def twice(input):
        check_tensor("twice", "input", input)
        return input * 2
    bare = Op(twice, torch=None, samples=lambda make: [Sample((make(3),))])
    with pytest.raises(AssertionError, match="torch=None.*reference=.*expected="):
        check_op(bare)
    assert check_op(Op(twice, torch=None, reference=lambda input: input + input,
                       samples=lambda make: [Sample((make(3),))]), devices=["cpu"]) == 2  # float32, float64
    assert check_op(Op(twice, torch=None, expected=lambda x: 2 * x, samples=lambda make: [Sample((make(3),))]),
                    devices=["cpu"]) == 2


def test_a_wrong_expected_function_fails_the_forward():
    def twice(input):
        check_tensor("twice", "input", input)
        return input * 2
    op = Op(twice, torch=None, expected=lambda x: 3 * x, samples=lambda make: [Sample((make(3),))])
    with pytest.raises(AssertionError, match="forward differs from the op's expected= function"):
        check_op(op)


class _CubeWithFlatSecondDerivative(Primitive):
    """x**3 whose first derivative is right but is built from a detached x: no second derivative."""
    save_inputs = True

    @staticmethod
    def forward(xp, x):
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        x = x.detach()
        return grad * 3 * x * x


def test_a_second_derivative_failure_is_labelled_gradgradcheck():
    x = ember.tensor([0.5, -1.5], dtype=ember.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"^gradgradcheck: Jacobian mismatch.*second derivatives"):
        gradgradcheck(lambda t: apply(_CubeWithFlatSecondDerivative, t), [x])
    def flat_cube(input):
        check_tensor("flat_cube", "input", input)
        return apply(_CubeWithFlatSecondDerivative, input)
    op = Op(flat_cube, torch=None,
            expected=lambda x: x ** 3, dtypes=(ember.float64,), samples=lambda make: [Sample((make(3),))])
    with pytest.raises(AssertionError, match=r"op 'flat_cube' on cpu, ember.float64, sample .*: gradgradcheck"):
        check_op(op, devices=["cpu"])


class _ShapeErrorInBackward(Primitive):
    @staticmethod
    def forward(xp, x):
        return x * 1

    @staticmethod
    def backward(ctx, grad):
        raise ember.ops.ShapeError("backward of broken: gradient of shape (7,) does not fit")


def test_an_error_raised_in_backward_keeps_the_device_dtype_and_sample_in_check_plugins_summary(register_plugin):
    def broken(input):
        check_tensor("broken", "input", input)
        return apply(_ShapeErrorInBackward, input)

    class Plugin:
        @ember.hookimpl
        def ember_register_ops(self, registry):
            registry.register(Op(broken, torch=None, expected=lambda x: x, dtypes=(ember.float64,),
                                 samples=lambda make: [Sample((make(2, 3),), name="matrix")]))
    register_plugin(Plugin(), name="broken-backward")
    with pytest.raises(AssertionError) as failure:
        check_plugin("broken-backward", devices=["cpu"])
    assert ("op 'broken': op 'broken' on cpu, ember.float64, sample Sample(matrix): ShapeError: backward of broken"
            in str(failure.value))


class _NoBumpSGD(ember.optim.Optimizer):
    """Plain gradient descent writing into the parameters' memory behind autograd's back."""
    sample_options = ({"lr": 0.1},)

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})

    @ember.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with ember.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    data = p.detach().numpy()
                    np.subtract(data, group["lr"] * p.grad.numpy(), out=data)  # no version bump
        return loss


def test_an_optimizer_that_does_not_bump_versions_is_caught():
    with pytest.raises(AssertionError, match="without bumping its version counter"):
        check_optimizer(_NoBumpSGD, devices=["cpu"], oracle=False)
