"""An op's edge cases live in its declaration (``errors=``, ``stability=``, ``skips=``) and the kit runs
them: a declared error that is not raised, raised with another class or message, a stability case that
overflows or disagrees, each fails ``check_op`` naming the case; every skipped check shows its reason."""

import pytest

import ember
from ember.edge_cases import SKIPPABLE_CHECKS
from ember.ops import ErrorInput, Op, Primitive, Sample, StabilityInput, apply, check_tensor
from ember.plugins import registries
from ember.testing import check_op, suite_names
from ember.testing.op_cases import declared_skips

SUITE_OPS = [registries["ops"][name] for name in suite_names("ops")]


def naive_softplus(input):
    check_tensor("naive_softplus", "input", input)
    return (input.exp() + 1).log()  # overflows to inf for inputs above ~88 (float32) / ~709 (float64)


def refusing(input, mode="ok"):
    check_tensor("refusing", "input", input)
    if mode == "bad":
        raise ValueError(f"refusing(): mode must be 'ok', got {mode!r}")
    return input * 2


def _op(fn, **declared):
    declared.setdefault("torch", None)
    declared.setdefault("expected", lambda x, **kw: x * 2)
    return Op(fn, dtypes=(ember.float64,), samples=lambda make: [Sample((make(3),))], **declared)


def _error(match, error=ValueError, mode="bad"):
    return lambda make: [ErrorInput(Sample((make(3),), {"mode": mode}), error, match)]


def test_a_declared_error_is_checked_on_every_device_and_dtype():
    assert check_op(_op(refusing, errors=_error(r"refusing\(\): mode must be 'ok', got 'bad'")),
                    devices=["cpu"]) == 2  # one sample, one error case


def test_a_declared_error_the_op_accepts_fails_the_kit():
    with pytest.raises(AssertionError, match=r"op 'refusing' on cpu, ember.float64, ErrorInput.*the op accepted it; "
                                             r"expected ValueError"):
        check_op(_op(refusing, errors=_error("mode", mode="ok")), devices=["cpu"])


def test_a_declared_error_of_another_class_fails_the_kit():
    with pytest.raises(AssertionError, match=r"raised ValueError: refusing\(\).*expected IndexError"):
        check_op(_op(refusing, errors=_error("mode", error=IndexError)), devices=["cpu"])


def test_a_declared_error_with_another_message_fails_the_kit():
    with pytest.raises(AssertionError, match=r"raised ValueError as declared, but its message .* does not match "
                                             r"'must be positive'"):
        check_op(_op(refusing, errors=_error("must be positive")), devices=["cpu"])


def test_a_declared_warning_that_is_not_emitted_fails_the_kit():
    with pytest.raises(AssertionError, match=r"expected a UserWarning matching 'broadcast'; got none"):
        check_op(_op(refusing, errors=_error("broadcast", error=UserWarning, mode="ok")), devices=["cpu"])


def test_a_declared_backward_error_that_backward_does_not_raise_fails_the_kit():
    errors = lambda make: [ErrorInput(Sample((make(3),)), RuntimeError, "not implemented", backward=True)]
    with pytest.raises(AssertionError, match=r"the op and its backward accepted it"):
        check_op(_op(refusing, errors=errors), devices=["cpu"])


def summed(input, dim):
    check_tensor("summed", "input", input)
    if not -input.dim() <= dim < input.dim():
        raise ValueError(f"summed(): dim {dim} is out of range")  # PyTorch raises IndexError here
    return input.sum(dim)


def test_a_declared_error_of_another_class_than_pytorchs_fails_the_kit(torch):
    op = Op(summed, torch="torch.sum", dtypes=(ember.float64,), samples=lambda make: [Sample((make(2, 3), 1))],
            errors=lambda make: [ErrorInput(Sample((make(2, 3), 5)), ValueError, "out of range")])
    with pytest.raises(AssertionError, match=r"raised ValueError, which is not a IndexError as PyTorch raises here"):
        check_op(op, devices=["cpu"])


def _softplus_op(*cases):
    return Op(naive_softplus, torch="torch.nn.functional.softplus", dtypes=(ember.float64,),
              samples=lambda make: [Sample((make(3),))], stability=lambda make: [c(make) for c in cases])


