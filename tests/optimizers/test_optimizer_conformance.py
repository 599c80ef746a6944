"""The generic optimizer check, run over every registered optimizer and each of its ``sample_options``:
it descends a small least-squares problem through ember's autograd, its state_dict round-trips, it
zeroes gradients, and it rejects bad arguments with messages that name it."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import ember
from ember.optim import Optimizer
from ember.optim.lr_scheduler import LRScheduler
from ember.plugins import registries
from ember.testing import suite_names

OPTIMIZERS = [n for n in suite_names("optimizers")  # ember's own plugins unless --ember-all-plugins
              if isinstance(registries["optimizers"][n], type) and issubclass(registries["optimizers"][n], Optimizer)]
CASES = [(n, i) for n in OPTIMIZERS for i in range(len(registries["optimizers"][n].sample_options))]
IDS = [f"{n}-{i}" for n, i in CASES]


def _problem(dtype=ember.float64):
    """Least squares ||A x - y||^2 / n: its parameters and a closure computing loss and gradients."""
    rng = np.random.default_rng(0)
    A = ember.tensor(rng.standard_normal((10, 4)), dtype=dtype)
    y = ember.tensor(rng.standard_normal((10, 1)), dtype=dtype)
    x = ember.nn.Parameter(ember.zeros(4, 1, dtype=dtype))
    c = ember.nn.Parameter(ember.zeros(1, dtype=dtype))

    def loss_fn():
        return ((A.matmul(x) + c - y) ** 2).sum() / 10

    return [x, c], loss_fn


def _run(cls, options, steps, dtype=ember.float64):
    params, loss_fn = _problem(dtype)
    opt = cls(params, **options)
    sign = -1.0 if options.get("maximize") else 1.0  # a maximizing optimizer climbs -loss

    def closure():
        opt.zero_grad()
        loss = loss_fn() * sign
        loss.backward()
        return loss

    losses = [float(loss_fn())]
    for _ in range(steps):
        opt.step(closure)
        losses.append(float(loss_fn()))
    return opt, params, losses


def test_every_optimizer_declares_sample_options():
    assert OPTIMIZERS
    for name in OPTIMIZERS:
        assert registries["optimizers"][name].sample_options, f"{name} declares no sample_options"


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,index", CASES, ids=IDS)
def test_descends_the_sample_problem(name, index, dtype):
    cls = registries["optimizers"][name]
    _, params, losses = _run(cls, cls.sample_options[index], 25, dtype)
    assert losses[-1] < 0.7 * losses[0], f"{name}{cls.sample_options[index]} did not descend: {losses}"
    assert all(p.dtype == dtype and p.is_leaf and p.requires_grad for p in params)


@pytest.mark.parametrize("name,index", CASES, ids=IDS)
def test_state_dict_round_trip(name, index):
    cls = registries["optimizers"][name]
    opt, params, _ = _run(cls, cls.sample_options[index], 3)
    saved = opt.state_dict()
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1]]
    assert set(saved["state"]) <= {0, 1}
    frozen = copy.deepcopy(saved)
    other = cls([ember.nn.Parameter(p.detach().clone()) for p in params], **cls.sample_options[index])
    other.load_state_dict(pickle.loads(pickle.dumps(saved)))
    again = other.state_dict()
    assert again["param_groups"] == frozen["param_groups"]
    for key, state in frozen["state"].items():
        assert set(again["state"][key]) == set(state)
        for field, value in state.items():
            mine = again["state"][key][field]
            if isinstance(value, ember.Tensor):
                assert mine.dtype == value.dtype and mine.shape == value.shape
                np.testing.assert_array_equal(mine.numpy(), value.numpy())


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_zero_grad_sets_to_none_or_zeros(name):
    cls = registries["optimizers"][name]
    opt, params, _ = _run(cls, cls.sample_options[0], 1)
    for p in params:
        p.grad = ember.ones_like(p)
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in params)
    opt.zero_grad()
    assert all(p.grad is None for p in params)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_empty_parameter_list_names_the_optimizer(name):
    with pytest.raises(ValueError, match=rf"{name}: optimizer got an empty parameter list"):
        registries["optimizers"][name]([])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_negative_lr_names_the_optimizer_and_the_value(name):
    p = ember.nn.Parameter(ember.zeros(2))
    with pytest.raises(ValueError, match=rf"{name}: invalid learning rate: -0.5 \(expected >= 0"):
        registries["optimizers"][name]([p], lr=-0.5)


def test_a_tensor_instead_of_an_iterable_is_refused():
    with pytest.raises(TypeError, match="SGD: params argument .* got a Tensor"):
        ember.optim.SGD(ember.nn.Parameter(ember.zeros(2)), lr=0.1)


def test_a_parameter_in_two_groups_is_refused():
    p = ember.nn.Parameter(ember.zeros(2))
    with pytest.raises(ValueError, match="Adam: some parameters appear in more than one parameter group"):
        ember.optim.Adam([{"params": [p]}, {"params": [p]}])


def test_add_param_group_takes_defaults_and_its_own_options():
    a, b = ember.nn.Parameter(ember.zeros(2)), ember.nn.Parameter(ember.zeros(3))
    opt = ember.optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["params"] == [b]


def test_step_hooks_run_around_step():
    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=0.5)
    seen = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(("pre", p.detach().numpy().copy())))
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append(("post", p.detach().numpy().copy())))
    p.grad = ember.ones(2)
    opt.step()
    assert [s for s, _ in seen] == ["pre", "post"] and seen[1][1].tolist() == [0.5, 0.5]
    pre.remove()
    opt.step()
    assert [s for s, _ in seen] == ["pre", "post", "post"]


def test_step_updates_in_place_and_bumps_the_version():
    p = ember.nn.Parameter(ember.ones(3))
    data, version = p._data, p._version
    opt = ember.optim.Adam([p], lr=0.1)
    p.grad = ember.ones(3)
    opt.step()
    assert p._data is data and p._version > version


def test_lbfgs_without_closure_says_it_needs_one():
    p = ember.nn.Parameter(ember.ones(3))
    with pytest.raises(RuntimeError, match="LBFGS.step requires a closure"):
        ember.optim.LBFGS([p]).step()


def test_schedulers_register_into_lr_scheduler_namespace():
    names = [n for n, e in registries["optimizers"].entries.items() if issubclass(e.obj, LRScheduler)]
    assert "StepLR" in names and "ReduceLROnPlateau" in names
    for n in names:
        assert getattr(ember.optim.lr_scheduler, n) is registries["optimizers"][n]
        assert not hasattr(ember.optim, n)
