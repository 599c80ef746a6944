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


_X = np.array([[0.5, -1.0, 2.0, 2.0, 0.0], [3.0, 1.0, -2.0, 0.25, 1.0]], np.float32)
CALLS = {  # name -> a call over a library `L` and a tensor `x` built from _X
    "kthvalue": lambda L, x: L.kthvalue(x, 2, 1),
    "kthvalue keepdim": lambda L, x: x.kthvalue(1, 0, True),
    "quantile": lambda L, x: L.quantile(x, 0.3, dim=1),
    "quantile of all": lambda L, x: x.quantile(0.75),
    "quantile q tensor": lambda L, x: L.quantile(x, L.tensor([0.0, 0.5, 1.0]), dim=0, keepdim=True),
    "quantile nearest": lambda L, x: L.quantile(x, 0.5, dim=1, interpolation="nearest"),
    "quantile midpoint": lambda L, x: L.quantile(x, 0.4, dim=1, interpolation="midpoint"),
    "quantile with NaN": lambda L, x: L.quantile(x.masked_fill(x == 0, float("nan")), 0.5, dim=1),
    "searchsorted": lambda L, x: L.searchsorted(L.tensor([-1.0, 0.0, 2.0, 2.0]), x),
    "searchsorted right": lambda L, x: L.searchsorted(L.tensor([-1.0, 0.0, 2.0, 2.0]), x, right=True),
    "searchsorted rows": lambda L, x: L.searchsorted(x.sort().values, x[:, :2].contiguous(), side="right"),
    "histc": lambda L, x: L.histc(x, bins=4, min=-1, max=2),
    "histc own range": lambda L, x: x.histc(bins=3),
    "hypot": lambda L, x: L.hypot(x, x.flip(1)),
    "logit": lambda L, x: L.logit(x.sigmoid()),
    "logit eps": lambda L, x: x.clamp(0, 1).logit(eps=1e-3),
    "xlogy": lambda L, x: L.xlogy(x, x.abs()),
    "xlogy number": lambda L, x: L.xlogy(x, 2.0),
    "diff": lambda L, x: L.diff(x),
    "diff n=2 dim 0 prepend": lambda L, x: L.diff(x, n=2, dim=0, prepend=x[:1]),
    "diff bool": lambda L, x: L.diff(x > 0),
}


@pytest.mark.parametrize("name", CALLS)
def test_order_statistics_and_elementwise_names_match_pytorch(torch, name):
    ours, theirs = CALLS[name](ember, ember.tensor(_X)), CALLS[name](torch, torch.tensor(_X))
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for a, b in zip(ours, theirs, strict=True):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)


def test_quantile_and_xlogy_gradients_match_pytorch(torch):
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(_X, requires_grad=True)
        y = lib.tensor(np.abs(_X) + 0.5, requires_grad=True)
        (lib.quantile(x, lib.tensor([0.2, 0.9]), dim=1).sum() + lib.xlogy(x, y).sum()).backward()
        grads.append((x.grad.numpy(), y.grad.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, float("inf")])
def test_cdist_values_and_gradients_match_pytorch(torch, p):
    """Including rows and coordinates that coincide, where PyTorch's gradient is zero."""
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 4, 3)).astype(np.float32), rng.standard_normal((2, 5, 3)).astype(np.float32)
    b[0, 0], b[1, 1, 0] = a[0, 1], a[1, 2, 0]
    weights = np.arange(40, dtype=np.float32).reshape(2, 4, 5)
    results = []
    for lib in (ember, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        distances = lib.cdist(x, y, p=p)
        (distances * lib.tensor(weights)).sum().backward()
        results.append((distances.detach().numpy(), x.grad.numpy(), y.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=2e-4)
