"""Making tensors: ``tensor``, ``as_tensor``, ``from_numpy``, the filled factories (``zeros``, ``full``,
``arange``, ...), the random ones (``rand``, ``randn``, ``randint``, ``randperm``) and their ``*_like``
forms, with PyTorch's signatures and dtype inference; and the ``Tensor`` methods that make tensors (the
legacy constructor ``Tensor(2, 3)``, ``new_tensor``, ``new_zeros``, ...), bound onto the class here."""

from __future__ import annotations

import builtins
import functools
import warnings

import numpy as np

from . import dtypes as _dt
from .device import DeviceError, resolve as _resolve
from .errors import DTypeError
from .random import default_generator
from .tensor import _FROM_NUMPY, Tensor, bump_version, wrap

__all__ = [
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange", "linspace", "eye", "rand",
    "randn", "randint", "randperm", "zeros_like", "ones_like", "full_like", "empty_like", "rand_like",
    "randn_like", "randint_like",
]


def _make(host: np.ndarray, dtype, device, requires_grad) -> Tensor:
    """A tensor from a numpy array: cast to ``dtype``, moved to ``device`` (no copy when neither changes)."""
    if dtype is not None:
        dtype = _dt.as_dtype(dtype)
        if host.dtype != dtype.numpy:
            host = host.astype(dtype.numpy)
    dev = _resolve(device)
    data = host if dev.type == "cpu" else dev.backend.from_host(host, dev.ordinal)
    t = wrap(data, dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_host(data, dtype=None) -> np.ndarray:
    """Python data to a numpy array with PyTorch's dtype inference (floats -> default float, ints -> int64);
    with an explicit ``dtype`` Python floats are not rounded through the default float first."""
    if isinstance(data, Tensor):
        return np.array(data._host())
    if isinstance(data, np.ndarray):
        return np.array(data)
    if isinstance(data, np.generic):
        return np.array(data)
    try:
        host = np.array(data)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"tensor: can't make a tensor from {type(data).__name__}: {exc}") from None
    kind = host.dtype.kind
    if kind == "f":
        if dtype is None and not _contains_tensor_or_array(data):
            host = host.astype(_dt.get_default_dtype().numpy)
    elif kind in "iu":
        if not _contains_tensor_or_array(data):
            host = host.astype(np.int64)
    elif kind == "b":
        pass
    elif kind == "O" or kind in "USc":
        raise TypeError(f"tensor: can't make a tensor from data of numpy kind {host.dtype} ({data!r:.60})")
    if host.dtype not in _FROM_NUMPY:
        host = host.astype(_dt.from_numpy_dtype(host.dtype).numpy)
    return host


def _contains_tensor_or_array(data) -> builtins.bool:
    """Whether nested data holds tensors or arrays, whose dtypes then decide (not the Python defaults)."""
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return isinstance(data, (Tensor, np.ndarray))


