"""``ember.futures``: PyTorch's ``Future`` (``torch.futures``), a result that arrives later, with
``wait``, ``value``, ``done``, ``then`` callbacks, ``set_result``/``set_exception``, and ``collect_all`` /
``wait_all`` over lists. Thread-safe (a condition variable), as scripts use them across threads."""

from __future__ import annotations

import threading

__all__ = ["Future", "collect_all", "wait_all"]


class Future:
    def __init__(self, *, devices=None):
        self._done = False
        self._result = None
        self._error = None
        self._callbacks: list = []
        self._cond = threading.Condition()

    def done(self) -> bool:
        return self._done

    def wait(self):
        """Block until the result is set; return it (or raise the exception it was set with)."""
        with self._cond:
            while not self._done:
                self._cond.wait()
        return self.value()

    def value(self):
        if self._error is not None:
            raise self._error
        return self._result

    def set_result(self, result) -> None:
        self._finish(result, None)

    def set_exception(self, result) -> None:
        self._finish(None, result)

    def _finish(self, result, error) -> None:
        with self._cond:
            if self._done:
                raise RuntimeError("Future can only be marked completed once.")
            self._result, self._error, self._done = result, error, True
            callbacks, self._callbacks = self._callbacks, []
            self._cond.notify_all()
        for cb in callbacks:
            cb(self)

    def add_done_callback(self, callback) -> None:
        with self._cond:
            if not self._done:
                self._callbacks.append(callback)
                return
        callback(self)

    def then(self, callback) -> "Future":
        """A new Future holding ``callback(self)`` once this one completes."""
        chained = Future()

        def run(fut):
            try:
                chained.set_result(callback(fut))
            except Exception as exc:  # noqa: BLE001 - delivered through the chained future
                chained.set_exception(exc)
        self.add_done_callback(run)
        return chained


def collect_all(futures) -> Future:
    """A Future completed with the list of ``futures`` once all are done."""
    result = Future()
    futures = list(futures)
    remaining = [len(futures)]
    lock = threading.Lock()
    if not futures:
        result.set_result([])
        return result

    def one_done(_):
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            result.set_result(futures)
    for fut in futures:
        fut.add_done_callback(one_done)
    return result


def wait_all(futures) -> list:
    """The values of ``futures``, waiting for each (raises the first error)."""
    return [fut.wait() for fut in futures]
