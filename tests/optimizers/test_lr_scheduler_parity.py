"""Every scheduler yields PyTorch's learning-rate sequence (and momentum, where it cycles it), over two
param groups; its state_dict resumes the sequence; attached to nothing it says what it expected."""

from __future__ import annotations


import numpy as np
import pytest

import ember


def _two_groups(lib, opt="SGD", **options):
    a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    if lib is ember:
        a, b = ember.nn.Parameter(a.detach()), ember.nn.Parameter(b.detach())
    return getattr(lib.optim, opt)([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, **options)


# name -> (optimizer kind and options, scheduler builder given (lib, optimizer), steps)
CASES = {
    "StepLR": (("SGD", {}), lambda L, o: L.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
    "MultiStepLR": (("SGD", {}), lambda L, o: L.optim.lr_scheduler.MultiStepLR(o, [2, 5, 5, 9], gamma=0.3)),
    "ExponentialLR": (("SGD", {}), lambda L, o: L.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
    "CosineAnnealingLR": (("SGD", {}), lambda L, o: L.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.01)),
    "CosineAnnealingWarmRestarts": (("SGD", {}), lambda L, o: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.001)),
    "LinearLR": (("SGD", {}), lambda L, o: L.optim.lr_scheduler.LinearLR(o, start_factor=0.2, total_iters=6)),
    "ConstantLR": (("SGD", {}), lambda L, o: L.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=4)),
    "LambdaLR": (("SGD", {}), lambda L, o: L.optim.lr_scheduler.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: 1 / (e + 1)])),
    "MultiplicativeLR": (("SGD", {}), lambda L, o: L.optim.lr_scheduler.MultiplicativeLR(o, lambda e: 0.95)),
    "PolynomialLR": (("SGD", {}), lambda L, o: L.optim.lr_scheduler.PolynomialLR(o, total_iters=8, power=2.0)),
    "OneCycleLR": (("SGD", {"momentum": 0.9}), lambda L, o: L.optim.lr_scheduler.OneCycleLR(o, max_lr=[1.0, 0.5],
                                                                                          total_steps=31)),
    "OneCycleLR-3phase-linear-adam": (("Adam", {}), lambda L, o: L.optim.lr_scheduler.OneCycleLR(
        o, max_lr=0.3, total_steps=40, three_phase=True, anneal_strategy="linear")),
    "CyclicLR": (("SGD", {"momentum": 0.9}), lambda L, o: L.optim.lr_scheduler.CyclicLR(
        o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=4, step_size_down=3)),
    "CyclicLR-triangular2": (("SGD", {"momentum": 0.9}), lambda L, o: L.optim.lr_scheduler.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="triangular2")),
    "CyclicLR-exp_range-adam": (("Adam", {}), lambda L, o: L.optim.lr_scheduler.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.9)),
    "SequentialLR": (("SGD", {}), lambda L, o: L.optim.lr_scheduler.SequentialLR(
        o, [L.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=4),
            L.optim.lr_scheduler.ExponentialLR(o, gamma=0.8)], milestones=[5])),
    "ChainedScheduler": (("SGD", {}), lambda L, o: L.optim.lr_scheduler.ChainedScheduler(
        [L.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=3),
         L.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)])),
}


def _trace(lib, case, steps=30):
    (opt_name, opt_options), build = CASES[case]
    opt = _two_groups(lib, opt_name, **opt_options)
    sched = build(lib, opt)
    trace = []
    for _ in range(steps):
        trace.append(list(sched.get_last_lr()) + [g.get("momentum", g.get("betas", (0,))[0]) for g in opt.param_groups])
        opt.step()
        sched.step()
    return trace


@pytest.mark.parametrize("case", list(CASES))
def test_lr_sequence_matches_torch(torch, case):
    np.testing.assert_allclose(_trace(ember, case), _trace(torch, case), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", list(CASES))
def test_state_dict_resumes_the_sequence(case):
    (opt_name, opt_options), build = CASES[case]
    straight = _trace(ember, case, 20)
    opt = _two_groups(ember, opt_name, **opt_options)
    sched = build(ember, opt)
    for _ in range(10):
        opt.step()
        sched.step()
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    opt2 = _two_groups(ember, opt_name, **opt_options)
    sched2 = build(ember, opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    rest = []
    for _ in range(10):
        rest.append(list(sched2.get_last_lr()) + [g.get("momentum", g.get("betas", (0,))[0]) for g in opt2.param_groups])
        opt2.step()
        sched2.step()
    np.testing.assert_allclose(rest, straight[10:], rtol=1e-12)


def test_step_with_epoch_uses_closed_form_like_torch(torch):
    ours = ember.optim.lr_scheduler.CosineAnnealingLR(_two_groups(ember), T_max=10)
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(_two_groups(torch), T_max=10)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in (3, 7, 4):
            ours.step(epoch)
            theirs.step(epoch)
            np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)


@pytest.mark.parametrize("mode,threshold_mode", [("min", "rel"), ("max", "abs")])
def test_reduce_lr_on_plateau_matches_torch(torch, mode, threshold_mode):
    metrics = [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.5, 0.6, 0.6, 0.6, 0.6, 0.4, 0.45, 0.5, 0.5, 0.5, 0.5, 0.5]
    traces = []
    for lib in (ember, torch):
        opt = _two_groups(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, mode=mode, factor=0.5, patience=2, cooldown=1,
                                                         threshold_mode=threshold_mode, min_lr=[0.0, 0.02])
        trace = []
        for m in metrics:
            sched.step(m)
            trace.append(sched.get_last_lr())
        traces.append(trace)
    np.testing.assert_allclose(*traces, rtol=1e-12)


def test_reduce_lr_on_plateau_is_a_registered_lr_scheduler():
    from ember.optim.lr_scheduler import LRScheduler
    assert issubclass(ember.optim.lr_scheduler.ReduceLROnPlateau, LRScheduler)


@pytest.mark.parametrize("name,args", [("StepLR", (3,)), ("LambdaLR", (lambda e: 1.0,)),
                                       ("CyclicLR", (0.1, 1.0)), ("OneCycleLR", (1.0, 10)),
                                       ("ReduceLROnPlateau", ()), ("ExponentialLR", (0.5,))])
def test_scheduler_attached_to_nothing_names_itself_and_what_it_expected(name, args):
    cls = getattr(ember.optim.lr_scheduler, name)
    with pytest.raises(TypeError, match=rf"{name}: expected an ember.optim.Optimizer to schedule, got NoneType"):
        cls(None, *args)


def test_chained_scheduler_with_no_schedulers_says_so():
    with pytest.raises(ValueError, match="ChainedScheduler expects at least one scheduler"):
        ember.optim.lr_scheduler.ChainedScheduler([])


def test_sequential_lr_with_wrong_number_of_milestones_says_so():
    opt = _two_groups(ember)
    s = ember.optim.lr_scheduler.StepLR(opt, 2)
    with pytest.raises(ValueError, match="one milestone fewer than schedulers, got 1 schedulers and 1 milestones"):
        ember.optim.lr_scheduler.SequentialLR(opt, [s], milestones=[3])