def test_a_stability_case_that_overflows_fails_the_kit():
    op = _softplus_op(lambda make: StabilityInput(Sample((make.tensor([-1e4, 0.0, 1e4]),))))
    with pytest.raises(AssertionError, match=r"op 'naive_softplus' on cpu, ember.float64, StabilityInput.*output 0 is "
                                             r"not finite"):
        check_op(op, devices=["cpu"])


def test_a_stability_case_that_disagrees_with_its_expected_values_fails_the_kit():
    op = _softplus_op(lambda make: StabilityInput(Sample((make.tensor([0.0]),)), expected=[0.7]))
    with pytest.raises(AssertionError, match=r"forward differs from the expected values"):
        check_op(op, devices=["cpu"], oracle=False)


def test_a_stability_case_that_disagrees_with_pytorch_fails_the_kit(torch):
    # exp(40) + 1 rounds to exp(40) in float64, as does PyTorch's; at -40 log(1 + 4e-18) is 0 where PyTorch
    # keeps 4.2e-18: only the comparison with PyTorch (atol=0) sees the lost digits.
    op = _softplus_op(lambda make: StabilityInput(Sample((make.tensor([-40.0]),)), atol=0))
    with pytest.raises(AssertionError, match=r"forward differs from PyTorch"):
        check_op(op, devices=["cpu"])


def test_a_case_limited_to_float64_does_not_run_in_float32():
    op = _softplus_op(lambda make: StabilityInput(Sample((make.tensor([1e4]),)), dtypes=(ember.float32,)))
    assert check_op(op, devices=["cpu"], oracle=False) == 1  # the sample only


class _SquareWithFlatSecondDerivative(Primitive):
    save_inputs = True

    @staticmethod
    def forward(xp, x):
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.inputs
        return g * 2 * x.detach()  # right first derivative, but its own derivative is lost


def square(input):
    check_tensor("square", "input", input)
    return apply(_SquareWithFlatSecondDerivative, input)


def _square_op(**declared):
    return Op(square, torch=None, expected=lambda x: x * x, dtypes=(ember.float64,),
              samples=lambda make: [Sample((make(3),))], **declared)


def test_a_skipped_gradgradcheck_is_not_run_and_an_unskipped_one_fails():
    assert check_op(_square_op(skips={"gradgradcheck": "the test's primitive drops its second derivative"}),
                    devices=["cpu"]) == 1
    with pytest.raises(AssertionError, match="op 'square'"):
        check_op(_square_op(), devices=["cpu"])


def test_a_skip_must_name_a_known_check_and_give_a_reason():
    with pytest.raises(ValueError, match=r"op 'square': skips= names unknown check 'gradgrad'"):
        _square_op(skips={"gradgrad": "typo"})
    with pytest.raises(ValueError, match=r"op 'square': skips=\{'gradgradcheck': \.\.\.\} needs the reason"):
        _square_op(skips={"gradgradcheck": ""})


def test_the_boolean_switch_is_gone_in_favour_of_a_reason():
    with pytest.raises(TypeError, match="gradgradcheck"):
        _square_op(gradgradcheck=False)
    assert _square_op(skips={"gradgradcheck": "why"}).gradgradcheck is False


@pytest.mark.parametrize("name, check, reason", declared_skips(SUITE_OPS),
                         ids=[f"{name}-{check}" for name, check, _ in declared_skips(SUITE_OPS)])
def test_every_skipped_check_shows_its_reason(name, check, reason):
    assert check in SKIPPABLE_CHECKS
    pytest.skip(f"op {name!r}: {check} skipped: {reason}")


def test_the_builtin_ops_declare_the_cases_of_the_former_hand_written_error_tests():
    # The former tests/ops/test_errors_*.py held 100 cases (98 raised errors, a warning, a backward error)
    # and tests/ops/test_stability.py 26 stability cases: all now sit in the declarations (counted when
    # they moved), so the totals never fall below these.
    from ember.testing.samples import SampleMaker
    make = SampleMaker("cpu", ember.float64)
    errors = sum(len(list(op.errors(make))) for op in SUITE_OPS if op.errors is not None)
    stability = sum(len(list(op.stability(make))) for op in SUITE_OPS if op.stability is not None)
    assert errors >= 100 and stability >= 26, (errors, stability)
