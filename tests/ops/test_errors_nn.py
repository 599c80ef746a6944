"""Errors of the neural-network functional ops name the op, the argument and the shapes received."""

import pytest

import ember
import ember.nn.functional as F


def test_conv2d_rejects_a_3d_weight():
    with pytest.raises(RuntimeError, match=r"conv2d\(\).*weight.*4-D.*\[3, 2, 3\]"):
        F.conv2d(ember.randn(1, 2, 5, 5), ember.randn(3, 2, 3))


def test_conv2d_rejects_a_2d_input():
    with pytest.raises(RuntimeError, match=r"conv2d\(\).*3D \(unbatched\) or 4D \(batched\) input.*\[5, 5\]"):
        F.conv2d(ember.randn(5, 5), ember.randn(3, 2, 3, 3))


def test_conv1d_names_the_in_channels_mismatch():
    with pytest.raises(RuntimeError, match=r"conv1d\(\).*weight of size \[3, 2, 3\].*input\[1, 4, 6\].*2 channels"
                                           r".*4 channels"):
        F.conv1d(ember.randn(1, 4, 6), ember.randn(3, 2, 3))


def test_conv2d_groups_must_divide_out_channels():
    with pytest.raises(ValueError, match=r"conv2d\(\).*out_channels.*\(3\).*divisible by groups \(2\)"):
        F.conv2d(ember.randn(1, 4, 5, 5), ember.randn(3, 2, 3, 3), groups=2)


def test_conv2d_rejects_an_unknown_padding_string():
    with pytest.raises(ValueError, match=r"conv2d\(\).*invalid padding string 'full'.*'valid', 'same'"):
        F.conv2d(ember.randn(1, 2, 5, 5), ember.randn(3, 2, 3, 3), padding="full")


def test_conv2d_same_padding_refuses_strides():
    with pytest.raises(ValueError, match=r"conv2d\(\).*'same'.*strided.*\(2, 2\)"):
        F.conv2d(ember.randn(1, 2, 5, 5), ember.randn(3, 2, 3, 3), padding="same", stride=2)


def test_conv2d_kernel_larger_than_padded_input():
    with pytest.raises(RuntimeError, match=r"conv2d\(\).*padded input size per channel: \(4 x 4\).*Kernel size: "
                                           r"\(5 x 5\)"):
        F.conv2d(ember.randn(1, 2, 2, 2), ember.randn(3, 2, 5, 5), padding=1)


def test_conv2d_bias_must_have_one_value_per_output_channel():
    with pytest.raises(RuntimeError, match=r"conv2d\(\).*bias of shape \[3\].*\[4\]"):
        F.conv2d(ember.randn(1, 2, 5, 5), ember.randn(3, 2, 3, 3), ember.randn(4))


def test_conv_transpose2d_output_padding_must_be_below_stride():
    with pytest.raises(ValueError, match=r"conv_transpose2d\(\).*output padding.*output_padding=\(2, 2\), "
                                         r"stride=\(2, 2\)"):
        F.conv_transpose2d(ember.randn(1, 2, 3, 3), ember.randn(2, 3, 3, 3), stride=2, output_padding=2)


def test_conv_transpose1d_names_the_channel_mismatch():
    with pytest.raises(RuntimeError, match=r"conv_transpose1d\(\).*weight of size \[2, 3, 3\].*input\[1, 4, 5\]"):
        F.conv_transpose1d(ember.randn(1, 4, 5), ember.randn(2, 3, 3))


def test_max_pool2d_padding_at_most_half_the_kernel():
    with pytest.raises(ValueError, match=r"max_pool2d\(\).*pad should be at most half.*pad=2, kernel_size=2"):
        F.max_pool2d(ember.randn(1, 1, 6, 6), 2, padding=2)


def test_avg_pool2d_rejects_a_2d_input():
    with pytest.raises(RuntimeError, match=r"avg_pool2d\(\).*3D \(unbatched\) or 4D.*\(4, 4\)"):
        F.avg_pool2d(ember.randn(4, 4), 2)


def test_dropout_probability_must_be_in_unit_interval():
    with pytest.raises(ValueError, match=r"dropout\(\).*between 0 and 1, but got 1.5"):
        F.dropout(ember.randn(3), p=1.5)


def test_group_norm_groups_must_divide_channels():
    with pytest.raises(ValueError, match=r"group_norm\(\).*channels in input \(6\).*num_groups \(4\)"):
        F.group_norm(ember.randn(2, 6, 3), 4)


def test_layer_norm_normalized_shape_must_match_trailing_dims():
    with pytest.raises(RuntimeError, match=r"layer_norm\(\).*normalized_shape=\[3\].*\[2, 4\]"):
        F.layer_norm(ember.randn(2, 4), (3,))


def test_embedding_index_out_of_range():
    with pytest.raises(IndexError, match=r"embedding\(\).*index out of range.*\[0, 4\).*7"):
        F.embedding(ember.tensor([1, 7]), ember.randn(4, 2))


def test_pad_reflect_wider_than_the_input():
    with pytest.raises(ValueError, match=r"pad\(\).*padding size should be less than.*\(3, 0\).*\(1, 2, 3\)"):
        F.pad(ember.randn(1, 2, 3), (3, 0), mode="reflect")


def test_interpolate_needs_exactly_one_of_size_and_scale_factor():
    with pytest.raises(ValueError, match=r"interpolate\(\).*exactly one of size or scale_factor"):
        F.interpolate(ember.randn(1, 1, 4, 4), size=2, scale_factor=2)


def test_attention_feature_dims_must_agree():
    with pytest.raises(RuntimeError, match=r"scaled_dot_product_attention\(\).*\(2, 3, 4\), \(2, 5, 3\)"):
        F.scaled_dot_product_attention(ember.randn(2, 3, 4), ember.randn(2, 5, 3), ember.randn(2, 5, 3))
