"""What the ``ember.optim.Optimizer`` base class and the schedulers' registration promise beyond the
generic checks of the conformance kit (which every optimizer gets from
``tests/optimizers/test_optimizer_kit.py``): argument validation, parameter groups, step hooks,
in-place updates, LBFGS's closure, and where schedulers are bound."""

from __future__ import annotations

import pytest

import ember
from ember.optim.lr_scheduler import LRScheduler
from ember.plugins import registries


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
