"""ember.nn.Module's everyday API, the containers, nn.init and nn.utils, against PyTorch's behaviour."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import ember
from ember import nn


def _net(lib):
    m = lib.nn
    net = m.Sequential(m.Linear(3, 4), m.BatchNorm1d(4), m.ReLU(), m.Sequential(m.Linear(4, 2), m.Tanh()))
    net.register_buffer("scale", lib.ones(2), persistent=False)
    return net


def test_state_dict_keys_order_and_named_members_match_torch(torch):
    ours, theirs = _net(ember), _net(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert repr(ours) == repr(theirs)


def test_get_submodule_parameter_buffer():
    net = _net(ember)
    assert net.get_submodule("3.0") is net[3][0]
    assert net.get_parameter("3.0.bias") is net[3][0].bias
    assert net.get_buffer("1.running_mean") is net[1].running_mean
    with pytest.raises(AttributeError, match="has no submodule '9'"):
        net.get_submodule("3.9")


def test_load_state_dict_reports_missing_unexpected_and_mis_shaped_keys():
    net = nn.Linear(3, 2)
    good = {k: v.numpy() for k, v in net.state_dict().items()}
    with pytest.raises(RuntimeError, match=r'Error\(s\) in loading state_dict for Linear:\n\tMissing key\(s\) in '
                                           r'state_dict: "bias"\.\n\tUnexpected key\(s\) in state_dict: "extra"'):
        net.load_state_dict({"weight": good["weight"], "extra": np.zeros(1)})
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with shape \(2, 4\) from "
                                           r"checkpoint, the shape in current model is \(2, 3\)"):
        net.load_state_dict({"weight": np.zeros((2, 4)), "bias": good["bias"]}, strict=False)
    result = net.load_state_dict({"weight": good["weight"] * 0 + 1, "other": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["other"]
    assert (net.weight.detach().numpy() == 1).all()
    assert repr(net.load_state_dict(good)) == "<All keys matched successfully>"


def test_load_state_dict_assign_replaces_tensors():
    net = nn.Linear(2, 2)
    old = net.weight
    net.load_state_dict({"weight": np.eye(2, dtype=np.float32), "bias": np.zeros(2, np.float32)}, assign=True)
    assert net.weight is not old and isinstance(net.weight, nn.Parameter) and net.weight.requires_grad


def test_load_state_dict_copies_in_place_so_optimizers_keep_their_parameters():
    net = nn.Linear(2, 2)
    opt = ember.optim.SGD(net.parameters(), lr=0.1)
    net.load_state_dict({"weight": np.ones((2, 2)), "bias": np.ones(2)})
    assert opt.param_groups[0]["params"][0] is net.weight and (net.weight.detach().numpy() == 1).all()


def test_forward_hooks_pre_post_kwargs_prepend_and_removal():
    net = nn.Linear(2, 2)
    calls = []
    h1 = net.register_forward_pre_hook(lambda m, args: calls.append("pre") or (args[0] * 0,))
    net.register_forward_pre_hook(lambda m, args: calls.append("first"), prepend=True)
    h3 = net.register_forward_hook(lambda m, args, kwargs, out: calls.append(("post", kwargs)) or out + 1,
                                   with_kwargs=True)
    out = net(ember.ones(1, 2))
    assert calls == ["first", "pre", ("post", {})]
    np.testing.assert_allclose(out.detach().numpy(), net.bias.detach().numpy()[None] + 1)
    h1.remove()
    h3.remove()
    calls.clear()
    np.testing.assert_allclose(net(ember.zeros(1, 2)).detach().numpy(), net.bias.detach().numpy()[None])
    assert calls == ["first"]


def test_always_call_hook_runs_when_forward_raises():
    net = nn.Linear(2, 2)
    seen = []
    net.register_forward_hook(lambda m, args, out: seen.append(out), always_call=True)
    with pytest.raises(RuntimeError):
        net(ember.zeros(1, 3))
    assert seen == [None]


def test_train_eval_requires_grad_zero_grad_apply():
    net = _net(ember)
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_(True)
    net(ember.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Sequential" and seen[0] == "Linear"


def test_to_double_float_half_cast_floating_state_only():
    net = _net(ember)
    weight = net[0].weight
    net.double()
    assert net[0].weight is weight and weight.dtype == ember.float64
    assert net[1].running_mean.dtype == ember.float64 and net[1].num_batches_tracked.dtype == ember.int64
    net.to(ember.float32)
    assert weight.dtype == ember.float32
    net.to("cpu", ember.float64)
    assert weight.dtype == ember.float64 and weight.device == ember.device("cpu")
    net.half()
    assert weight.dtype == ember.float16
    with pytest.raises(TypeError, match="only floating point dtypes"):
        net.to(ember.int64)


def test_parameters_and_modules_are_found_once_when_shared():
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, shared)
    assert len(list(net.parameters())) == 2 and len(list(net.modules())) == 2


def test_register_buffer_persistence_and_attribute_rules():
    m = nn.Module()
    m.register_buffer("a", ember.zeros(1))
    m.register_buffer("b", ember.zeros(1), persistent=False)
    assert list(m.state_dict()) == ["a"] and [n for n, _ in m.named_buffers()] == ["a", "b"]
    with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'a'"):
        m.a = 3
    with pytest.raises(KeyError, match="attribute 'training' already exists"):
        m.register_buffer("training", ember.zeros(1))


def test_deepcopy_gives_independent_parameters():
    net = nn.Linear(2, 2)
    twin = copy.deepcopy(net)
    with ember.no_grad():
        twin.weight._data[...] = 0
    assert net.weight.detach().numpy().any()


def test_sequential_indexing_slicing_append_insert_delete():
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Tanh())
    assert isinstance(seq[1], nn.ReLU) and isinstance(seq[-1], nn.Tanh) and len(seq) == 3
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    seq.append(nn.Sigmoid()).insert(0, nn.Identity())
    assert [type(m).__name__ for m in seq] == ["Identity", "Linear", "ReLU", "Tanh", "Sigmoid"]
    del seq[0]
    assert list(seq._modules) == ["0", "1", "2", "3"]
    with pytest.raises(IndexError, match="Sequential: index 7 is out of range for 4 entries"):
        seq[7]


def test_module_list_dict_parameter_list_dict(torch):
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers.append(nn.ReLU())
    layers += [nn.Tanh()]
    assert len(layers) == 4 and list(layers.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    table = nn.ModuleDict({"enc": nn.Linear(2, 3), "dec": nn.Linear(3, 2)})
    assert list(table.keys()) == ["enc", "dec"] and list(table.state_dict())[0] == "enc.weight"
    plist = nn.ParameterList([ember.zeros(2), nn.Parameter(ember.ones(3))])
    assert all(isinstance(p, nn.Parameter) for p in plist) and list(plist.state_dict()) == ["0", "1"]
    pdict = nn.ParameterDict({"w": ember.zeros(2)})
    pdict["b"] = ember.ones(1)
    assert list(pdict.keys()) == ["w", "b"] and len(list(pdict.parameters())) == 2
    holder = nn.Module()
    holder.blocks = table
    assert [n for n, _ in holder.named_parameters()] == ["blocks.enc.weight", "blocks.enc.bias", "blocks.dec.weight",
                                                         "blocks.dec.bias"]
    t = torch.nn
    assert repr(layers).replace("ember", "torch") == repr(t.ModuleList([t.Linear(2, 2), t.Linear(2, 2), t.ReLU(),
                                                                         t.Tanh()]))


# -- nn.init -------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn,kwargs,bound", [
    ("kaiming_uniform_", {"a": math.sqrt(5)}, lambda fan_in, fan_out: math.sqrt(6 / ((1 + 5) * fan_in))),
    ("xavier_uniform_", {"gain": 2.0}, lambda fan_in, fan_out: 2.0 * math.sqrt(6 / (fan_in + fan_out))),
])
def test_uniform_initialisers_use_torchs_bounds(fn, kwargs, bound):
    w = ember.empty(64, 32, 3)
    getattr(nn.init, fn)(w, **kwargs)
    b = bound(32 * 3, 64 * 3)
    values = w.detach().numpy()
    assert np.abs(values).max() <= b and np.abs(values).max() > 0.95 * b
    assert abs(values.std() - b / math.sqrt(3)) < 0.05 * b


@pytest.mark.parametrize("fn,kwargs,std", [
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / (64 * 9))),
    ("xavier_normal_", {}, math.sqrt(2 / (32 * 9 + 64 * 9))),
    ("normal_", {"mean": 1.0, "std": 0.5}, 0.5),
])
def test_normal_initialisers_use_torchs_std(fn, kwargs, std):
    w = ember.empty(64, 32, 9)
    getattr(nn.init, fn)(w, **kwargs)
    assert abs(w.detach().numpy().std() - std) < 0.03 * std


def test_fan_and_gain_match_torch(torch):
    for shape in [(5, 3), (8, 4, 3, 3), (2, 6, 5)]:
        assert nn.init._calculate_fan_in_and_fan_out(ember.empty(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    for name, param in [("relu", None), ("leaky_relu", 0.2), ("tanh", None), ("selu", None), ("conv2d", None)]:
        assert nn.init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_trunc_normal_orthogonal_eye_dirac_constant(torch):
    w = nn.init.trunc_normal_(ember.empty(4000), mean=0.5, std=1.0, a=0.0, b=1.0).numpy()
    assert w.min() >= 0.0 and w.max() <= 1.0 and abs(w.mean() - 0.5) < 0.03
    q = nn.init.orthogonal_(ember.empty(6, 4), gain=2.0).detach().numpy()
    np.testing.assert_allclose(q.T @ q, 4 * np.eye(4), atol=1e-5)
    np.testing.assert_array_equal(nn.init.eye_(ember.empty(2, 3)).numpy(), torch.nn.init.eye_(torch.empty(2, 3)))
    np.testing.assert_array_equal(nn.init.dirac_(ember.empty(4, 2, 3, 3), groups=2).numpy(),
                                  torch.nn.init.dirac_(torch.empty(4, 2, 3, 3), groups=2))
    assert (nn.init.constant_(ember.empty(3), 0.3).numpy() == np.float32(0.3)).all()
    assert (nn.init.ones_(ember.empty(2)).numpy() == 1).all() and not nn.init.zeros_(ember.ones(2)).numpy().any()


def test_initialisers_do_not_record_and_bump_the_version():
    p = nn.Parameter(ember.empty(3, 3))
    version = p._version
    out = nn.init.xavier_uniform_(p)
    assert out is p and p.is_leaf and p._version > version


# -- nn.utils -------------------------------------------------------------------------------------

def _with_grads(lib, values):
    params = []
    for v in values:
        p = lib.nn.Parameter(lib.tensor(np.zeros_like(v)))
        p.grad = lib.tensor(v.copy())
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0])
def test_clip_grad_norm_matches_torch(torch, norm_type):
    values = [np.random.default_rng(0).standard_normal((3, 4)), np.random.default_rng(1).standard_normal(5)]
    ours, theirs = _with_grads(ember, values), _with_grads(torch, values)
    total = nn.utils.clip_grad_norm_(ours, 1.5, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, 1.5, norm_type)
    assert float(total) == pytest.approx(float(t_total), rel=1e-12)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_nonfinite_error():
    ours = _with_grads(ember, [np.array([np.inf, 1.0])])
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm of order 2.0 .* is non-finite"):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch(torch):
    values = [np.linspace(-3, 3, 7)]
    ours, theirs = _with_grads(ember, values), _with_grads(torch, values)
    nn.utils.clip_grad_value_(ours, 1.2)
    torch.nn.utils.clip_grad_value_(theirs, 1.2)
    np.testing.assert_array_equal(ours[0].grad.numpy(), theirs[0].grad.numpy())


def test_parameters_to_vector_and_back():
    net = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(net.parameters())
    assert tuple(vec.shape) == (8,)
    np.testing.assert_array_equal(vec.detach().numpy()[:6], net.weight.detach().numpy().ravel())
    nn.utils.vector_to_parameters(ember.arange(8, dtype=ember.float32), net.parameters())
    np.testing.assert_array_equal(net.bias.detach().numpy(), [6, 7])
    with pytest.raises(ValueError, match=r"expected a 1-D vector of 8 elements .* got shape \(7,\)"):
        nn.utils.vector_to_parameters(ember.zeros(7), net.parameters())
