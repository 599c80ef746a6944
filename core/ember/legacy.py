"""PyTorch's legacy tensor types and constructors: ``ember.LongTensor([1, 2])``, ``FloatTensor(3, 4)``,
``isinstance(t, ember.LongTensor)``, ``t.type("torch.LongTensor")``, ``t.new(...)``, and the
``Tensor.is_<device>`` predicates. Old code still uses them; new code should use ``tensor``/``empty``.

Each legacy type is a class whose instances are never made: calling it builds an ordinary ``Tensor``
of its dtype on the CPU (``cuda.<Name>`` on CUDA), and ``isinstance`` checks dtype and device, as
PyTorch's legacy types do.
"""

from __future__ import annotations

from . import dtypes as _dt
from .tensor import Tensor

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
           "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor", "legacy_dtype"]


def _build(dtype, device, args, kwargs):
    from .creation import empty, tensor
    if kwargs.get("device") is not None:
        device = kwargs["device"]
    if not args:
        return empty(0, dtype=dtype, device=device)
    from .tensor import Size
    if len(args) == 1 and isinstance(args[0], Size):  # a Size is a shape (a plain tuple is data), as PyTorch
        return empty(*args[0], dtype=dtype, device=device)
    if len(args) == 1 and not isinstance(args[0], int):
        data = args[0]
        if isinstance(data, Tensor):
            return data.to(device=device, dtype=dtype)
        return tensor(data, dtype=dtype, device=device)
    if all(isinstance(a, int) for a in args):
        return empty(*args, dtype=dtype, device=device)
    raise TypeError(f"new(): expected sizes (ints) or one sequence of data, got {tuple(type(a).__name__ for a in args)}")


class _LegacyType(type):
    def __call__(cls, *args, **kwargs):
        return _build(cls.dtype, cls.device_type, args, kwargs)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.device.type == cls.device_type

    def __repr__(cls):
        prefix = "ember.cuda." if cls.device_type == "cuda" else "ember."
        return f"<class '{prefix}{cls.__name__}'>"


def _legacy(name, dtype_name, device_type="cpu"):
    dtype = getattr(_dt, dtype_name) if dtype_name != "bfloat16" else None
    cls = _LegacyType(name, (), {"device_type": device_type, "__doc__": f"Legacy ``torch.{name}``: a "
                                 f"{dtype_name} tensor on the {device_type}; calling it makes one."})
    cls._dtype_name = dtype_name
    if dtype is not None:
        cls.dtype = dtype
    return cls


_NAMES = {"FloatTensor": "float32", "DoubleTensor": "float64", "HalfTensor": "float16", "BFloat16Tensor": "bfloat16",
          "LongTensor": "int64", "IntTensor": "int32", "ShortTensor": "int16", "CharTensor": "int8",
          "ByteTensor": "uint8", "BoolTensor": "bool"}
CPU = {name: _legacy(name, dt) for name, dt in _NAMES.items()}
CUDA = {name: _legacy(name, dt, "cuda") for name, dt in _NAMES.items()}
globals().update(CPU)


def _dtype_of(cls):
    if not hasattr(cls, "dtype"):
        cls.dtype = getattr(_dt, cls._dtype_name)  # bfloat16: made on first use
    return cls.dtype


def legacy_dtype(spec):
    """``(dtype, device type or None)`` for a ``Tensor.type()`` argument: a legacy class, its name
    ("torch.LongTensor", "torch.cuda.FloatTensor", "ember.IntTensor"), or a dtype."""
    if isinstance(spec, _LegacyType):
        return _dtype_of(spec), spec.device_type
    if isinstance(spec, str):
        parts = spec.split(".")
        if parts[0] in ("torch", "ember") and parts[-1] in _NAMES:
            table = CUDA if len(parts) == 3 and parts[1] == "cuda" else CPU
            cls = table[parts[-1]]
            return _dtype_of(cls), cls.device_type
        raise ValueError(f"invalid type: {spec!r}; expected a name such as 'torch.LongTensor' or a dtype")
    return _dt.as_dtype(spec), None


def type_(self, dtype=None, non_blocking=False, **kwargs):
    """``Tensor.type()``: with no argument the legacy type name ("torch.FloatTensor"); with a dtype, a
    legacy type or its name, the tensor converted to it (itself when nothing changes)."""
    if dtype is None:
        prefix = "torch.cuda." if self.device.type == "cuda" else "torch."
        name = next((n for n, d in _NAMES.items() if d == self.dtype.name), self.dtype.name)
        return prefix + name
    target, device_type = legacy_dtype(dtype)
    if device_type is not None and device_type != self.device.type:
        return self.to(device=device_type, dtype=target)
    return self.to(target)


def new(self, *args, **kwargs):
    """``Tensor.new(...)``: a tensor of this one's dtype and device, from sizes (uninitialised) or data."""
    return _build(kwargs.pop("dtype", None) or self.dtype, kwargs.pop("device", None) or self.device, args, kwargs)


def _device_predicate(device_type):
    return property(lambda self: self.device.type == device_type,
                    doc=f"Whether the tensor lives on a {device_type!r} device, as ``torch.Tensor.is_cuda`` asks of "
                        f"CUDA (ember has no such backend unless a plugin registers one).")


def bind() -> None:
    """Attach the legacy methods and the ``is_<device>`` predicates to ``Tensor``."""
    Tensor.type = type_
    Tensor.new = new
    for device_type in ("xpu", "mps", "meta", "mtia", "hpu", "ipu", "xla", "vulkan", "maia"):
        name = f"is_{device_type}"
        if not hasattr(Tensor, name):
            setattr(Tensor, name, _device_predicate(device_type))
    for name in ("is_sparse", "is_sparse_csr", "is_quantized", "is_nested", "is_mkldnn"):
        if not hasattr(Tensor, name):
            setattr(Tensor, name, property(lambda self: False, doc=f"False: ember tensors are dense and "
                                                                    f"unquantized (``torch.Tensor.{name}``)."))


bind()
