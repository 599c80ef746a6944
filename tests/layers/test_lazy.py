"""Lazy modules against torch: placeholders before the first forward, materialized in place by it (the
same Parameter objects, so an optimizer built before sees them), the module then the regular class,
the regular layer's initialisation, and state_dict before and after. The conformance kit checks each
lazy layer's samples too (tests/layers/test_layer_kit.py)."""

import copy
import pickle

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy

# (lazy class, its arguments, the regular class and its arguments for the same layer, input shape)
CASES = [
    ("LazyLinear", (3,), "Linear", (4, 3), (5, 4)),
    ("LazyConv1d", (4, 3), "Conv1d", (2, 4, 3), (2, 2, 7)),
    ("LazyConv2d", (4, 3), "Conv2d", (2, 4, 3), (2, 2, 5, 5)),
    ("LazyConv3d", (2, 2), "Conv3d", (2, 2, 2), (1, 2, 3, 4, 3)),
    ("LazyConvTranspose1d", (4, 3), "ConvTranspose1d", (2, 4, 3), (2, 2, 5)),
    ("LazyConvTranspose2d", (4, 3), "ConvTranspose2d", (2, 4, 3), (2, 2, 4, 4)),
    ("LazyConvTranspose3d", (2, 2), "ConvTranspose3d", (2, 2, 2), (1, 2, 2, 3, 2)),
    ("LazyBatchNorm1d", (), "BatchNorm1d", (3,), (4, 3)),
    ("LazyBatchNorm2d", (), "BatchNorm2d", (3,), (2, 3, 3, 2)),
    ("LazyBatchNorm3d", (), "BatchNorm3d", (2,), (2, 2, 2, 3, 2)),
    ("LazyInstanceNorm1d", (), "InstanceNorm1d", (3,), (2, 3, 5)),
    ("LazyInstanceNorm2d", (), "InstanceNorm2d", (2,), (2, 2, 3, 3)),
]
IDS = [c[0] for c in CASES]


def _regular_kwargs(regular):
    # PyTorch's lazy instance norms default to affine=True, track_running_stats=True (the regular ones don't)
    return {"affine": True, "track_running_stats": True} if regular.startswith("InstanceNorm") else {}


def _torch_types(t_module):
    return {k: type(v).__name__ for k, v in t_module.state_dict().items()}


