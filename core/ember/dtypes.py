"""ember's dtypes and PyTorch's type-promotion rules.

A dtype is a small immutable object (``ember.float32``) that wraps the numpy dtype every backend
array uses. Promotion follows PyTorch, not numpy: operands are ranked by category (bool < integer <
floating), and zero-dim tensors and Python scalars only decide the result when they are of a
higher category than every dimensioned tensor.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "dtype", "float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool",
    "float", "double", "half", "long", "int", "short", "get_default_dtype", "set_default_dtype",
    "result_type", "promote_types", "finfo", "iinfo",
]

_BOOL, _INT, _FLOAT = 0, 1, 2


class dtype:
    """A tensor element type, as ``torch.dtype``: ``is_floating_point``, ``itemsize``, a short repr."""

    __slots__ = ("name", "numpy", "itemsize", "is_floating_point", "is_signed", "category")

    def __init__(self, name: str, numpy_dtype, category: int):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.itemsize = self.numpy.itemsize
        self.is_floating_point = category == _FLOAT
        self.is_signed = self.numpy.kind in "if"
        self.category = category

    @property
    def is_complex(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


float32 = dtype("float32", np.float32, _FLOAT)
float64 = dtype("float64", np.float64, _FLOAT)
float16 = dtype("float16", np.float16, _FLOAT)
int64 = dtype("int64", np.int64, _INT)
int32 = dtype("int32", np.int32, _INT)
int16 = dtype("int16", np.int16, _INT)
int8 = dtype("int8", np.int8, _INT)
uint8 = dtype("uint8", np.uint8, _INT)
bool = dtype("bool", np.bool_, _BOOL)  # noqa: A001 - PyTorch's name

# PyTorch's aliases.
float, double, half = float32, float64, float16  # noqa: A001
long, int, short = int64, int32, int16  # noqa: A001

ALL = (float32, float64, float16, int64, int32, int16, int8, uint8, bool)
FLOATING = (float32, float64, float16)
_BY_NAME = {d.name: d for d in ALL}
# Backend arrays carry numpy dtypes (cupy uses numpy's too); this maps them back to ember's.
FROM_NUMPY = {d.numpy: d for d in ALL}


def _by_name(name: str) -> dtype:
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype) -> dtype:
    """The ember dtype of a numpy dtype; a clear TypeError for one ember does not support."""
    try:
        return FROM_NUMPY[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        supported = ", ".join(d.name for d in ALL)
        raise TypeError(f"ember does not support numpy dtype {np_dtype!s}; supported: {supported}") from None


def as_dtype(value) -> dtype:
    """Accept an ember dtype, a numpy dtype, a Python type or a name: the user-facing ``dtype=`` rule."""
    if value.__class__ is dtype:
        return value
    if value is builtins_float:
        return _default[0]
    if value is builtins_int:
        return int64
    if value is builtins_bool:
        return bool
    if isinstance(value, str):
        if value in _BY_NAME:
            return _BY_NAME[value]
        raise TypeError(f"unknown dtype name {value!r}; expected one of {sorted(_BY_NAME)}")
    return from_numpy_dtype(value)


import builtins as _builtins  # noqa: E402 - after the aliases that shadow float/int/bool

builtins_float, builtins_int, builtins_bool = _builtins.float, _builtins.int, _builtins.bool

_default = [float32]


def get_default_dtype() -> dtype:
    """The floating dtype for Python floats and factory functions, float32 unless changed
    (``torch.get_default_dtype``)."""
    return _default[0]


def set_default_dtype(d) -> None:
    """As ``torch.set_default_dtype``: only floating dtypes are allowed."""
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating-point dtypes are allowed, got {d}")
    _default[0] = d


_LATTICE_ORDER = (bool, uint8, int8, int16, int32, int64, float16, float32, float64)


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` convert to safely (``torch.promote_types``)."""
    if a is b:
        return a
    return _PROMOTE[(a, b)]


