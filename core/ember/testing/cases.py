"""The units the conformance kit checks, and how a check reports all of its failures at once.

A :class:`KitCase` is one (kind, name, device, dtype) unit: ``("ops", "add", "cpu", "float32")``. The
pytest plugin makes one test item per case (``test_op[add-cpu-float32]``), so a broken float32 path
cannot hide the float64 one. Inside a case, :class:`Failures` lets the check run every sample (or
option set) and raise one AssertionError listing each one that failed, not only the first.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KitCase", "Failures", "kit_cases", "KINDS"]

KINDS = ("ops", "layers", "optimizers")


class Failures:
    """Collects the failures of the cases one check runs; :meth:`raise_if_any` raises them together.

    ``with failures.case(label): ...`` records an AssertionError (or any exception the code under
    test raised) under ``label`` and carries on; skips (BaseException) pass through untouched.
    """

    def __init__(self, what: str):
        self.what = what
        self.messages: list[str] = []
        self.cases = 0
        self._first_cause: BaseException | None = None

    def case(self, label: str, counted: bool = True) -> "_Case":
        """A context for one case; ``counted=False`` for set-up steps (making the samples) that are not
        cases of their own but whose failure must be reported like one."""
        self.cases += counted
        return _Case(self, label)

    def raise_if_any(self) -> None:
        """One failure: its labelled message as it is. Several: a count, then one line per failure."""
        if not self.messages:
            return
        if len(self.messages) == 1:
            raise AssertionError(self.messages[0]) from self._first_cause
        listed = "\n  - ".join(self.messages)
        raise AssertionError(f"{self.what}: {len(self.messages)} of {self.cases} cases failed:\n  - {listed}") \
            from self._first_cause


class _Case:
    def __init__(self, failures: Failures, label: str):
        self.failures, self.label = failures, label

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or not isinstance(exc, Exception):
            return False  # passed, or a skip / KeyboardInterrupt: not ours to swallow
        if isinstance(exc, AssertionError):
            self.failures.messages.append(f"{self.label}: {exc}")
        else:  # raised by the code under test (a ShapeError in backward...): keep its type and the label
            self.failures.messages.append(f"{self.label}: {type(exc).__name__}: {exc}")
            if self.failures._first_cause is None:
                self.failures._first_cause = exc
        return True


@dataclass(frozen=True)
class KitCase:
    """One unit of the kit: ``kind`` ("ops", "layers", "optimizers"), the registered ``name``, a device
    and a dtype name (None where the kind has no dtype axis)."""

    kind: str
    name: str
    device: str
    dtype: str | None = None

    @property
    def id(self) -> str:
        """The pytest id: ``add-cpu-float32``."""
        return "-".join(p for p in (self.name, self.device, self.dtype) if p)

    def check(self) -> int:
        """Run the kit on this case; raises AssertionError listing every failing sample. Returns the
        number of samples (option sets) checked."""
        from .conformance import check_op
        from .layer_checks import check_layer
        from .optimizer_checks import check_optimizer
        dtypes = None if self.dtype is None else [self.dtype]
        if self.kind == "ops":
            return check_op(self.name, devices=[self.device], dtypes=dtypes)
        if self.kind == "layers":
            return check_layer(self.name, devices=[self.device], dtypes=dtypes)
        if self.kind == "optimizers":
            return check_optimizer(self.name, devices=[self.device], dtypes=dtypes)
        raise ValueError(f"KitCase: unknown kind {self.kind!r}; expected one of {KINDS}")


def _dtypes_of(kind: str, name: str) -> list[str]:
    from ..plugins import registries
    from .layer_checks import layer_dtypes
    from .optimizer_checks import optimizer_dtypes
    obj = registries[kind][name]
    if kind == "ops":
        return [d.name for d in obj.dtypes]
    if kind == "layers":
        return [d.name for d in layer_dtypes(obj)]
    return [d.name for d in optimizer_dtypes(obj)]


def kit_cases(kind: str, names, devices=None) -> list[KitCase]:
    """Every (name, device, dtype) case of registry ``kind`` for ``names`` on ``devices`` (default: every
    available one), in that order."""
    from .devices import resolve_devices
    if kind not in KINDS:
        raise ValueError(f"kit_cases: unknown kind {kind!r}; expected one of {KINDS}")
    devices = resolve_devices(devices)
    return [KitCase(kind, name, dev, dtype) for name in names for dev in devices
            for dtype in _dtypes_of(kind, name)]
