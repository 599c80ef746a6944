"""The BLAS thread policy: ``set_num_threads`` pins the pools; by default the thread count follows the cores
other processes leave free (read from a faked /proc/stat here, so the tests do not depend on the machine)."""

import pytest

import ember
from ember import thread_policy


@pytest.fixture
def policy(monkeypatch):
    """A fresh adaptive policy on a fake 2-core machine whose load the test sets; restored afterwards."""
    saved = {k: v for k, v in vars(thread_policy._State).items() if not k.startswith("__")}
    before = ember.get_num_threads()
    for name in thread_policy.PIN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    load = {"clock": 100.0, "machine": 0.0, "own": 0.0}
    monkeypatch.setattr(thread_policy, "_cores", lambda: 2)
    monkeypatch.setattr(thread_policy, "_machine_busy_seconds", lambda: load["machine"])
    monkeypatch.setattr(thread_policy, "_own_cpu_seconds", lambda: load["own"])
    monkeypatch.setattr(thread_policy, "_clock", lambda: load["clock"])
    thread_policy._State.pinned, thread_policy._State.next_check, thread_policy._State.last = None, 0.0, None

    def run_for(seconds, own_cores, other_cores):
        load["clock"] += seconds
        load["own"] += seconds * own_cores
        load["machine"] += seconds * (own_cores + other_cores)
        thread_policy.adapt()
        return thread_policy._State.applied

    yield run_for
    monkeypatch.undo()
    for key, value in saved.items():
        setattr(thread_policy._State, key, value)
    thread_policy._apply(before)


def test_one_thread_until_the_first_load_reading(policy):
    assert policy(0.0, own_cores=0.0, other_cores=0.0) == 1


def test_every_core_when_no_other_process_runs(policy):
    policy(0.0, 0.0, 0.0)
    assert policy(thread_policy.INTERVAL_S, own_cores=2.0, other_cores=0.05) == 2


def test_one_thread_beside_a_busy_neighbour(policy):
    policy(0.0, 0.0, 0.0)
    assert policy(thread_policy.INTERVAL_S, own_cores=1.0, other_cores=1.0) == 1


def test_threads_come_back_when_the_neighbour_stops(policy):
    policy(0.0, 0.0, 0.0)
    assert policy(thread_policy.INTERVAL_S, own_cores=1.0, other_cores=0.9) == 1
    assert policy(thread_policy.INTERVAL_S, own_cores=1.0, other_cores=0.0) == 2


def test_the_load_is_read_at_most_once_per_interval(policy):
    policy(0.0, 0.0, 0.0)
    assert policy(thread_policy.INTERVAL_S, own_cores=1.0, other_cores=1.0) == 1
    assert policy(thread_policy.INTERVAL_S / 10, own_cores=1.0, other_cores=0.0) == 1


def test_set_num_threads_pins_the_pools_and_turns_the_policy_off(policy):
    ember.set_num_threads(2)
    assert policy(thread_policy.INTERVAL_S, own_cores=1.0, other_cores=1.0) == 2
    assert ember.get_num_threads() == 2


def test_the_environment_pins_the_threads_as_omp_num_threads_does(policy, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert policy(thread_policy.INTERVAL_S, own_cores=2.0, other_cores=0.0) == 1
    assert policy(thread_policy.INTERVAL_S, own_cores=2.0, other_cores=0.0) == 1


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_refuses_what_torch_refuses(bad, torch):
    with pytest.raises(RuntimeError) as torch_error:
        torch.set_num_threads(bad)
    with pytest.raises(RuntimeError) as ember_error:
        ember.set_num_threads(bad)
    assert str(ember_error.value).split(",")[0] == str(torch_error.value).split(",")[0]


def test_backward_lets_the_policy_read_the_load(policy):
    x = ember.ones(3, requires_grad=True)
    thread_policy._State.next_check = 0.0
    (x * x).sum().backward()
    assert thread_policy._State.last is not None