def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if {a, b} == {uint8, int8}:
        return int16
    return max(a, b, key=_LATTICE_ORDER.index)


_PROMOTE = {(a, b): _promote_pair(a, b) for a in ALL for b in ALL}


def scalar_category(value) -> int:
    """The category of a Python scalar operand, or -1 when it is not one."""
    cls = value.__class__
    if cls is builtins_bool or cls is np.bool_:
        return _BOOL
    if cls is builtins_int or isinstance(value, np.integer):
        return _INT
    if cls is builtins_float or isinstance(value, np.floating):
        return _FLOAT
    return -1


def result_type(*operands) -> dtype:
    """PyTorch's result type for tensors and Python scalars (``torch.result_type``).

    Three tiers, highest category wins within each, and a lower tier only matters when its category
    beats the tiers above it: dimensioned tensors, then zero-dim tensors, then Python scalars (whose
    dtype is the default one of their category: int64, the default float, bool).
    """
    dim_dtype = zero_dtype = None
    scalar_cat = -1
    for op in operands:
        d = getattr(op, "_dtype", None)
        if d is not None:
            if op._data.ndim:
                dim_dtype = d if dim_dtype is None else _PROMOTE[(dim_dtype, d)]
            else:
                zero_dtype = d if zero_dtype is None else _PROMOTE[(zero_dtype, d)]
        else:
            cat = scalar_category(op)
            if cat < 0:
                raise TypeError(f"expected a Tensor or a Python number, got {type(op).__name__}")
            scalar_cat = max(scalar_cat, cat)
    result = dim_dtype
    if zero_dtype is not None and (result is None or zero_dtype.category > result.category):
        result = zero_dtype
    if scalar_cat >= 0 and (result is None or scalar_cat > result.category):
        result = (bool, int64, _default[0])[scalar_cat]
    return result


# -- Python numbers into dtypes -------------------------------------------------------------------

# Integer dtypes' (lowest, highest) values: Python ints outside them wrap (arithmetic) or raise (fills).
INT_RANGE = {d: (_builtins.int(np.iinfo(d.numpy).min), _builtins.int(np.iinfo(d.numpy).max))
             for d in ALL if d.category == 1}
_FLOAT_MAX = {d: _builtins.float(np.finfo(d.numpy).max) for d in FLOATING}


def _float_max(dtype) -> _builtins.float:
    """The largest finite value of a floating ``dtype``; bfloat16 (ml_dtypes) is not one of numpy's finfo
    types, so its limit comes from ``ml_dtypes.finfo`` on first use."""
    limit = _FLOAT_MAX.get(dtype)
    if limit is None:
        import ml_dtypes
        limit = _FLOAT_MAX[dtype] = _builtins.float(ml_dtypes.finfo(dtype.numpy).max)
    return limit


def wrap_int(op: str, value: _builtins.int, dtype) -> _builtins.int:
    """A Python int operand of an op computing in integer ``dtype``, wrapped into it (two's complement).

    PyTorch converts such a "wrapped number" to the computation's dtype without a range check
    (``uint8 + 256`` adds 0, ``uint8 < 300`` compares with 44); ints that fit neither int64 nor uint64
    are an OverflowError, as there.
    """
    low, high = INT_RANGE[dtype]
    if low <= value <= high:
        return value
    if not -(1 << 63) <= value < (1 << 64):
        raise OverflowError(f"{op}(): Python int {value} is too big to convert to a tensor value")
    span = high - low + 1
    return (value - low) % span + low


