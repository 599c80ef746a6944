"""The reference device ``ref``: numpy underneath, but a device of its own, so device code is tested
on every machine (as PyTorch tests its device API with an in-tree fake accelerator).

It behaves like an accelerator where that matters for correctness:

- its arrays are :class:`RefArray`, never the CPU's numpy arrays: ``from_host`` and ``to_host`` copy,
  so a forgotten transfer cannot silently share memory with a CPU tensor;
- a kernel that mixes a host (CPU) array into a ``ref`` computation raises :class:`ember.DeviceError`,
  as CuPy refuses numpy arrays;
- 0-d results stay arrays (as CuPy's do), and there are two devices (``ref:0``, ``ref:1``), so
  mixing devices of one type is tested too.

It is not registered by ``import ember``: the pytest plugin registers it for test sessions, or call
:func:`enable` (and :func:`disable`) yourself.
"""

from __future__ import annotations

import types

import numpy as np

from .. import plugins
from ..device import Backend, DeviceError
from ..storage import row_major_alias
from ..hookspecs import hookimpl
from ..random import NumpyStream

__all__ = ["RefArray", "ReferenceBackend", "enable", "disable", "is_enabled", "PLUGIN_NAME", "DEVICE_TYPE"]

PLUGIN_NAME = "ember-reference-device"
DEVICE_TYPE = "ref"


class RefArray(np.ndarray):
    """An array living on the reference device. Every ufunc result is again a RefArray (0-d included),
    and a host ndarray (more than 0-d) taking part in a ufunc is refused."""

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        data = (inputs[0],) + inputs[2:] if method == "at" else inputs  # ufunc.at's indices may be host
        for x in data + (out or ()):
            if type(x) is np.ndarray and x.ndim:
                raise DeviceError(
                    f"reference device: a host numpy array of shape {x.shape} was mixed with '{DEVICE_TYPE}' "
                    f"arrays in numpy.{ufunc.__name__}.{method}; a CPU tensor's data reached a kernel running on "
                    f"the {DEVICE_TYPE} device (move it with .to(device); on CUDA this fails too)")
        args = [x.view(np.ndarray) if isinstance(x, RefArray) else x for x in inputs]
        if out is not None:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, RefArray) else o for o in out)
        result = getattr(ufunc, method)(*args, **kwargs)
        if method == "at":
            return None
        if out is not None:
            return out[0] if len(out) == 1 else out
        return to_ref(result)

    def __getitem__(self, index):
        result = super().__getitem__(index)
        return result if isinstance(result, np.ndarray) else to_ref(result)  # a 0-d array, not a scalar


def to_ref(value):
    """Results of numpy calls as reference-device values: arrays and numpy scalars become owning
    RefArrays (so view tracking by ``.base`` works as on the CPU); other values pass unchanged."""
    if isinstance(value, RefArray):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        value = np.asarray(value)
        owned = np.ndarray.__new__(RefArray, value.shape, value.dtype)
        np.copyto(owned.view(np.ndarray), value)
        return owned
    if isinstance(value, tuple) and any(isinstance(v, (np.ndarray, np.generic)) for v in value):
        items = [to_ref(v) for v in value]
        return type(value)._make(items) if hasattr(value, "_make") else tuple(items)
    if isinstance(value, list) and any(isinstance(v, np.ndarray) for v in value):
        return [to_ref(v) for v in value]
    return value


class RefNumpy:
    """numpy as the reference device's array namespace: the same functions, returning RefArrays."""

    def __init__(self, module=np):
        self._module = module

    def __getattr__(self, name):
        value = getattr(self._module, name)
        if isinstance(value, types.ModuleType):
            wrapped = RefNumpy(value)
        elif isinstance(value, (type, np.ufunc)) or not callable(value):
            wrapped = value  # dtypes, classes, constants; ufuncs dispatch through RefArray.__array_ufunc__
        else:
            wrapped = _returning_ref(value, name)
        self.__dict__[name] = wrapped
        return wrapped

    def __repr__(self) -> str:
        return f"<reference-device namespace over {self._module.__name__}>"


