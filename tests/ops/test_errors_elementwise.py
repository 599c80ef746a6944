"""Invalid options and inputs to elementwise, activation and reduction ops raise errors naming the op,
the argument and the value received."""

import pytest

import ember
import ember.nn.functional as F


def test_div_rejects_an_unknown_rounding_mode_naming_it():
    x = ember.ones(3)
    with pytest.raises(RuntimeError, match=r"div\(\).*rounding_mode.*'round'"):
        ember.div(x, x, rounding_mode="round")


def test_bad_option_errors_are_also_value_errors():
    with pytest.raises(ValueError, match="approximate.*'fast'"):
        F.gelu(ember.ones(2), approximate="fast")


def test_reduction_dim_out_of_range_names_op_and_dim():
    with pytest.raises(IndexError, match=r"sum\(\).*range.*got 3"):
        ember.sum(ember.ones(2, 3), 3)
    with pytest.raises(IndexError, match=r"max\(\).*got -3"):
        ember.ones(2, 3).max(-3)


def test_norm_rejects_unknown_p_naming_it():
    with pytest.raises(ValueError, match=r"norm\(\).*'p'.*'nuclear'"):
        ember.norm(ember.ones(3), p="nuclear")


def test_vector_norm_rejects_a_non_number_ord():
    with pytest.raises(ValueError, match=r"vector_norm\(\).*'ord'.*'fro'"):
        ember.linalg.vector_norm(ember.ones(3), ord="fro")


def test_bitwise_ops_refuse_float_tensors_naming_the_dtype():
    with pytest.raises(TypeError, match=r"bitwise_and\(\).*float32"):
        ember.ones(2) & ember.ones(2)
    with pytest.raises(TypeError, match=r"bitwise_not\(\).*float32"):
        ~ember.ones(2)


def test_bitwise_operators_work_on_bool_and_int_tensors():
    a, b = ember.tensor([True, False, True]), ember.tensor([True, True, False])
    assert (a & b).tolist() == [True, False, False]
    assert (a | b).tolist() == [True, True, True]
    assert (a ^ b).tolist() == [False, True, True]
    assert (~a).tolist() == [False, True, False]
    assert (ember.tensor([6, 5]) & 3).tolist() == [2, 1]


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match=r"clamp\(\).*'min' or 'max'"):
        ember.clamp(ember.ones(2))


def test_where_needs_a_bool_condition():
    with pytest.raises(TypeError, match=r"where\(\).*bool.*float32"):
        ember.where(ember.ones(2), ember.ones(2), ember.zeros(2))


def test_broadcast_mismatch_names_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"mul\(\).*\(2, 3\).*\(4,\)"):
        ember.ones(2, 3) * ember.ones(4)


def test_var_rejects_unbiased_and_correction_together():
    with pytest.raises(TypeError, match=r"var\(\).*'unbiased' or 'correction'"):
        ember.var(ember.ones(3), 0, True, correction=0)


def test_topk_k_out_of_range_names_k_and_size():
    with pytest.raises(ValueError, match=r"topk\(\).*'k' \(5\).*<= 3"):
        ember.topk(ember.ones(3), 5)


def test_glu_needs_an_even_dimension():
    with pytest.raises(ValueError, match=r"glu\(\).*dimension 1 is size 3"):
        F.glu(ember.ones(2, 3))


def test_amax_over_an_empty_dim_names_the_dim():
    with pytest.raises(IndexError, match=r"amax\(\).*dim 0"):
        ember.amax(ember.ones(0, 3), 0)
