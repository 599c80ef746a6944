"""Shape, index and dim errors of the shape, indexing, linalg and loss ops: each names the op, the
argument and the offending shape or value."""

import pytest

import ember
import ember.nn.functional as F


def t(*shape):
    return ember.zeros(*shape)


def idx(values):
    return ember.tensor(values)


def test_cat_shape_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"cat\(\).*tensor 0 has shape \(2, 3\).*tensor 1 has shape \(2, 4\)"):
        ember.cat([t(2, 3), t(2, 4)])


def test_cat_bad_dim_and_empty_list():
    with pytest.raises(IndexError, match=r"cat\(\): dimension out of range.*got 2"):
        ember.cat([t(2, 3), t(2, 3)], 2)
    with pytest.raises(ValueError, match=r"cat\(\): expected a non-empty list"):
        ember.cat([])
    with pytest.raises(TypeError, match=r"cat\(\): argument 'tensors' must be a tuple or list"):
        ember.cat(t(2))


def test_stack_unequal_sizes():
    with pytest.raises(RuntimeError, match=r"stack\(\): .*\(2, 3\) at entry 0 and \(3, 2\) at entry 1"):
        ember.stack([t(2, 3), t(3, 2)])


def test_split_sections_must_sum():
    with pytest.raises(RuntimeError, match=r"split\(\): split_sizes \[1, 1\] must sum to the size of dim 0 \(3\)"):
        t(3, 2).split([1, 1])


