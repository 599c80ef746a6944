"""Names public PyTorch programs call that ember lacked (found running them with `import ember as torch`):
``isin``, ``triu_indices``/``tril_indices``, ``logspace``. Each is compared with torch."""

import numpy as np
import pytest

import ember


@pytest.mark.parametrize("name", ["triu_indices", "tril_indices"])
@pytest.mark.parametrize("args", [(4, 3, 1), (3, 3), (3, 5, -1), (0, 3), (4, 4, 10), (3, 4, -5)])
def test_triangle_indices_match_pytorch(torch, name, args):
    ours, theirs = getattr(ember, name)(*args), getattr(torch, name)(*args)
    assert ours.dtype is ember.int64 and tuple(ours.shape) == tuple(theirs.shape)
    assert ours.tolist() == theirs.tolist()


def test_triangle_indices_index_a_matrix_like_pytorch(torch):
    """The pairwise-distance idiom: the strictly upper triangle of a square matrix as a vector."""
    values = np.arange(16, dtype=np.float32).reshape(4, 4)
    rows, cols = ember.triu_indices(4, 4, 1, dtype=ember.int32)
    expected = torch.tensor(values)[tuple(torch.triu_indices(4, 4, 1))]
    assert ember.tensor(values)[rows.long(), cols.long()].tolist() == expected.tolist()
    with pytest.raises(RuntimeError, match="dtype"):
        ember.triu_indices(3, 3, dtype=ember.float32)


@pytest.mark.parametrize("args, kwargs", [((0, 2, 3), {}), ((-1, 1, 5), {"base": 2}), ((1, 0, 4), {}),
                                          ((0, 3, 4), {"dtype": "int64"}), ((0, 1, 1), {}), ((0, 1, 0), {})])
def test_logspace_matches_pytorch(torch, args, kwargs):
    ours = ember.logspace(*args, **{k: getattr(ember, v) if k == "dtype" else v for k, v in kwargs.items()})
    theirs = torch.logspace(*args, **{k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()})
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("invert", [False, True])
def test_isin_matches_pytorch(torch, invert):
    labels = np.array([[3, 1, 4], [1, 5, 9]])
    keep = np.array([1, 9, 7])
    for elements, tests in ((labels, keep), (labels, 5), (4, keep), (labels.astype(np.float32), 1.0)):
        mine = [ember.tensor(v) if isinstance(v, np.ndarray) else v for v in (elements, tests)]
        theirs = [torch.tensor(v) if isinstance(v, np.ndarray) else v for v in (elements, tests)]
        ours, ref = ember.isin(*mine, invert=invert), torch.isin(*theirs, invert=invert)
        assert ours.dtype is ember.bool and ours.tolist() == ref.tolist()
    filtered = ember.tensor(labels)[ember.isin(ember.tensor(labels), ember.tensor(keep))]
    assert filtered.tolist() == torch.tensor(labels)[torch.isin(torch.tensor(labels), torch.tensor(keep))].tolist()


def test_isin_rejects_what_pytorch_rejects():
    with pytest.raises(TypeError, match="isin"):
        ember.isin(1, 2)
    with pytest.raises(TypeError, match="test_elements"):
        ember.isin(ember.tensor([1]), "1")