@pytest.mark.parametrize("lazy, args, regular, regular_args, shape", CASES, ids=IDS)
def test_first_forward_materializes_in_place_as_torch(torch, lazy, args, regular, regular_args, shape):
    m, t_m = getattr(nn, lazy)(*args), getattr(torch.nn, lazy)(*args)
    assert {k: type(v).__name__ for k, v in m.state_dict().items()} == _torch_types(t_m)
    assert m.has_uninitialized_params() and t_m.has_uninitialized_params()
    assert repr(m) == repr(t_m)
    params = list(m.parameters())
    opt = ember.optim.SGD(params, lr=0.1) if params else None

    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out, t_out = m(ember.tensor(x)), t_m(torch.as_tensor(x))

    assert type(m).__name__ == type(t_m).__name__ == regular
    assert type(m) is getattr(nn, regular) and not hasattr(m, "has_uninitialized_params")  # as torch's
    assert not any(is_lazy(t) for t in list(m.parameters()) + list(m.buffers()))
    assert repr(m) == repr(t_m)
    assert _torch_types(t_m) == {k: type(v).__name__ for k, v in m.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in m.state_dict().items()} == \
           {k: tuple(v.shape) for k, v in t_m.state_dict().items()}
    assert [p is q for p, q in zip(params, m.parameters())] == [True] * len(params)  # the same objects
    assert all(type(p) is nn.Parameter for p in m.parameters())
    assert tuple(out.shape) == tuple(t_out.shape)
    if opt is not None:  # the optimizer built before the first forward updates the materialized parameters
        before = [p.detach().clone() for p in params]
        (out * ember.randn(*out.shape)).sum().backward()
        opt.step()
        assert all(not np.array_equal(b.numpy(), p.detach().numpy()) for b, p in zip(before, params))

    # weights copied from torch's materialized layer: the same outputs
    m2, t_m2 = getattr(nn, lazy)(*args), getattr(torch.nn, lazy)(*args)
    t_out2 = t_m2(torch.as_tensor(x))
    m2(ember.tensor(x))
    m2.load_state_dict({k: v.numpy() for k, v in t_m2.state_dict().items()})
    m2.eval(), t_m2.eval()
    np.testing.assert_allclose(m2(ember.tensor(x)).detach().numpy(), t_m2(torch.as_tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    assert tuple(t_out2.shape) == tuple(out.shape)


@pytest.mark.parametrize("lazy, args, regular, regular_args, shape", CASES, ids=IDS)
def test_same_initialisation_as_the_regular_layer(lazy, args, regular, regular_args, shape):
    x = ember.randn(*shape)
    ember.manual_seed(7)
    m = getattr(nn, lazy)(*args).eval()  # eval: the forward leaves the running statistics as initialised
    m(x)
    ember.manual_seed(7)
    ref = getattr(nn, regular)(*regular_args, **_regular_kwargs(regular))
    for (k, v), (rk, rv) in zip(m.state_dict().items(), ref.state_dict().items()):
        assert k == rk
        np.testing.assert_array_equal(v.numpy(), rv.numpy(), err_msg=k)


def test_placeholders_as_torch(torch):
    m, t_m = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    assert isinstance(m.weight, UninitializedParameter) and isinstance(m.weight, nn.Parameter)
    assert is_lazy(m.weight) and not is_lazy(nn.Parameter(ember.zeros(2)))
    assert repr(m.weight) == repr(t_m.weight) == "<UninitializedParameter>"
    with pytest.raises(RuntimeError, match="uninitialized parameter"):
        m.weight.shape
    with pytest.raises(RuntimeError):
        t_m.weight.shape
    for method in ("numpy", "numel", "dim"):
        with pytest.raises(ValueError, match="uninitialized parameter"):
            getattr(m.weight, method)()
        with pytest.raises(ValueError):
            getattr(t_m.weight, method)()
    assert tuple(m.weight.size()) == tuple(t_m.weight.size()) == (0,)
    with pytest.raises(ValueError, match="uninitialized parameter"):
        m.weight.numpy()
    with pytest.raises(ValueError):
        t_m.weight.numpy()
    assert m.weight.requires_grad and m.weight.dtype is ember.float32
    buf = nn.LazyBatchNorm1d().running_mean
    assert isinstance(buf, UninitializedBuffer) and not buf.requires_grad
    assert type(nn.LazyBatchNorm1d().num_batches_tracked) is ember.Tensor
    assert nn.modules.lazy.LazyModuleMixin is type(m).__mro__[1]
    assert nn.UninitializedParameter is UninitializedParameter


def test_to_before_the_first_forward_keeps_placeholders_and_sets_the_dtype(torch):
    m = nn.LazyBatchNorm1d().to(ember.float64)
    t_m = torch.nn.LazyBatchNorm1d().to(torch.float64)
    assert isinstance(m.weight, UninitializedParameter) and isinstance(m.running_mean, UninitializedBuffer)
    assert _torch_types(t_m) == {k: type(v).__name__ for k, v in m.state_dict().items()}
    m(ember.randn(4, 3, dtype=ember.float64))
    assert m.weight.dtype is m.running_mean.dtype is ember.float64
    assert nn.LazyLinear(2, dtype=ember.float64).weight.dtype is ember.float64


def test_load_state_dict_materializes_from_the_checkpoint(torch):
    src = nn.Linear(4, 3)
    m = nn.LazyLinear(3)
    w = m.weight
    m.load_state_dict(src.state_dict())
    assert type(w) is nn.Parameter and w is m.weight and tuple(w.shape) == (3, 4)
    assert not m.has_uninitialized_params()
    np.testing.assert_array_equal(m.weight.detach().numpy(), src.weight.detach().numpy())
    out = m(ember.randn(2, 4))
    assert type(m) is nn.Linear and m.in_features == 4 and tuple(out.shape) == (2, 3)
    t_m = torch.nn.LazyLinear(3)  # torch does the same
    t_m.load_state_dict({k: torch.as_tensor(v.numpy()) for k, v in src.state_dict().items()})
    t_m(torch.randn(2, 4))
    assert type(t_m) is torch.nn.Linear and t_m.in_features == 4
    np.testing.assert_array_equal(m.weight.detach().numpy(), src.weight.detach().numpy())  # not re-drawn


def test_in_a_model_and_copies(torch):
    model = nn.Sequential(nn.LazyConv2d(4, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2))
    clone = copy.deepcopy(model)
    pickled = pickle.loads(pickle.dumps(model))
    for m in (model, clone, pickled):
        assert tuple(m(ember.randn(1, 3, 5, 5)).shape) == (1, 2)
        assert type(m[0]) is nn.Conv2d and m[0].in_channels == 3 and m[3].in_features == 36


def test_a_user_lazy_module():
    class LazyScale(nn.modules.lazy.LazyModuleMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = UninitializedParameter()

        def initialize_parameters(self, x):
            if self.has_uninitialized_params():
                with ember.no_grad():
                    self.scale.materialize(x.shape[-1:])
                    self.scale.fill_(2.0)

        def forward(self, x):
            return x * self.scale

    m = LazyScale()
    np.testing.assert_array_equal(m(ember.ones(2, 3)).detach().numpy(), np.full((2, 3), 2.0, np.float32))
    assert type(m) is LazyScale and not m.has_uninitialized_params()  # cls_to_become None: the class stays

    class Broken(nn.modules.lazy.LazyModuleMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.w = UninitializedParameter()

        def initialize_parameters(self, x):
            pass

    with pytest.raises(RuntimeError, match="not been fully initialized"):
        Broken()(ember.ones(2))


def test_d2l_style_lazy_network_trains_as_torch(torch):
    """d2l.ai's LeNet with lazy layers: Adam built before the dummy forward, xavier init after it."""
    def build(lib):
        lib.manual_seed(0)
        n = lib.nn
        return n.Sequential(n.LazyConv2d(6, kernel_size=5, padding=2), n.LazyBatchNorm2d(), n.Sigmoid(),
                            n.AvgPool2d(kernel_size=2, stride=2), n.Flatten(), n.LazyLinear(12), n.ReLU(),
                            n.LazyLinear(10))

    net, t_net = build(ember), build(torch)
    opt, t_opt = ember.optim.Adam(net.parameters(), lr=0.01), torch.optim.Adam(t_net.parameters(), lr=0.01)
    with pytest.raises(ValueError):
        sum(p.numel() for p in net.parameters())
    net(ember.ones(2, 1, 12, 12)), t_net(torch.ones(2, 1, 12, 12))
    net.apply(lambda m: nn.init.xavier_uniform_(m.weight) if type(m) in (nn.Linear, nn.Conv2d) else None)
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in t_net.parameters())
    t_net.load_state_dict({k: torch.as_tensor(v.numpy()) for k, v in net.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 1, 12, 12)).astype(np.float32)
    y = np.array([0, 1, 2, 3])
    for _ in range(2):
        loss = nn.functional.cross_entropy(net(ember.tensor(x)), ember.tensor(y))
        t_loss = torch.nn.functional.cross_entropy(t_net(torch.as_tensor(x)), torch.as_tensor(y))
        opt.zero_grad(), t_opt.zero_grad()
        loss.backward(), t_loss.backward()
        opt.step(), t_opt.step()
        np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-4)
    assert len(opt.state) == len(t_opt.state) == 8
