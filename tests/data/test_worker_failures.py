"""DataLoader worker processes that hang, die or return what cannot be sent: each is a clear error in
the main process (never a hang), and no worker is left behind."""

import os
import signal
import threading
import time

import numpy as np
import pytest

from ember.utils.data import DataLoader, Dataset


class Stuck(Dataset):
    """Samples from index 2 on take a minute: a worker reading one is stuck."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i >= 2:
            time.sleep(60)
        return np.ones(2, np.float32)


class Dies(Dataset):
    """The worker reading index 3 exits with status 3."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 3:
            os._exit(3)
        return np.full(2, i, np.float32)


class HoldsALock(Dataset):
    """Sample 2 holds a lock, which cannot be pickled."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return {"x": np.ones(2), "lock": threading.Lock() if i == 2 else None}


def gone(pids):
    """True when none of ``pids`` is still running (reaped or a zombie of ours already waited on)."""
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        return False
    return True


def test_timeout_raises_and_the_stuck_worker_is_terminated():
    iterator = iter(DataLoader(Stuck(), batch_size=2, num_workers=1, timeout=0.5))
    assert next(iterator).shape == (2, 2)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.5 seconds"):
        next(iterator)
    assert gone(iterator.worker_pids)


def test_a_worker_that_exits_is_reported_with_its_pid_and_exit_code():
    iterator = iter(DataLoader(Dies(), batch_size=1, num_workers=2))
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly with exit code\(s\) 3"):
        list(iterator)
    assert gone(iterator.worker_pids)


def test_a_killed_worker_is_reported_not_waited_for():
    iterator = iter(DataLoader(Stuck(), batch_size=1, num_workers=1))
    next(iterator)
    os.kill(iterator.worker_pids[0], signal.SIGKILL)
    with pytest.raises(RuntimeError, match=r"exited unexpectedly with exit code\(s\) -9"):
        list(iterator)


def test_a_batch_that_cannot_be_pickled_raises_naming_the_batch_and_the_type():
    loader = DataLoader(HoldsALock(), batch_size=None, num_workers=2)
    with pytest.raises(TypeError, match=r"batch 2 .*the batch\['lock'\] is a _thread\.lock, which cannot be pickled"):
        list(loader)


def test_an_unpicklable_collated_batch_names_its_indices():
    def keep_as_is(samples):
        return samples

    loader = DataLoader(HoldsALock(), batch_size=2, num_workers=1, collate_fn=keep_as_is)
    with pytest.raises(TypeError, match=r"batch 1 \(indices \[2, 3\]\).*the batch\[0\]\['lock'\]"):
        list(loader)


def test_workers_still_deliver_every_batch_in_order_after_the_changes():
    batches = list(DataLoader(Dies(), batch_size=1, num_workers=2, sampler=[0, 1, 2, 4, 5, 6, 7]))
    assert [b.tolist() for b in batches] == [[[float(i)] * 2] for i in (0, 1, 2, 4, 5, 6, 7)]


class SlowFirst(Dataset):
    """Sample 0 takes a while, the others are immediate."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 0:
            time.sleep(0.5)
        return i


def test_out_of_order_loading_yields_every_batch_once():
    loader = DataLoader(SlowFirst(), batch_size=None, num_workers=2, in_order=False)
    assert sorted(int(b) for b in loader) == list(range(6))
    in_order = DataLoader(SlowFirst(), batch_size=None, num_workers=2)
    assert [int(b) for b in in_order] == list(range(6))