def test_matmul_shape_mismatch():
    with pytest.raises(RuntimeError, match=r"matmul\(\): mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        ember.matmul(t(2, 3), t(4, 5))
    with pytest.raises(RuntimeError, match=r"matmul\(\): batch dimensions of \(2, 3, 4\) and \(3, 4, 5\)"):
        ember.matmul(t(2, 3, 4), t(3, 4, 5))


def test_bmm_mv_dot_shapes():
    with pytest.raises(RuntimeError, match=r"bmm\(\): input must be a 3-D tensor, got shape \(2, 3\)"):
        ember.bmm(t(2, 3), t(2, 3, 4))
    with pytest.raises(RuntimeError, match=r"mv\(\): size mismatch, got input \(2, 3\) and vec \(4,\)"):
        ember.mv(t(2, 3), t(4))
    with pytest.raises(RuntimeError, match=r"dot\(\): inconsistent tensor size"):
        ember.dot(t(3), t(4))


def test_addmm_input_not_broadcastable():
    with pytest.raises(RuntimeError, match=r"addmm\(\): input of shape \(3,\) cannot be broadcast to .*\(2, 4\)"):
        ember.addmm(t(3), t(2, 3), t(3, 4))


def test_einsum_operand_count_and_sizes():
    with pytest.raises(ValueError, match=r"einsum\(\): the equation 'ij,jk->ik' has 2 operands but 1"):
        ember.einsum("ij,jk->ik", t(2, 3))
    with pytest.raises(RuntimeError, match=r"einsum\(\): subscript 'j' has size 4"):
        ember.einsum("ij,jk->ik", t(2, 3), t(4, 2))


def test_linalg_needs_square_matrices():
    with pytest.raises(RuntimeError, match=r"linalg.inv: A must be batches of square matrices.*\(2, 3\)"):
        ember.linalg.inv(t(2, 3))
    with pytest.raises(RuntimeError, match=r"linalg.solve: incompatible shapes of A and B.*\(3, 3\) and \(4, 2\)"):
        ember.linalg.solve(ember.eye(3), t(4, 2))


def test_gather_index_out_of_range():
    with pytest.raises(IndexError, match=r"gather\(\): index 5 is out of bounds for dimension 1 with size 3"):
        ember.gather(t(2, 3), 1, idx([[0, 5], [1, 1]]))
    with pytest.raises(IndexError, match=r"gather\(\): index -1 is out of bounds for dimension 0 with size 2"):
        ember.gather(t(2, 3), 0, idx([[-1, 0, 0]]))


def test_gather_index_dims_and_dtype():
    with pytest.raises(RuntimeError, match=r"gather\(\): index tensor must have the same number of dimensions"):
        ember.gather(t(2, 3), 1, idx([0, 1]))
    with pytest.raises(TypeError, match=r"gather\(\): expected index to be an integer"):
        ember.gather(t(2, 3), 1, t(2, 1))
    with pytest.raises(IndexError, match=r"gather\(\): dimension out of range.*got 2"):
        ember.gather(t(2, 3), 2, idx([[0], [1]]))


def test_index_select_out_of_range():
    with pytest.raises(IndexError, match=r"index_select\(\): index 4 is out of bounds for dimension 0 with size 4"):
        t(4, 2).index_select(0, idx([0, 4]))
    with pytest.raises(RuntimeError, match=r"index_select\(\): index must be a 1-D \(or 0-d\) tensor, got shape"):
        t(4, 2).index_select(0, idx([[0]]))


def test_scatter_out_of_range_and_bad_reduce():
    with pytest.raises(IndexError, match=r"scatter\(\): index 3 is out of bounds for dimension 1 with size 3"):
        t(2, 3).scatter(1, idx([[3], [0]]), t(2, 1))
    with pytest.raises(ValueError, match=r"scatter\(\): reduce argument must be either 'add' or 'multiply'"):
        t(2, 3).scatter(1, idx([[1], [0]]), t(2, 1), reduce="max")
    with pytest.raises(IndexError, match=r"scatter\(\): index 7 is out of bounds"):
        t(2, 3).scatter_add(0, idx([[7, 0, 0]]), t(1, 3))


def test_scatter_multiply_has_no_derivative():
    x = ember.ones(2, 3, requires_grad=True)
    out = x.scatter(1, idx([[0], [2]]), ember.full((2, 1), 2.0), reduce="multiply")
    assert out.tolist() == [[2.0, 1.0, 1.0], [1.0, 1.0, 2.0]]
    with pytest.raises(RuntimeError, match=r"reduce='multiply' is not implemented"):
        out.sum().backward()


def test_index_add_source_shape():
    with pytest.raises(RuntimeError, match=r"index_add\(\): source must have shape \(2, 3\).*got \(3, 3\)"):
        t(4, 3).index_add(0, idx([0, 1]), t(3, 3))


def test_masked_fill_mask_errors():
    with pytest.raises(TypeError, match=r"masked_fill\(\): only boolean masks are supported.*int64"):
        t(2, 3).masked_fill(idx([1, 0, 1]), 1.0)
    with pytest.raises(RuntimeError, match=r"masked_fill\(\): mask of shape \(2,\) cannot be broadcast to input"):
        t(2, 3).masked_fill(idx([True, False]), 1.0)


def test_invalid_dims():
    with pytest.raises(IndexError, match=r"narrow\(\): dimension out of range"):
        t(2, 3).narrow(2, 0, 1)
    with pytest.raises(RuntimeError, match=r"narrow\(\): start \(1\) \+ length \(3\) exceeds dimension size \(3\)"):
        t(2, 3).narrow(1, 1, 3)
    with pytest.raises(IndexError, match=r"flip\(\): dimension out of range.*got 3"):
        t(2, 3).flip(3)
    with pytest.raises(RuntimeError, match=r"diagonal\(\): diagonal dimensions cannot be identical"):
        t(2, 3).diagonal(0, 1, 1)
    with pytest.raises(RuntimeError, match=r"tril\(\): input tensor must have at least 2 dimensions"):
        t(3).tril()
    with pytest.raises(RuntimeError, match=r"repeat\(\): number of dimensions of repeat dims \(1\)"):
        t(2, 3).repeat(2)


def test_setitem_errors():
    x = t(3, 2)
    with pytest.raises(IndexError, match=r"setitem: .*tensor of shape \(3, 2\)"):
        x[5] = 1.0
    with pytest.raises(RuntimeError, match=r"setitem: value of shape \(3,\) cannot be written .*shape \(3, 2\)"):
        x[0] = t(3)


@pytest.mark.parametrize("loss", [F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss, F.kl_div])
def test_losses_reject_unbroadcastable_shapes(loss):
    name = loss.__name__
    with pytest.raises(RuntimeError, match=rf"{name}\(\): input of shape \(3, 2\) and target of shape \(4,\)"):
        loss(t(3, 2), t(4))


@pytest.mark.parametrize("loss", [F.binary_cross_entropy, F.binary_cross_entropy_with_logits])
def test_binary_losses_need_equal_shapes(loss):
    with pytest.raises(ValueError, match=rf"{loss.__name__}\(\): target size \(3, 1\) must be the same as input "
                                         rf"size \(3,\)"):
        loss(ember.full((3,), 0.5), t(3, 1))


def test_loss_broadcast_warns_like_pytorch():
    with pytest.warns(UserWarning, match=r"mse_loss\(\): using a target size \(\(3, 1\)\)"):
        F.mse_loss(t(3), t(3, 1))


def test_classification_loss_shapes_and_options():
    with pytest.raises(RuntimeError, match=r"cross_entropy\(\): expected input batch_size \(4\) to match target "
                                           r"batch_size \(3\)"):
        F.cross_entropy(t(4, 5), idx([0, 1, 2]))
    with pytest.raises(IndexError, match=r"nll_loss\(\): target 7 is out of bounds for 5 classes"):
        F.nll_loss(t(2, 5), idx([0, 7]))
    with pytest.raises(ValueError, match=r"mse_loss\(\): 'avg' is not a valid value for reduction"):
        F.mse_loss(t(2), t(2), reduction="avg")
    with pytest.raises(RuntimeError, match=r"cosine_embedding_loss\(\): .*input1 \(4, 3\), input2 \(4, 2\)"):
        F.cosine_embedding_loss(t(4, 3), t(4, 2), t(4))
    with pytest.raises(RuntimeError, match=r"triplet_margin_loss\(\): .*\(4, 3\), \(4,\) and \(4, 3\)"):
        F.triplet_margin_loss(t(4, 3), t(4), t(4, 3))
