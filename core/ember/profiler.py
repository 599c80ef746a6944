"""``ember.profiler``: a small real profiler with ``torch.profiler``'s interface.

While a :class:`profile` is active, every op bound from the ops registry (``ember.X``, ``Tensor.X``,
operators, ``ember.nn.functional.X``) is timed: each call becomes an event named ``ember::<op>`` with
its wall-clock start and duration on the CPU clock, its nesting (so self time excludes ops called
inside it, as PyTorch's ``self_cpu_time_total``), and optionally input shapes. :class:`record_function`
adds user-named ranges. The wrappers are installed on ``__enter__`` and removed on ``__exit__``, so ops
pay nothing when no profiler runs. Differences from PyTorch: no CUDA/kernel-level activity (ember's GPU
work runs through CuPy), no memory profiling, and nested events from several threads share one list.
"""

from __future__ import annotations

import enum
import functools
import json
import time
from collections import defaultdict

__all__ = ["profile", "record_function", "ProfilerActivity", "schedule", "ProfilerAction",
           "tensorboard_trace_handler", "supported_activities"]


class ProfilerActivity(enum.Enum):
    """Which activity to record; ember records CPU activity (ops run on the host or are launched from it)."""

    CPU = 0
    CUDA = 1
    XPU = 2
    MTIA = 3
    HPU = 4
    PrivateUse1 = 5


def supported_activities() -> set:
    return {ProfilerActivity.CPU}


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0):
    """As ``torch.profiler.schedule``: a function from step number to the :class:`ProfilerAction`."""
    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        pos = step % cycle
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD_AND_SAVE if pos == cycle - 1 else ProfilerAction.RECORD
    return action


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None, use_gzip: bool = False):
    """An ``on_trace_ready`` callback writing a Chrome trace per cycle into ``dir_name``."""
    import os
    import socket

    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        name = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        prof.export_chrome_trace(os.path.join(dir_name, f"{name}.{time.time_ns()}.pt.trace.json"))
    return handler


class FunctionEvent:
    """One timed call: ``name``, ``start_us``/``end_us``, ``cpu_time_total`` (microseconds, children
    included), ``self_cpu_time_total`` (children excluded), ``input_shapes``."""

    __slots__ = ("name", "start_us", "end_us", "children_us", "input_shapes", "depth")

    def __init__(self, name, start_us, depth, input_shapes):
        self.name, self.start_us, self.depth, self.input_shapes = name, start_us, depth, input_shapes
        self.end_us = start_us
        self.children_us = 0.0

    key = property(lambda self: self.name)
    cpu_time_total = property(lambda self: self.end_us - self.start_us)
    self_cpu_time_total = property(lambda self: self.cpu_time_total - self.children_us)

    def __repr__(self) -> str:
        return f"<FunctionEvent {self.name} cpu_time_total={self.cpu_time_total:.1f}us>"


class FunctionEventAvg:
    """Events of one name (and shapes, when grouped by them) summed, as PyTorch's ``key_averages()`` rows."""

    def __init__(self, key, input_shapes=None):
        self.key, self.input_shapes = key, input_shapes
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0

    def add(self, event: FunctionEvent) -> None:
        self.count += 1
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total

    cpu_time = property(lambda self: self.cpu_time_total / max(self.count, 1))
    self_cpu_time = property(lambda self: self.self_cpu_time_total / max(self.count, 1))

    def __repr__(self) -> str:
        return f"<FunctionEventAvg key={self.key} count={self.count} cpu_time_total={self.cpu_time_total:.1f}us>"