def scalar_to(op: str, value, dtype):
    """A Python number converted to ``dtype`` for a fill (``fill_``, ``masked_fill``, ``x[i] = v``,
    ``full``, ``clamp``'s bounds): PyTorch's checked conversion.

    A value the dtype cannot hold is a RuntimeError ("value cannot be converted ... without overflow"),
    except that negative ints down to -max wrap into unsigned dtypes (``uint8.fill_(-1)`` gives 255);
    floats are truncated towards zero into integer dtypes. Returns a Python number the backend can
    store without a further check.
    """
    cat = dtype.category
    if cat == 0 or value.__class__ is _builtins.bool or isinstance(value, np.bool_):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if cat == 1:
        low, high = INT_RANGE[dtype]
        if isinstance(value, _builtins.int):
            if not -(1 << 63) <= value < (1 << 64):
                raise OverflowError(f"{op}(): Python int {value} is too big to convert to a tensor value")
            if low <= value <= high:
                return value
            if low == 0 and -high <= value < 0:
                return value + high + 1
        elif low - 1 < value < high + 1:  # truncates into range; NaN and inf fail the test
            return _builtins.int(value)
        raise RuntimeError(f"{op}(): value {value!r} cannot be converted to type {dtype.name} without overflow")
    if isinstance(value, _builtins.int):
        if not -(1 << 63) <= value < (1 << 64):
            raise OverflowError(f"{op}(): Python int {value} is too big to convert to a tensor value")
        value = _builtins.float(value)
    if abs(value) > _float_max(dtype) and value - value == 0:  # finite and too large; inf and nan fit
        raise RuntimeError(f"{op}(): value {value!r} cannot be converted to type {dtype.name} without overflow")
    return value



# bfloat16 comes from the ml_dtypes package (numpy has none). Importing it costs ~70 ms, so the dtype is
# made on first use of ``ember.bfloat16`` (or ``finfo``), and only then joins the tables above.
def _make_bfloat16() -> dtype:
    import ml_dtypes
    bf16 = dtype("bfloat16", ml_dtypes.bfloat16, _FLOAT)
    bf16.is_signed = True  # numpy reports kind 'V' for it
    _BY_NAME[bf16.name] = bf16
    FROM_NUMPY[bf16.numpy] = bf16
    for other in ALL:
        # PyTorch: bfloat16 with float16 gives float32; with a wider float, that float; with ints, bfloat16.
        if other is float16:
            joined = float32
        elif other.category == _FLOAT:
            joined = other
        else:
            joined = bf16
        _PROMOTE[(bf16, other)] = _PROMOTE[(other, bf16)] = joined
    _PROMOTE[(bf16, bf16)] = bf16
    return bf16


def __getattr__(name):
    if name == "bfloat16":
        value = globals()["bfloat16"] = _make_bfloat16()
        return value
    raise AttributeError(f"module 'ember.dtypes' has no attribute {name!r}")


class finfo:
    """Limits of a floating dtype (``torch.finfo``): ``bits``, ``eps``, ``max``, ``min``, ``tiny``,
    ``smallest_normal``, ``resolution``, ``dtype``. With no argument, the default dtype's."""

    def __init__(self, type=None):  # noqa: A002 - PyTorch's name
        d = get_default_dtype() if type is None else as_dtype(type)
        if not d.is_floating_point:
            raise TypeError(f"finfo: expected a floating point dtype, got {d}")
        if d.name == "bfloat16":
            import ml_dtypes
            info = ml_dtypes.finfo(d.numpy)
        else:
            info = np.finfo(d.numpy)
        self.bits = d.itemsize * 8
        self.eps, self.max, self.min = builtins_float(info.eps), builtins_float(info.max), builtins_float(info.min)
        self.tiny = self.smallest_normal = builtins_float(info.smallest_normal)
        self.resolution = 10.0 ** -builtins_int(info.precision)
        self.dtype = d.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer (or bool) dtype (``torch.iinfo``): ``bits``, ``min``, ``max``, ``dtype``."""

    def __init__(self, type):  # noqa: A002 - PyTorch's name
        d = as_dtype(type)
        if d.category != _INT:
            raise TypeError(f"iinfo: expected an integer dtype, got {d}")
        info = np.iinfo(d.numpy)
        self.bits = d.itemsize * 8
        self.min, self.max = builtins_int(info.min), builtins_int(info.max)
        self.dtype = d.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
