"""Threads: grad mode is per thread (as in PyTorch), and training in several threads at once gives what
training one after another gives. Each test runs real threads; barriers and a short switch interval
make them interleave op by op instead of one finishing before the other starts."""

import sys
import threading

import numpy as np
import pytest

import ember


@pytest.fixture(autouse=True)
def fast_thread_switching():
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def run_threads(*targets):
    """Start one thread per target, re-raise the first error any of them hit."""
    errors = []

    def guarded(fn):
        def run():
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - reported in the main thread
                errors.append(exc)
        return run

    threads = [threading.Thread(target=guarded(fn)) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        raise errors[0]


def in_thread(fn):
    result = []
    run_threads(lambda: result.append(fn()))
    return result[0]


def test_a_new_thread_starts_with_grad_enabled_and_inference_mode_off(torch):
    state = lambda mod: (mod.is_grad_enabled(), mod.is_inference_mode_enabled())  # noqa: E731
    with ember.no_grad():
        assert in_thread(lambda: state(ember)) == (True, False)
    with ember.inference_mode():
        assert in_thread(lambda: state(ember)) == (True, False)
    with torch.inference_mode():
        assert in_thread(lambda: state(torch)) == (True, False)


def test_set_grad_enabled_in_a_thread_does_not_leak_to_other_threads():
    def switch_off():
        ember.set_grad_enabled(False)
        assert not ember.is_grad_enabled()
    run_threads(switch_off)
    assert ember.is_grad_enabled()
    x = ember.ones(2, requires_grad=True)
    assert (x * 2).requires_grad


def test_default_dtype_is_process_wide_as_in_pytorch(torch):
    try:
        ember.set_default_dtype(ember.float64)
        torch.set_default_dtype(torch.float64)
        assert in_thread(lambda: ember.ones(1).dtype) is ember.float64
        assert in_thread(lambda: torch.ones(1).dtype) is torch.float64
    finally:
        ember.set_default_dtype(ember.float32)
        torch.set_default_dtype(torch.float32)


def test_no_grad_in_one_thread_leaves_recording_on_in_another():
    inside, checked = threading.Event(), threading.Event()
    recorded = []

    def quiet():
        with ember.no_grad():
            inside.set()
            checked.wait(10)

    def training():
        inside.wait(10)
        x = ember.ones(3, requires_grad=True)
        y = (x * 3).sum()
        recorded.append(y.requires_grad)
        checked.set()
        y.backward()
        recorded.append(x.grad.tolist())

    run_threads(quiet, training)
    assert recorded == [True, [3.0, 3.0, 3.0]]


def make_problem(seed):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((8, 4)).astype(np.float32), rng.standard_normal(8).astype(np.float32),
               rng.standard_normal((3, 8)).astype(np.float32), rng.standard_normal(3).astype(np.float32)]
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    return weights, x, y


def train(weights, x, y, steps=15, start=None):
    """A small MLP trained with SGD; returns its final weights."""
    model = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 3))
    with ember.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(ember.from_numpy(w))
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    inputs, targets = ember.from_numpy(x), ember.from_numpy(y)
    if start is not None:
        start.wait(10)
    for _ in range(steps):
        opt.zero_grad()
        loss = ember.nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


def test_n_threads_training_n_models_match_sequential_training():
    problems = [make_problem(seed) for seed in range(4)]
    expected = [train(*p) for p in problems]
    results = [None] * len(problems)
    start = threading.Barrier(len(problems))

    def worker(i):
        return lambda: results.__setitem__(i, train(*problems[i], start=start))

    run_threads(*(worker(i) for i in range(len(problems))))
    for got, want in zip(results, expected):
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


def test_a_no_grad_thread_beside_a_training_thread_drops_no_gradient():
    problem = make_problem(7)
    expected = train(*problem)
    done = threading.Event()
    got = []

    def evaluating():
        x = ember.ones(4, 4, requires_grad=True)
        while not done.is_set():
            with ember.no_grad():
                (x @ x).sum()
            with ember.inference_mode():
                x.relu()

    def training():
        try:
            got.extend(train(*problem))
            got.append(ember.is_grad_enabled())
        finally:
            done.set()

    run_threads(evaluating, training)
    assert got[-1] is True
    for g, w in zip(got[:-1], expected):
        np.testing.assert_array_equal(g, w)
    assert ember.is_grad_enabled() and not ember.is_inference_mode_enabled()


def test_threads_drawing_first_from_one_generator_share_one_stream():
    gen = ember.Generator().manual_seed(123)
    n = 6
    draws = [None] * n
    start = threading.Barrier(n)

    def worker(i):
        def run():
            start.wait(10)
            draws[i] = ember.randn(500, generator=gen).numpy()
        return run

    run_threads(*(worker(i) for i in range(n)))
    sequential = ember.Generator().manual_seed(123)
    expected = [ember.randn(500, generator=sequential).numpy() for _ in range(n)]
    # Each draw is one block of the stream; threads may take the blocks in any order, never twice.
    assert sorted(d.tobytes() for d in draws) == sorted(e.tobytes() for e in expected)


def test_the_default_generator_is_one_object_in_every_thread():
    seen = []
    run_threads(*(lambda: seen.append(ember.random.default_generator("cpu")) for _ in range(4)))
    assert all(g is ember.random.default_generator("cpu") for g in seen)