class EventList(list):
    """A list of events or averages with PyTorch's ``table()``."""

    def table(self, sort_by: str | None = None, row_limit: int = 100, header: str | None = None, **kwargs) -> str:
        rows = list(self)
        if sort_by:
            key = sort_by.replace("cuda", "cpu").replace("device", "cpu")
            rows.sort(key=lambda r: getattr(r, key, 0.0), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        total_self = sum(getattr(r, "self_cpu_time_total", 0.0) for r in self) or 1.0
        width = max([len("Name")] + [len(r.key) for r in rows])
        line = "-" * (width + 62)
        out = [header] if header else []
        out += [line, f"{'Name':<{width}}  {'Self CPU %':>10}  {'Self CPU':>12}  {'CPU total':>12}  "
                      f"{'CPU time avg':>12}  {'# Calls':>7}", line]
        for r in rows:
            count = getattr(r, "count", 1)
            out.append(f"{r.key:<{width}}  {100 * r.self_cpu_time_total / total_self:>9.2f}%  "
                       f"{_fmt_us(r.self_cpu_time_total):>12}  {_fmt_us(r.cpu_time_total):>12}  "
                       f"{_fmt_us(r.cpu_time_total / max(count, 1)):>12}  {count:>7}")
        out += [line, f"Self CPU time total: {_fmt_us(total_self)}"]
        return "\n".join(out)

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for r in self:
            total.count += getattr(r, "count", 1)
            total.cpu_time_total += r.cpu_time_total
            total.self_cpu_time_total += r.self_cpu_time_total
        return total


def _fmt_us(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


_active: list = []  # the running profilers; ops record into each


def _now_us() -> float:
    return time.perf_counter_ns() / 1000.0


class _Recorder:
    """The event list and the stack of open events of one profiler."""

    def __init__(self, record_shapes: bool):
        self.record_shapes = record_shapes
        self.events: list[FunctionEvent] = []
        self.stack: list[FunctionEvent] = []

    def open(self, name, args=()) -> FunctionEvent:
        shapes = [list(a.shape) if hasattr(a, "shape") else [] for a in args] if self.record_shapes else []
        event = FunctionEvent(name, _now_us(), len(self.stack), shapes)
        self.stack.append(event)
        return event

    def close(self, event: FunctionEvent) -> None:
        event.end_us = _now_us()
        if self.stack and self.stack[-1] is event:
            self.stack.pop()
        if self.stack:
            self.stack[-1].children_us += event.cpu_time_total
        self.events.append(event)


def _timed(name, fn):
    @functools.wraps(fn)
    def timed(*args, **kwargs):
        recorders = [p._recorder for p in _active if p._recording]
        if not recorders:
            return fn(*args, **kwargs)
        events = [r.open(name, args) for r in recorders]
        try:
            return fn(*args, **kwargs)
        finally:
            for r, e in zip(recorders, events):
                r.close(e)
    timed.__ember_profiled__ = fn
    return timed


_installed: list = []  # (namespace, attr, original) while at least one profiler is active


def _op_names() -> dict:
    from .plugins import registries
    names = {}
    for op in registries["ops"].entries.values():
        op = op.obj
        names[id(op.fn)] = op.name
        if op.inplace is not None:
            names[id(op.inplace)] = op.name + "_"
    return names


def _install() -> None:
    from .plugins import _bound, load_all
    load_all()  # every op bound for real first: a placeholder would be wrapped, then replaced
    names = _op_names()
    for namespace, attr, _previous in _bound:
        current = namespace.__dict__.get(attr) if isinstance(namespace, type) else getattr(namespace, attr, None)
        if not callable(current) or isinstance(current, type) or hasattr(current, "__ember_profiled__"):
            continue
        name = names.get(id(current), attr.strip("_") or attr)
        _installed.append((namespace, attr, current))
        setattr(namespace, attr, _timed(f"ember::{name}", current))


def _uninstall() -> None:
    while _installed:
        namespace, attr, original = _installed.pop()
        setattr(namespace, attr, original)


class profile:  # noqa: N801 - PyTorch's name
    """Record the ops run inside ``with profile(...) as prof:`` (``torch.profiler.profile``).

    ``activities`` may name CUDA too; ember records what it can see from the host either way.
    ``schedule`` and ``on_trace_ready`` work with :meth:`step` as in PyTorch. Results:
    ``prof.events()``, ``prof.key_averages(group_by_input_shape=False)`` and its ``.table(sort_by=...)``,
    ``prof.export_chrome_trace(path)``."""

    def __init__(self, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, use_cuda=None,
                 enabled=True, use_device=None, **kwargs):
        self.activities = set(activities) if activities else supported_activities()
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.enabled = enabled
        self.step_num = 0
        self._recorder = _Recorder(record_shapes)
        self._recording = False
        self._finished: list[FunctionEvent] = []

    def _action(self) -> ProfilerAction:
        return self.schedule(self.step_num) if self.schedule is not None else ProfilerAction.RECORD

    def start(self) -> None:
        if not self.enabled:
            return
        if not _active:
            _install()
        _active.append(self)
        self._recording = self._action() in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)

    def stop(self) -> None:
        if self not in _active:
            return
        _active.remove(self)
        if not _active:
            _uninstall()
        if self._recording:
            self._finished = self._recorder.events
            if self.schedule is None and self.on_trace_ready is not None:
                self.on_trace_ready(self)
        self._recording = False

    def step(self) -> None:
        """Mark the end of a training step; with a schedule, start or stop recording accordingly."""
        if self.schedule is None:
            self.step_num += 1
            return
        previous = self._action()
        self.step_num += 1
        if previous is ProfilerAction.RECORD_AND_SAVE:
            self._finished = self._recorder.events
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
            self._recorder = _Recorder(self.record_shapes)
        self._recording = self._action() in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def events(self) -> EventList:
        return EventList(self._finished or self._recorder.events)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0, **kwargs) -> EventList:
        groups: dict = defaultdict(lambda: None)
        for e in self.events():
            key = (e.name, str(e.input_shapes)) if group_by_input_shape else e.name
            if groups[key] is None:
                groups[key] = FunctionEventAvg(e.name, e.input_shapes if group_by_input_shape else None)
            groups[key].add(e)
        return EventList(groups.values())

    def export_chrome_trace(self, path: str) -> None:
        """Write the events in the Chrome trace format (``chrome://tracing``, Perfetto)."""
        trace = [{"name": e.name, "ph": "X", "ts": e.start_us, "dur": e.cpu_time_total, "pid": 0, "tid": 0,
                  "cat": "cpu_op", "args": {"Input Dims": e.input_shapes}} for e in self.events()]
        with open(path, "w") as f:
            json.dump({"traceEvents": trace}, f)


class record_function:  # noqa: N801 - PyTorch's name
    """A user-named range inside a profile (``with record_function("forward"):``); also a decorator."""

    def __init__(self, name: str, args: str | None = None):
        self.name = name
        self._events: list = []

    def __enter__(self):
        self._events = [(p._recorder, p._recorder.open(self.name)) for p in _active if p._recording]
        return self

    def __exit__(self, *exc):
        for recorder, event in self._events:
            recorder.close(event)
        self._events = []
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name):
                return fn(*args, **kwargs)
        return wrapped
