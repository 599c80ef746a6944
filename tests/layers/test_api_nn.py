"""nn additions compared with torch: packed sequences through RNN/LSTM/GRU, weight and spectral norm
(hook-based and parametrizations), parametrize, nn.modules paths, DataParallel, SyncBatchNorm conversion,
checkpoint, and the function transforms (autograd.functional, func)."""

import numpy as np
import pytest

import ember

RNG = np.random.default_rng(0)


def _copy(torch_module, ember_module):
    ember_module.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in torch_module.state_dict().items()})
    return ember_module


def test_pad_pack_and_unpack_match_torch(torch):
    from ember.nn.utils import rnn as E
    from torch.nn.utils import rnn as T
    seqs = [RNG.normal(size=(n, 2)) for n in (3, 5, 1)]
    e = E.pad_sequence([ember.tensor(s) for s in seqs], batch_first=True, padding_value=-1)
    t = T.pad_sequence([torch.tensor(s) for s in seqs], batch_first=True, padding_value=-1)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    ep = E.pack_padded_sequence(e, [3, 5, 1], batch_first=True, enforce_sorted=False)
    tp = T.pack_padded_sequence(t, [3, 5, 1], batch_first=True, enforce_sorted=False)
    for a, b in zip(ep, tp):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    eu, el = E.pad_packed_sequence(ep, batch_first=True, padding_value=0.5, total_length=6)
    tu, tl = T.pad_packed_sequence(tp, batch_first=True, padding_value=0.5, total_length=6)
    np.testing.assert_array_equal(eu.numpy(), tu.numpy())
    np.testing.assert_array_equal(el.numpy(), tl.numpy())
    for a, b in zip(E.unpack_sequence(E.pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False)), seqs):
        np.testing.assert_array_equal(a.numpy(), b)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        E.pack_padded_sequence(e, [3, 5, 1], batch_first=True)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_accept_packed_sequences_as_torch(torch, kind):
    from ember.nn.utils import rnn as E
    from torch.nn.utils import rnn as T
    tm = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True).double()
    em = _copy(tm, getattr(ember.nn, kind)(3, 4, num_layers=2, bidirectional=True).double())
    em.flatten_parameters()
    x = RNG.normal(size=(5, 3, 3))
    lengths = [2, 5, 3]
    eo, eh = em(E.pack_padded_sequence(ember.tensor(x), lengths, enforce_sorted=False))
    to, th = tm(T.pack_padded_sequence(torch.tensor(x), lengths, enforce_sorted=False))
    np.testing.assert_allclose(eo.data.detach().numpy(), to.data.detach().numpy(), atol=1e-12)
    for a, b in zip(eh if isinstance(eh, tuple) else (eh,), th if isinstance(th, tuple) else (th,)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("style", ["hooks", "parametrizations"])
@pytest.mark.parametrize("norm", ["weight_norm", "spectral_norm"])
def test_weight_and_spectral_norm_match_torch(torch, style, norm):
    tm = torch.nn.Linear(3, 2).double()
    em = _copy(tm, ember.nn.Linear(3, 2).double())
    if style == "hooks":
        getattr(ember.nn.utils, norm)(em)
        with pytest.warns(FutureWarning) if norm == "weight_norm" else _nothing():
            getattr(torch.nn.utils, norm)(tm)
    else:
        import ember.nn.utils.parametrizations as P
        getattr(P, norm)(em)
        getattr(torch.nn.utils.parametrizations, norm)(tm)
    assert sorted(em.state_dict()) == sorted(tm.state_dict())
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = RNG.normal(size=(4, 3))
    e, t = em(ember.tensor(x)), tm(torch.tensor(x))
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-10)
    e.sum().backward()
    t.sum().backward()
    for (name, p), (_, q) in zip(sorted(em.named_parameters()), sorted(tm.named_parameters())):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_parametrize_register_and_remove(torch):
    from ember.nn.utils import parametrize as P

    class Symmetric(ember.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).mT

    layer = ember.nn.Linear(3, 3)
    P.register_parametrization(layer, "weight", Symmetric())
    assert type(layer).__name__ == "ParametrizedLinear" and P.is_parametrized(layer, "weight")
    assert sorted(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    w = layer.weight
    np.testing.assert_array_equal(w.detach().numpy(), w.detach().numpy().T)
    layer(ember.ones(1, 3)).sum().backward()
    assert layer.parametrizations.weight.original.grad is not None
    with P.cached():
        assert layer.weight is layer.weight
    P.remove_parametrizations(layer, "weight")
    assert type(layer) is ember.nn.Linear and "weight" in dict(layer.named_parameters())


def test_nn_modules_paths_are_the_nn_classes():
    from ember.nn.modules.batchnorm import BatchNorm2d, _BatchNorm
    from ember.nn.modules.linear import NonDynamicallyQuantizableLinear
    from ember.nn.modules.module import Module
    assert BatchNorm2d is ember.nn.BatchNorm2d and issubclass(BatchNorm2d, _BatchNorm)
    assert NonDynamicallyQuantizableLinear is ember.nn.Linear and Module is ember.nn.Module


def test_data_parallel_on_one_device_is_the_module(torch):
    model = ember.nn.Linear(3, 2)
    wrapped = ember.nn.DataParallel(model)
    assert wrapped.module is model and sorted(wrapped.state_dict()) == ["module.bias", "module.weight"]
    x = ember.ones(4, 3)
    np.testing.assert_array_equal(wrapped(x).detach().numpy(), model(x).detach().numpy())
    import importlib
    assert importlib.import_module("ember.nn.parallel").DataParallel is ember.nn.DataParallel
    tm = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    assert sorted(tm.state_dict()) == sorted(wrapped.state_dict())


def test_sync_batchnorm_converts_and_normalises_as_batchnorm(torch):
    net = ember.nn.Sequential(ember.nn.Conv2d(2, 3, 1), ember.nn.BatchNorm2d(3))
    converted = ember.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert isinstance(converted[1], ember.nn.SyncBatchNorm)
    tm = torch.nn.SyncBatchNorm(3).double()
    em = _copy(tm, ember.nn.SyncBatchNorm(3).double())
    x = RNG.normal(size=(4, 3, 2, 2))
    np.testing.assert_allclose(em(ember.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), atol=1e-12)


def test_checkpoint_gives_the_function_values_and_gradients():
    from ember.utils.checkpoint import checkpoint, checkpoint_sequential
    layer = ember.nn.Linear(3, 2)
    x = ember.ones(2, 3, requires_grad=True)
    checkpoint(layer, x, use_reentrant=False).sum().backward()
    assert x.grad is not None and layer.weight.grad is not None
    seq = ember.nn.Sequential(ember.nn.Linear(3, 3), ember.nn.ReLU())
    np.testing.assert_array_equal(checkpoint_sequential(seq, 2, x).detach().numpy(), seq(x).detach().numpy())


def test_function_transforms_match_torch(torch):
    x = RNG.normal(size=3)
    v = RNG.normal(size=3)

    def f(lib):
        return lambda t: t.sin() * t

    def g(t):
        return (t ** 3).sum()
    for name in ("jacobian", "hessian"):
        fn = f if name == "jacobian" else (lambda lib: g)
        e = getattr(ember.autograd.functional, name)(fn(ember), ember.tensor(x))
        t = getattr(torch.autograd.functional, name)(fn(torch), torch.tensor(x))
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-10)
    for name in ("vjp", "jvp", "vhp", "hvp"):
        fn = g if name in ("vhp", "hvp") else f(None)
        e = getattr(ember.autograd.functional, name)(fn, ember.tensor(x), ember.tensor(v))[1]
        t = getattr(torch.autograd.functional, name)(fn, torch.tensor(x), torch.tensor(v))[1]
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ember.func.grad(g)(ember.tensor(x)).numpy(), torch.func.grad(g)(torch.tensor(x)).numpy())
    np.testing.assert_allclose(ember.func.hessian(g)(ember.tensor(x)).numpy(),
                               torch.func.hessian(g)(torch.tensor(x)).numpy())
    np.testing.assert_allclose(ember.func.jacrev(f(None))(ember.tensor(x)).numpy(),
                               torch.func.jacrev(f(None))(torch.tensor(x)).numpy())
    batch = RNG.normal(size=(4, 3))
    np.testing.assert_allclose(ember.vmap(lambda r: (r * r).sum())(ember.tensor(batch)).numpy(),
                               torch.vmap(lambda r: (r * r).sum())(torch.tensor(batch)).numpy())


def test_functional_call_swaps_parameters_for_one_call():
    layer = ember.nn.Linear(3, 2)
    zeros = {name: p * 0 for name, p in layer.named_parameters()}
    out = ember.func.functional_call(layer, zeros, (ember.ones(1, 3),))
    assert float(out.abs().sum()) == 0.0 and float(layer.weight.abs().sum()) > 0


def test_pytree_flatten_unflatten_and_map():
    from ember.utils._pytree import tree_flatten, tree_map, tree_unflatten
    tree = {"a": [1, (2, 3)], "b": 4}
    leaves, spec = tree_flatten(tree)
    assert leaves == [1, 2, 3, 4] and tree_unflatten([x * 2 for x in leaves], spec) == {"a": [2, (4, 6)], "b": 8}
    assert tree_map(lambda x, y: x + y, [1, 2], [3, 4]) == [4, 6]
