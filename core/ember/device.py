"""Devices: the contract a device plugin fulfils, and the ``ember.device`` objects tensors carry.

A device plugin registers a :class:`Backend` (one per device type: ``cpu``, ``cuda``, ...). A
:class:`device` names one device of a backend (``cuda:1``); device objects are interned, so the hot
path compares them by identity and reads the array namespace ``xp`` straight off them.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["Backend", "device", "DeviceError"]


class DeviceError(RuntimeError):
    """A device is unknown, unavailable, or tensors on different devices were mixed."""


class Backend:
    """What a device plugin provides. Subclass it and register an instance in ``ember_register_devices``.

    Required: ``type`` (the name users write, ``"cpu"``), :meth:`is_available`, :attr:`xp` (the array
    namespace ops are written against: numpy or a numpy-compatible module), :meth:`from_host`,
    :meth:`to_host` and :meth:`generator`. The rest have sensible defaults.
    """

    type: str = ""

    def is_available(self) -> bool:
        """Whether this device can be used on this machine (drivers, hardware)."""
        raise NotImplementedError

    def unavailable_reason(self) -> str | None:
        """None when :meth:`is_available`; otherwise one line saying why not and, where possible, how to
        fix it (shown by ``ember plugins``, in errors for tensors on this device, and in test skips)."""
        return None if self.is_available() else f"{self!r} reports no device on this machine"

    @property
    def xp(self):
        """The array module (``numpy``, ``cupy``) whose functions run on this device."""
        raise NotImplementedError

    def device_count(self) -> int:
        return 1 if self.is_available() else 0

    def from_host(self, array: np.ndarray, index: int):
        """Copy a numpy array onto device ``index`` and return the backend array."""
        raise NotImplementedError

    def to_host(self, array) -> np.ndarray:
        """Return a numpy array with the contents of a backend array (a copy when off-host)."""
        raise NotImplementedError

    def generator(self, seed: int, index: int):
        """A new random generator on device ``index`` seeded with ``seed``; see :class:`ember.random.Generator`
        for the methods it must have (``random``, ``normal``, ``integers``, ``permutation``, states)."""
        raise NotImplementedError

    def synchronize(self, index: int) -> None:
        """Wait for all queued work on device ``index``; a no-op for synchronous backends."""

    def memory_allocated(self, index: int) -> int:
        """Bytes of device memory held by tensors, where the backend can tell; 0 otherwise."""
        return 0

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.type!r}>"


class device:
    """``ember.device("cpu")``, ``ember.device("cuda", 0)`` or ``ember.device("cuda:0")``, as in PyTorch.

    Instances are interned, so ``a.device is b.device`` holds for equal devices.
    """

    __slots__ = ("type", "index", "backend", "xp", "__weakref__")
    _interned: dict = {}
    _backends: dict = {}  # filled by the device registry: type -> Backend

    def __new__(cls, type_or_spec, index: int | None = None):
        if type_or_spec.__class__ is cls:
            return type_or_spec
        key = (type_or_spec, index)
        found = cls._interned.get(key)
        if found is not None:
            return found
        dev_type, dev_index = _parse(type_or_spec, index)
        canonical = cls._interned.get((dev_type, dev_index))
        if canonical is None:
            backend = cls._backends.get(dev_type)
            if backend is None:
                known = ", ".join(sorted(cls._backends)) or "none"
                raise DeviceError(f"unknown device type {dev_type!r}; registered device types: {known}")
            canonical = object.__new__(cls)
            canonical.type, canonical.index, canonical.backend = dev_type, dev_index, backend
            canonical.xp = None  # resolved on first use: importing cupy is slow
            # setdefault is atomic: two threads naming a new device at once must get one object, since
            # ops compare devices by identity.
            canonical = cls._interned.setdefault((dev_type, dev_index), canonical)
        cls._interned[key] = canonical
        return canonical

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type={self.type!r})"
        return f"device(type={self.type!r}, index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return self is other

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))

    @property
    def ordinal(self) -> int:
        return self.index or 0


def _parse(spec, index):
    if isinstance(spec, int) and not isinstance(spec, bool):
        return "cuda", spec
    if not isinstance(spec, str):
        raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got {type(spec).__name__}")
    dev_type, _, idx = spec.partition(":")
    if idx:
        if index is not None:
            raise ValueError(f"device: index given twice, in {spec!r} and as {index}")
        if not idx.isdigit():
            raise ValueError(f"device: invalid device string {spec!r}; expected 'type' or 'type:index'")
        index = int(idx)
    if dev_type == "cpu":
        index = None  # PyTorch prints cpu without an index
    return dev_type, index


class _DefaultDevice(threading.local):
    """Set by ``ember.set_default_device``; None means the CPU. Per thread, as in PyTorch: a new thread
    starts on the CPU whatever another thread chose."""

    device = None


default_device = _DefaultDevice()


def canonical(spec) -> device:
    """The device a tensor made on ``spec`` lives on: as in PyTorch, "cuda" means "cuda:0"."""
    dev = (default_device.device or device("cpu")) if spec is None else device(spec)
    if dev.index is None and dev.type != "cpu":
        dev = device(dev.type, 0)
    return dev


def resolve(spec) -> device:
    """The device for a user's ``device=`` argument (None means the CPU), ready to hold arrays."""
    dev = canonical(spec)
    if dev.xp is None:
        backend = dev.backend
        if not backend.is_available():
            raise DeviceError(f"device {dev} is not available on this machine: {backend.unavailable_reason()}")
        dev.xp = backend.xp
    return dev