def _returning_ref(fn, name):
    """``fn`` run on plain views of its RefArray arguments (so numpy's own internals never mix array
    types), its array results made RefArrays: views of an argument stay views of it, new arrays are owned."""
    if name in ("asarray", "asanyarray"):
        def call(a, *args, **kwargs):
            if isinstance(a, RefArray) and not args and kwargs.get("dtype") in (None, a.dtype):
                return a  # as on the CPU: no copy when nothing changes
            return to_ref(fn(a, *args, **kwargs))
    else:
        def call(*args, **kwargs):
            owners = []
            plain_args = [_plain(a, owners) for a in args]
            plain_kwargs = {k: _plain(v, owners) for k, v in kwargs.items()}
            result = fn(*plain_args, **plain_kwargs)
            out = kwargs.get("out")
            if out is not None and isinstance(result, np.ndarray) and result is plain_kwargs["out"]:
                return out
            return _rebase(result, owners)
    call.__name__ = call.__qualname__ = name
    call.__doc__ = fn.__doc__
    return call


def _plain(value, owners):
    if isinstance(value, RefArray):
        owners.append(value if value.base is None else value.base)
        return value.view(np.ndarray)
    if isinstance(value, (list, tuple)) and any(isinstance(v, RefArray) for v in value):
        return type(value)(_plain(v, owners) for v in value)
    return value


def _rebase(result, owners):
    if isinstance(result, np.ndarray) and not isinstance(result, RefArray):
        for owner in owners:
            # the buffer must be row-major: a dense owner in another order is read through its transpose
            buffer = row_major_alias(owner) if isinstance(owner, RefArray) else None
            if buffer is not None and np.may_share_memory(result, owner):
                view = np.ndarray.__new__(RefArray, result.shape, result.dtype, buffer=buffer,
                                          offset=result.ctypes.data - owner.ctypes.data, strides=result.strides)
                view.flags.writeable = result.flags.writeable
                return view
    if isinstance(result, tuple) and any(isinstance(v, np.ndarray) for v in result):
        items = [_rebase(v, owners) for v in result]
        return type(result)._make(items) if hasattr(result, "_make") else tuple(items)
    if isinstance(result, list) and any(isinstance(v, np.ndarray) for v in result):
        return [_rebase(v, owners) for v in result]
    return to_ref(result)


class RefStream:
    """numpy's PCG64 stream, giving RefArrays; the same seed gives the same values as on the CPU."""

    def __init__(self, seed: int):
        self._stream = NumpyStream(seed)

    def random(self, shape, dtype):
        return to_ref(self._stream.random(shape, dtype))

    def normal(self, shape, dtype):
        return to_ref(self._stream.normal(shape, dtype))

    def integers(self, low, high, shape, dtype):
        return to_ref(self._stream.integers(low, high, shape, dtype))

    def permutation(self, n):
        return to_ref(self._stream.permutation(n))

    def get_state(self) -> dict:
        return self._stream.get_state()

    def set_state(self, state: dict) -> None:
        self._stream.set_state(state)


class ReferenceBackend(Backend):
    """The ``ref`` device type: two devices, numpy arithmetic, copies at every host crossing."""

    type = DEVICE_TYPE
    xp = RefNumpy()

    def is_available(self) -> bool:
        return True

    def device_count(self) -> int:
        return 2

    def from_host(self, array: np.ndarray, index: int) -> RefArray:
        if index >= self.device_count():
            raise DeviceError(f"reference device: no device {DEVICE_TYPE}:{index}; there are "
                              f"{self.device_count()}")
        return to_ref(np.array(array, copy=True))

    def to_host(self, array) -> np.ndarray:
        if not isinstance(array, RefArray):
            raise DeviceError(f"reference device: to_host got a {type(array).__name__}, not a RefArray; a "
                              f"'{DEVICE_TYPE}' tensor holds an array that did not come from its device")
        return np.array(array.view(np.ndarray), copy=True)

    def generator(self, seed: int, index: int) -> RefStream:
        return RefStream(seed)

    def memory_allocated(self, index: int) -> int:
        return 0


class ReferenceDevicePlugin:
    """The plugin object :func:`enable` registers (run-time registration, like any plugin's)."""

    @staticmethod
    @hookimpl
    def ember_register_devices(registry):
        registry.register(ReferenceBackend())


def is_enabled() -> bool:
    return any(i.name == PLUGIN_NAME and i.status == "loaded" for i in plugins.report())


def enable() -> None:
    """Register the ``ref`` device (a no-op when it already is)."""
    if not is_enabled():
        plugins.register(ReferenceDevicePlugin, name=PLUGIN_NAME)


def disable() -> None:
    """Remove the ``ref`` device again."""
    if is_enabled():
        plugins.unregister(PLUGIN_NAME)