def tensor(data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (``torch.tensor``).

    Python numbers that ``dtype`` cannot hold are a RuntimeError, as in PyTorch (negative ints wrap into
    unsigned dtypes: ``tensor(-1, dtype=uint8)`` is 255; ``tensor(300, dtype=uint8)`` raises).
    """
    if isinstance(data, Tensor) and device is None:
        device = data._device
    host = _infer_host(data, dtype)
    if dtype is not None and not isinstance(data, (Tensor, np.ndarray, np.generic)):
        _check_fits("tensor", host, _dt.as_dtype(dtype))
    return _make(host, dtype, device, requires_grad)


def _check_fits(op, host: np.ndarray, dtype) -> None:
    """PyTorch's range check for Python numbers converted to an integer dtype (see ``ops.scalar_to``)."""
    if dtype.category != 1 or host.dtype.kind not in "iuf" or not host.size:
        return
    info = np.iinfo(dtype.numpy)
    if host.dtype.kind == "f":
        bad = ~((host > info.min - 1) & (host < info.max + 1))
    elif info.min == 0:
        bad = (host > info.max) | (host < -builtins.int(info.max))
    else:
        bad = (host > info.max) | (host < info.min)
    if bad.any():
        value = host[bad].flat[0].item()
        raise RuntimeError(f"{op}(): value {value!r} cannot be converted to type {dtype.name} without overflow")


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a tensor or numpy array when dtype and device allow
    (``torch.as_tensor``)."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (device or dtype) else data
    if isinstance(data, np.ndarray) and data.dtype in _FROM_NUMPY:
        return _make(data, dtype, device, False)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU tensor sharing memory with ``array``: writes to either show in both (``torch.from_numpy``)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    _dt.from_numpy_dtype(array.dtype)
    return wrap(array, _resolve("cpu"))


def _size(args, name) -> tuple:
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    try:
        shape = tuple(builtins.int(a.__index__()) for a in args)
    except (AttributeError, TypeError):
        raise TypeError(f"{name}: size must be ints or a tuple of ints, got {args!r}") from None
    if any(d < 0 for d in shape):
        raise RuntimeError(f"{name}: trying to create tensor with negative dimension: {shape}")
    return shape


def _accepts_out(fn):
    """``fn`` (a factory) with PyTorch's ``out=``: the dtype and device default to ``out``'s, a different
    ``dtype`` is a RuntimeError, and ``out`` is resized and filled."""
    @functools.wraps(fn)
    def factory(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if not isinstance(out, Tensor):
            raise TypeError(f"{fn.__name__}(): argument 'out' must be Tensor, not {type(out).__name__}")
        dtype = kwargs.get("dtype")
        if dtype is not None and _dt.as_dtype(dtype) is not out._dtype:
            raise RuntimeError(f"{fn.__name__}(): dtype {_dt.as_dtype(dtype).name} does not match dtype of out "
                               f"parameter ({out._dtype.name})")
        kwargs["dtype"] = out._dtype
        kwargs.setdefault("device", out._device)
        kwargs.pop("requires_grad", None)
        return _write_out(fn.__name__, fn(*args, **kwargs), out)
    return factory


def _write_out(name, result, out):
    """``result`` (made with ``out``'s dtype and device) written into ``out``, which is resized when its
    shape differs, with PyTorch's warning when it held elements (as :func:`ember.ops.write_out` does)."""
    data = result._data
    if data.shape == out._data.shape:
        out._device.xp.copyto(out._data, data)
    else:
        if out._data.size:
            warnings.warn(f"{name}(): an output with one or more elements was resized since it had shape "
                          f"{tuple(out.shape)}, which does not match the required output shape {tuple(data.shape)}; "
                          f"resize it to zero elements first to reuse it", UserWarning, stacklevel=3)
        out._data = data
    bump_version(out)
    return out


def _factory(name, fill):
    @_accepts_out
    def factory(*size, dtype=None, device=None, requires_grad=False):
        shape = _size(size, name)
        dtype = _dt.as_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
        dev = _resolve(device)
        t = wrap(fill(dev.xp, shape, dtype.numpy), dev)
        if requires_grad:
            t.requires_grad_(True)
        return t
    factory.__name__ = factory.__qualname__ = factory.__wrapped__.__name__ = name
    factory.__doc__ = f"A tensor of the given size filled by {name} (``torch.{name}``); float32 by default."
    return factory


zeros = _factory("zeros", lambda xp, shape, dt: xp.zeros(shape, dtype=dt))
ones = _factory("ones", lambda xp, shape, dt: xp.ones(shape, dtype=dt))
empty = _factory("empty", lambda xp, shape, dt: xp.empty(shape, dtype=dt))


@_accepts_out
def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor filled with ``fill_value``; its dtype follows the value's type, as in PyTorch (``torch.full``)."""
    shape = _size((size,), "full")
    if dtype is None:
        dtype = _dt.result_type(fill_value) if not isinstance(fill_value, Tensor) else fill_value._dtype
    dtype = _dt.as_dtype(dtype)
    dev = _resolve(device)
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    if not isinstance(fill_value, Tensor):
        value = _dt.scalar_to("full", value, dtype)
    t = wrap(dev.xp.full(shape, value, dtype=dtype.numpy), dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _no_bool(op, dtype) -> None:
    if dtype is _dt.bool:
        raise DTypeError(f"{op}(): not implemented for dtype bool (as in PyTorch)")


@_accepts_out
def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 when all are ints (``torch.arange``)."""
    if end is None:
        start, end = 0, start
    start, end, step = (a.item() if isinstance(a, Tensor) else a for a in (start, end, step))
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    if dtype is None:
        dtype = _dt.result_type(start, end, step)
    dtype = _dt.as_dtype(dtype)
    _no_bool("arange", dtype)
    dev = _resolve(device)
    count = builtins.int(np.ceil((end - start) / step))
    host = (start + np.arange(count, dtype=np.float64 if dtype.is_floating_point else np.int64) * step)
    return _make(host.astype(dtype.numpy), None, dev, requires_grad)


@_accepts_out
def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (``torch.linspace``)."""
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    dtype = _dt.as_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    _no_bool("linspace", dtype)
    host = np.linspace(start, end, steps, dtype=np.float64).astype(dtype.numpy)
    return _make(host, None, device, requires_grad)


@_accepts_out
def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` values from ``base ** start`` to ``base ** end``, evenly spaced in the exponent
    (``torch.logspace``)."""
    if steps < 0:
        raise RuntimeError(f"logspace: number of steps must be non-negative, got {steps}")
    dtype = _dt.as_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    _no_bool("logspace", dtype)
    host = np.logspace(start, end, steps, base=base, dtype=np.float64)
    if not dtype.is_floating_point:  # PyTorch truncates the powers toward zero for integer dtypes
        host = np.trunc(host)
    return _make(host.astype(dtype.numpy), None, device, requires_grad)


@_accepts_out
def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """An ``n`` x ``m`` identity matrix (``torch.eye``)."""
    dtype = _dt.as_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    dev = _resolve(device)
    t = wrap(dev.xp.eye(n, n if m is None else m, dtype=dtype.numpy), dev)
    return t.requires_grad_(True) if requires_grad else t


def _triangle_indices(name, select, row, col, offset, dtype, device):
    for what, value in (("row", row), ("col", col)):
        if value < 0:
            raise RuntimeError(f"{name}: {what} must be non-negative, got {value}")
    dtype = _dt.as_dtype(dtype) if dtype is not None else _dt.int64
    if dtype not in (_dt.int64, _dt.int32):
        raise RuntimeError(f"{name}: expected dtype int64 or int32, got {dtype}")
    rows, cols = select(row, offset, col)
    return _make(np.stack([rows, cols]).astype(dtype.numpy).reshape(2, -1), None, device, False)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The (2, N) row and column indices of the upper triangle of a ``row`` x ``col`` matrix, on and above
    diagonal ``offset``, in row-major order (``torch.triu_indices``; int64 unless ``dtype`` is int32)."""
    return _triangle_indices("triu_indices", np.triu_indices, row, col, offset, dtype, device)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The (2, N) row and column indices of the lower triangle of a ``row`` x ``col`` matrix, on and below
    diagonal ``offset``, in row-major order (``torch.tril_indices``; int64 unless ``dtype`` is int32)."""
    return _triangle_indices("tril_indices", np.tril_indices, row, col, offset, dtype, device)


def _stream(generator, dev):
    gen = generator if generator is not None else default_generator(dev)
    if gen.device is not dev:
        raise DeviceError(f"random: generator is on {gen.device} but the tensor is to be made on {dev}")
    return gen.stream


@_accepts_out
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1) (``torch.rand``)."""
    return _random("rand", size, generator, dtype, device, requires_grad, lambda s, shape, dt: s.random(shape, dt))


@_accepts_out
def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples (``torch.randn``)."""
    return _random("randn", size, generator, dtype, device, requires_grad, lambda s, shape, dt: s.normal(shape, dt))


def _random(name, size, generator, dtype, device, requires_grad, draw):
    shape = _size(size, name)
    dtype = _dt.as_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    if not dtype.is_floating_point:
        raise TypeError(f"{name}: expected a floating point dtype, got {dtype}")
    dev = _resolve(device)
    t = wrap(draw(_stream(generator, dev), shape, dtype.numpy), dev)
    return t.requires_grad_(True) if requires_grad else t


@_accepts_out
def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform on [low, high) (``torch.randint(low=0, high, size)``); int64 by default."""
    if size is None:
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    if high is None or size is None:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    shape = _size((size,), "randint")
    dtype = _dt.as_dtype(dtype) if dtype is not None else _dt.int64
    dev = _resolve(device)
    t = wrap(_stream(generator, dev).integers(low, high, shape, dtype.numpy), dev)
    return t.requires_grad_(True) if requires_grad else t


@_accepts_out
def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of ``0..n-1`` (``torch.randperm``)."""
    dtype = _dt.as_dtype(dtype) if dtype is not None else _dt.int64
    dev = _resolve(device)
    return wrap(_stream(generator, dev).permutation(n).astype(dtype.numpy), dev)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Zeros of shape ``input.shape``, with ``input``'s dtype and device unless ``dtype``/``device`` are given
    (``torch.zeros_like``)."""
    return zeros(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Ones of shape ``input.shape``, with ``input``'s dtype and device unless ``dtype``/``device`` are given
    (``torch.ones_like``)."""
    return ones(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """An uninitialised tensor of shape ``input.shape``, with ``input``'s dtype and device unless
    ``dtype``/``device`` are given (``torch.empty_like``)."""
    return empty(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``fill_value`` repeated to shape ``input.shape``, with ``input``'s dtype and device unless
    ``dtype``/``device`` are given (``torch.full_like``); RuntimeError when the value does not fit the dtype."""
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Draws uniform on [0, 1) of shape ``input.shape``, with ``input``'s dtype and device unless
    ``dtype``/``device`` are given (``torch.rand_like``)."""
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal draws of shape ``input.shape``, with ``input``'s dtype and device unless
    ``dtype``/``device`` are given (``torch.randn_like``)."""
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Integers drawn uniformly from [low, high) (``randint_like(input, high)``: from [0, high)) of shape
    ``input.shape``, with ``input``'s dtype and device unless ``dtype``/``device`` are given
    (``torch.randint_like``)."""
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype, device=device or input.device)


# -- Tensor's constructor and new_* methods: they make tensors, so they are bound here ----------------

def _legacy_init(self, *args, dtype=None, device=None, requires_grad=False):
    """``Tensor(data)`` copies data as the default float dtype; ``Tensor(2, 3)`` is an uninitialised
    2x3 tensor: PyTorch's legacy constructor (``torch.Tensor``). Prefer ``ember.tensor`` / ``ember.empty``."""
    dtype = dtype or _dt.get_default_dtype()
    if args and all(isinstance(a, builtins.int) and not isinstance(a, builtins.bool) for a in args):
        source = empty(*args, dtype=dtype, device=device)
    elif len(args) <= 1:
        source = tensor(args[0] if args else [], dtype=dtype, device=device)
    else:
        raise TypeError(f"Tensor(): expected sizes (ints) or one data argument, got {args!r}")
    self._data, self._dtype, self._device = source._data, source._dtype, source._device
    self._requires_grad, self._node = False, None
    if requires_grad:
        self.requires_grad_(True)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new tensor from ``data``, on this tensor's device and (by default) dtype (``Tensor.new_tensor``)."""
    return tensor(data, dtype=dtype or self._dtype, device=device or self._device, requires_grad=requires_grad)


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Zeros of ``size``, with this tensor's dtype and device unless given (``Tensor.new_zeros``)."""
    return zeros(*size, dtype=dtype or self._dtype, device=device or self._device, requires_grad=requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Ones of ``size``, with this tensor's dtype and device unless given (``Tensor.new_ones``)."""
    return ones(*size, dtype=dtype or self._dtype, device=device or self._device, requires_grad=requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """An uninitialised tensor of ``size``, with this tensor's dtype and device unless given
    (``Tensor.new_empty``)."""
    return empty(*size, dtype=dtype or self._dtype, device=device or self._device, requires_grad=requires_grad)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``fill_value`` in every element of ``size``, with this tensor's dtype and device unless given
    (``Tensor.new_full``)."""
    return full(size, fill_value, dtype=dtype or self._dtype, device=device or self._device,
                requires_grad=requires_grad)


_legacy_init.__name__ = _legacy_init.__qualname__ = "__init__"
Tensor.__init__ = _legacy_init
for _method in (new_tensor, new_zeros, new_ones, new_empty, new_full):
    setattr(Tensor, _method.__name__, _method)
del _method