def test_threads_naming_a_new_device_at_once_get_one_object():
    n = 8
    start = threading.Barrier(n)
    found = []

    def name_it():
        start.wait(10)
        found.append(ember.device("cuda", 6))

    run_threads(*(name_it for _ in range(n)))
    assert all(d is found[0] for d in found) and found[0] is ember.device("cuda:6")


def test_nested_grad_modes_leave_the_state_torch_leaves(torch):
    def states(fw):
        seen = []
        with fw.no_grad(), fw.inference_mode(False):
            seen.append((fw.is_grad_enabled(), fw.is_inference_mode_enabled()))
        with fw.inference_mode():
            with fw.inference_mode(False):
                seen.append((fw.is_grad_enabled(), fw.is_inference_mode_enabled()))
            with fw.enable_grad():
                seen.append((fw.is_grad_enabled(), fw.is_inference_mode_enabled()))
            with fw.no_grad():
                seen.append((fw.is_grad_enabled(), fw.is_inference_mode_enabled()))
        seen.append(fw.inference_mode(False)(lambda: (fw.is_grad_enabled(), fw.is_inference_mode_enabled()))())
        seen.append((fw.is_grad_enabled(), fw.is_inference_mode_enabled()))
        return seen

    assert states(ember) == states(torch)


def test_the_default_device_is_per_thread_as_in_pytorch(torch):
    def device_in_new_thread(fw):
        return in_thread(lambda: (str(fw.get_default_device()), str(fw.zeros(1).device)))

    try:
        ember.set_default_device("cuda:1")
        torch.set_default_device("meta")  # torch's CPU build has no CUDA; any non-CPU device shows the rule
        assert device_in_new_thread(ember) == ("cpu", "cpu")
        assert device_in_new_thread(torch) == ("cpu", "cpu")
        assert str(ember.get_default_device()) == "cuda:1"
    finally:
        ember.set_default_device(None)
        torch.set_default_device(None)


@pytest.mark.ember_device("ref")
def test_factories_follow_the_default_device_of_their_own_thread():
    try:
        ember.set_default_device("ref")
        assert ember.zeros(1).device.type == "ref"
        assert in_thread(lambda: ember.zeros(1).device.type) == "cpu"
        assert in_thread(lambda: (ember.set_default_device("ref"), ember.ones(1).device.type)[1]) == "ref"
    finally:
        ember.set_default_device(None)
    assert ember.zeros(1).device.type == "cpu"


def test_autocast_is_per_thread_as_in_pytorch(torch):
    a, b = ember.ones(2, 2), ember.ones(2, 2)
    inside, checked = threading.Event(), threading.Event()
    seen = {}

    def mixed_precision():
        with ember.autocast("cpu"):
            seen["inside"] = (ember.is_autocast_enabled("cpu"), str((a @ b).dtype))
            inside.set()
            checked.wait(10)

    def full_precision():
        inside.wait(10)
        seen["beside"] = (ember.is_autocast_enabled("cpu"), str((a @ b).dtype))
        checked.set()

    run_threads(mixed_precision, full_precision)
    assert seen == {"inside": (True, "ember.bfloat16"), "beside": (False, "ember.float32")}
    assert str((a @ b).dtype) == "ember.float32" and not ember.is_autocast_enabled("cpu")
    with torch.autocast("cpu"):
        assert in_thread(lambda: torch.is_autocast_enabled("cpu")) is False


def test_set_autocast_enabled_in_a_thread_leaves_the_others_alone():
    def switch_on():
        ember.set_autocast_enabled("cpu", True)
        assert str((ember.ones(2, 2) @ ember.ones(2, 2)).dtype) == "ember.bfloat16"
        ember.set_autocast_enabled("cpu", False)

    run_threads(switch_on)
    assert not ember.is_autocast_enabled("cpu")
    assert str((ember.ones(2, 2) @ ember.ones(2, 2)).dtype) == "ember.float32"


def test_threads_running_backward_on_one_model_lose_no_gradient():
    n, reps = 200_000, 10
    weight = ember.ones(n, requires_grad=True)
    scales = [ember.full((n,), float(i + 1)) for i in range(4)]
    start = threading.Barrier(len(scales))

    def worker(scale):
        def run():
            start.wait(10)
            for _ in range(reps):
                (weight * scale).sum().backward()
        return run

    run_threads(*(worker(s) for s in scales))
    # integer-valued sums: exact in float32 whatever the order the threads added them in
    np.testing.assert_array_equal(weight.grad.numpy(), np.full(n, reps * (1 + 2 + 3 + 4), np.float32))


def test_a_thread_that_ends_with_grad_off_leaves_recording_on_in_the_others():
    x = ember.ones(2, requires_grad=True)
    run_threads(lambda: ember.set_grad_enabled(False))  # never switched back before the thread ends
    assert (x * 2).requires_grad
    assert in_thread(lambda: (x * 2).requires_grad)


def test_the_all_threads_grad_flag_is_off_exactly_while_some_thread_has_grad_off():
    from ember.autograd import grad_mode
    inside, leave = threading.Event(), threading.Event()
    seen = {}

    def no_grad_thread():
        with ember.no_grad():
            inside.set()
            leave.wait(timeout=30)

    def observer():
        inside.wait(timeout=30)
        seen["during"] = grad_mode.ALL_ENABLED[0]
        seen["records"] = (ember.ones(1, requires_grad=True) * 2).requires_grad
        leave.set()

    assert grad_mode.ALL_ENABLED[0]
    run_threads(no_grad_thread, observer)
    assert seen == {"during": False, "records": True}
    assert grad_mode.ALL_ENABLED[0]
