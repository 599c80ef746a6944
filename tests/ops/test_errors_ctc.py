"""ctc_loss's errors name the op, the argument and the values received; plus the infinite losses that the
conformance samples cannot hold (their gradients are not finite in PyTorch)."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F


def _log_probs(*shape):
    return ember.randn(*shape).log_softmax(-1)


TARGETS = [[1, 2, 2], [3, 1, 0]]


def test_rejects_log_probs_of_rank_4():
    with pytest.raises(RuntimeError, match=r"ctc_loss\(\).*log_probs must be 3-D.*2-D.*\(1, 6, 2, 4\)"):
        F.ctc_loss(_log_probs(1, 6, 2, 4), ember.tensor(TARGETS), ember.tensor([6, 5]), ember.tensor([3, 2]))


def test_rejects_log_probs_of_rank_1():
    with pytest.raises(RuntimeError, match=r"ctc_loss\(\).*log_probs must be 3-D.*got shape \(4,\)"):
        F.ctc_loss(_log_probs(4), ember.tensor([1]), ember.tensor([1]), ember.tensor([1]))


def test_rejects_input_lengths_longer_than_the_input():
    with pytest.raises(RuntimeError, match=r"ctc_loss\(\).*input_lengths.*at most 6.*got value 7"):
        F.ctc_loss(_log_probs(6, 2, 4), ember.tensor(TARGETS), ember.tensor([7, 5]), ember.tensor([3, 2]))


def test_rejects_negative_target_lengths():
    with pytest.raises(RuntimeError, match=r"ctc_loss\(\).*target_lengths.*at least 0.*got value -1"):
        F.ctc_loss(_log_probs(6, 2, 4), ember.tensor(TARGETS), [6, 5], [3, -1])


def test_rejects_input_lengths_of_another_batch_size():
    with pytest.raises(RuntimeError, match=r"ctc_loss\(\).*input_lengths.*batch_size \(2\).*3 values \[6, 5, 4\]"):
        F.ctc_loss(_log_probs(6, 2, 4), ember.tensor(TARGETS), ember.tensor([6, 5, 4]), ember.tensor([3, 2]))


def test_rejects_target_lengths_of_another_batch_size():
    with pytest.raises(RuntimeError, match=r"ctc_loss\(\).*target_lengths.*batch_size \(2\).*1 values \[3\]"):
        F.ctc_loss(_log_probs(6, 2, 4), ember.tensor(TARGETS), (6, 5), (3,))


def test_rejects_padded_targets_of_another_batch_size():
    with pytest.raises(RuntimeError, match=r"ctc_loss\(\).*targets.*batch_size \(2\) rows.*\(1, 3\)"):
        F.ctc_loss(_log_probs(6, 2, 4), ember.tensor(TARGETS[:1]), ember.tensor([6, 5]), ember.tensor([3, 2]))


def test_rejects_padded_targets_shorter_than_a_target_length():
    with pytest.raises(RuntimeError, match=r"ctc_loss\(\).*\(2, 3\).*target_lengths \[4, 2\].*at least 4 columns"):
        F.ctc_loss(_log_probs(6, 2, 4), ember.tensor(TARGETS), ember.tensor([6, 5]), ember.tensor([4, 2]))


def test_rejects_concatenated_targets_of_the_wrong_total_length():
    with pytest.raises(RuntimeError, match=r"ctc_loss\(\).*sum\(target_lengths\) = 5 labels, got 4"):
        F.ctc_loss(_log_probs(6, 2, 4), ember.tensor([1, 2, 2, 3]), ember.tensor([6, 5]), ember.tensor([3, 2]))


def test_rejects_floating_point_lengths():
    with pytest.raises(TypeError, match=r"ctc_loss\(\).*input_lengths must be integral.*float32"):
        F.ctc_loss(_log_probs(6, 2, 4), ember.tensor(TARGETS), ember.tensor([6.0, 5.0]), ember.tensor([3, 2]))


def test_rejects_an_int_length_as_pytorch_does():
    with pytest.raises(TypeError, match=r"ctc_loss\(\).*input_lengths.*tensor or a list/tuple of ints.*int"):
        F.ctc_loss(_log_probs(6, 4), ember.tensor([1, 2]), 6, (2,))


def test_rejects_a_blank_outside_the_classes():
    with pytest.raises(RuntimeError, match=r"ctc_loss\(\).*blank must be in label range \[0, 4\), got 4"):
        F.ctc_loss(_log_probs(6, 2, 4), ember.tensor(TARGETS), [6, 5], [3, 2], blank=4)


def test_rejects_a_target_class_out_of_range():
    with pytest.raises(IndexError, match=r"ctc_loss\(\).*target 5 is out of bounds for 4 classes"):
        F.ctc_loss(_log_probs(6, 2, 4), ember.tensor([[1, 5, 2], [3, 1, 0]]), [6, 5], [3, 2])


def test_rejects_a_target_equal_to_the_blank():
    with pytest.raises(ValueError, match=r"ctc_loss\(\).*blank label 1.*\[\[1, 2, 2\], \[3, 1\]\]"):
        F.ctc_loss(_log_probs(6, 2, 4), ember.tensor(TARGETS), [6, 5], [3, 2], blank=1)


def test_rejects_an_unknown_reduction():
    with pytest.raises(ValueError, match=r"ctc_loss\(\).*'avg' is not a valid value for reduction"):
        F.ctc_loss(_log_probs(6, 2, 4), ember.tensor(TARGETS), [6, 5], [3, 2], reduction="avg")


def _both(log_probs, targets, input_lengths, target_lengths, **kwargs):
    import torch
    ours = F.ctc_loss(ember.tensor(log_probs), ember.tensor(targets), ember.tensor(input_lengths),
                      ember.tensor(target_lengths), **kwargs)
    theirs = torch.nn.functional.ctc_loss(torch.tensor(log_probs), torch.tensor(targets),
                                          torch.tensor(input_lengths), torch.tensor(target_lengths), **kwargs)
    return ours.numpy(), theirs.numpy()


def test_an_infeasible_target_costs_inf_as_in_pytorch(torch):
    log_probs = np.log(np.full((6, 2, 4), 0.25, dtype=np.float32))
    ours, theirs = _both(log_probs, np.array(TARGETS), np.array([2, 5]), np.array([3, 2]), reduction="none")
    assert np.isinf(ours[0]) and ours[0] > 0
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_an_empty_input_costs_nothing_for_an_empty_target_and_inf_otherwise(torch):
    log_probs = np.log(np.full((6, 2, 4), 0.25, dtype=np.float32))
    ours, theirs = _both(log_probs, np.array(TARGETS), np.array([0, 0]), np.array([0, 2]), reduction="none")
    np.testing.assert_allclose(ours, theirs)
    assert ours[0] == 0 and np.isinf(ours[1])
