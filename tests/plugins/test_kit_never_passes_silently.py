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
from ember.testing import check_layer, check_op, check_optimizer, check_plugin
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


# -- layers: a missing gradient or a missing functional op fails, never skips ---------------------------

class _DetachedScale(ember.nn.Module):
    """y = x * w, with w detached by mistake: the parameter never gets a gradient."""

    def __init__(self, size=3):
        super().__init__()
        self.weight = ember.nn.Parameter(ember.ones(size))

    def forward(self, x):
        return x * self.weight.detach()

    @staticmethod
    def samples(make):
        return [ember.nn.LayerSample((3,), inputs=(make(2, 3),))]


class _UsesAMissingOp(ember.nn.Module):
    """Calls a functional op that no plugin registers."""

    def forward(self, x):
        return ember.nn.functional.not_registered_by_anyone(x)

    @staticmethod
    def samples(make):
        return [ember.nn.LayerSample(inputs=(make(2, 3),))]


def test_a_layer_whose_parameter_gets_no_gradient_fails_check_plugin(register_plugin):
    class Plugin:
        @ember.hookimpl
        def ember_register_layers(self, registry):
            registry.register(_DetachedScale)
    register_plugin(Plugin(), name="detached-scale")
    with pytest.raises(AssertionError, match=r"(?s)layer '_DetachedScale'.*backward gave parameter 'weight' no "
                                             r"gradient"):
        check_plugin("detached-scale", devices=["cpu"])


class _OptionalBias(ember.nn.Module):
    """x * 2, plus a bias only when built with bias=True: without it the bias is unused."""

    def __init__(self, bias=True):
        super().__init__()
        self.add_bias = bias
        self.bias = ember.nn.Parameter(ember.zeros(3))

    def forward(self, x):
        return x * 2 + self.bias if self.add_bias else x * 2


def test_a_parameter_unused_by_a_sample_fails_unless_the_sample_declares_it():
    class Undeclared(_OptionalBias):
        @staticmethod
        def samples(make):
            return [ember.nn.LayerSample(kwargs={"bias": False}, inputs=(make(2, 3),))]

    class Declared(_OptionalBias):
        @staticmethod
        def samples(make):
            return [ember.nn.LayerSample(kwargs={"bias": False}, inputs=(make(2, 3),), no_grad_for=("bias",)),
                    ember.nn.LayerSample(inputs=(make(2, 3),))]
    with pytest.raises(AssertionError, match="backward gave parameter 'bias' no gradient"):
        check_layer(Undeclared, devices=["cpu"], oracle=False)
    assert check_layer(Declared, devices=["cpu"], oracle=False) == 4  # two samples, float32 and float64


def test_a_layer_calling_a_missing_functional_op_fails_instead_of_skipping():
    with pytest.raises(AssertionError, match=r"AttributeError: .*not_registered_by_anyone"):
        check_layer(_UsesAMissingOp, devices=["cpu"], oracle=False)


def test_a_layer_failure_lists_every_failing_case():
    with pytest.raises(AssertionError) as failure:
        check_layer(_DetachedScale, devices=["cpu"], oracle=False)
    message = str(failure.value)
    assert "layer _DetachedScale: 2 of 2 cases failed" in message
    assert "on cpu, ember.float32" in message and "on cpu, ember.float64" in message


# -- ops: a path broken in one dtype fails that dtype's case, and every failing sample is listed -------

def _wrong_in_float32(input):
    """2 * input, computed wrongly (off by 1e-2) in float32 only."""
    check_tensor("wrong_in_float32", "input", input)
    out = input * 2
    return out + 1e-2 if input.dtype is ember.float32 else out


def _two_samples(make):
    return [Sample((make(3),), name="vector"), Sample((make(2, 2),), name="matrix")]


def _float32_broken_op():
    return Op(_wrong_in_float32, torch=None, expected=lambda x: 2 * x, samples=_two_samples)


def test_an_op_broken_only_in_float32_fails_check_plugin(register_plugin):
    class Plugin:
        @ember.hookimpl
        def ember_register_ops(self, registry):
            registry.register(_float32_broken_op())
    register_plugin(Plugin(), name="float32-broken")
    with pytest.raises(AssertionError) as failure:
        check_plugin("float32-broken", devices=["cpu"])
    assert "op '_wrong_in_float32' on cpu, ember.float32, sample Sample(vector)" in str(failure.value)
    assert "ember.float64" not in str(failure.value)


def test_the_float32_case_fails_and_the_float64_case_passes(register_plugin):
    from ember.testing.cases import KitCase

    class Plugin:
        @ember.hookimpl
        def ember_register_ops(self, registry):
            registry.register(_float32_broken_op())
    register_plugin(Plugin(), name="float32-broken")
    assert KitCase("ops", "_wrong_in_float32", "cpu", "float64").check() == 2
    with pytest.raises(AssertionError, match="forward differs from the op's expected= function"):
        KitCase("ops", "_wrong_in_float32", "cpu", "float32").check()


def test_an_op_failure_lists_every_failing_sample_not_only_the_first():
    with pytest.raises(AssertionError) as failure:
        check_op(_float32_broken_op(), devices=["cpu"], dtypes=[ember.float32])
    message = str(failure.value)
    assert message.startswith("op '_wrong_in_float32': 2 of 2 cases failed")
    assert "sample Sample(vector)" in message and "sample Sample(matrix)" in message


# -- optimizers: every failing option set is listed ------------------------------------------------------

class _NoBumpSGDTwoOptions(_NoBumpSGD):
    sample_options = ({"lr": 0.1}, {"lr": 0.05})


def test_an_optimizer_failure_lists_every_failing_option_set():
    with pytest.raises(AssertionError) as failure:
        check_optimizer(_NoBumpSGDTwoOptions, devices=["cpu"], dtypes=[ember.float64], oracle=False)
    message = str(failure.value)
    assert "{'lr': 0.1}: step() changed parameter" in message and "{'lr': 0.05}: step() changed" in message
