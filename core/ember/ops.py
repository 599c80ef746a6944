"""What a plugin needs to declare an op: :class:`Op`, :class:`Sample`, and the primitive machinery.

An op is declared once: its public function (PyTorch's name and signature), where it appears
(``ember.X``, ``Tensor.X``, ``ember.nn.functional.X``, ``ember.linalg.X``), its in-place variant and
operator, the PyTorch counterpart it mirrors, and the sample inputs the conformance kit checks it
with. The function's body calls :func:`apply` on a :class:`Primitive` (forward + backward), or
composes other ember ops and gets its gradient for free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import dtypes as _dt
from .autograd.grad_mode import STATE
from .primitive import Primitive, apply, apply_binary, apply_unary, record_node
from .tensor import Tensor, as_tensor, as_view, bump_version, wrap

__all__ = ["Op", "Sample", "OpTable", "Primitive", "apply", "apply_unary", "apply_binary", "record_node", "inplace", "as_view", "promote",
           "ShapeError", "DTypeError", "check_tensor", "normalize_dims", "maybe_view"]


class ShapeError(RuntimeError):
    """Tensor shapes do not fit an op (PyTorch raises RuntimeError here, so this is one)."""


class DTypeError(TypeError):
    """A tensor's dtype is not one the op accepts."""


def check_tensor(op: str, name: str, value) -> Tensor:
    """``value`` if it is a Tensor; otherwise a TypeError naming the op and the argument."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}")
    return value


def promote(op: str, a, b, float_result: bool = False):
    """``a`` and ``b`` (tensors or Python numbers, at least one a tensor) cast to PyTorch's common dtype.

    Python numbers stay Python numbers: backends treat them as weakly typed, as PyTorch does. With
    ``float_result`` an integral common dtype becomes the default float (true division).
    """
    a_is = isinstance(a, Tensor)
    b_is = isinstance(b, Tensor)
    if a_is != b_is and isinstance(b if a_is else a, np.ndarray):  # ndarray (op) Tensor gives a Tensor
        device = (a if a_is else b)._device
        a, b = (a, as_tensor(b, device=device)) if a_is else (as_tensor(a, device=device), b)
        a_is = b_is = True
    if a_is and b_is:
        if a._dtype is b._dtype and (a._dtype.is_floating_point or not float_result):
            return a, b
    elif a_is or b_is:
        t, other = (a, b) if a_is else (b, a)
        cat = _dt.scalar_category(other)
        if cat < 0:
            raise TypeError(f"{op}(): expected a Tensor or a number, got {type(other).__name__}")
        if isinstance(other, (np.generic,)):
            other = other.item()
            a, b = (t, other) if a_is else (other, t)
        if cat <= t._dtype.category and (t._dtype.is_floating_point or not float_result):
            return a, b
    else:
        raise TypeError(f"{op}(): expected at least one Tensor argument, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    dtype = _dt.result_type(a, b)
    if float_result and not dtype.is_floating_point:
        dtype = _dt.get_default_dtype()
    if a_is and a._dtype is not dtype:
        a = a.to(dtype)
    if b_is and b._dtype is not dtype:
        b = b.to(dtype)
    return a, b


def normalize_dims(op: str, dim, ndim: int) -> tuple | None:
    """``dim`` (None, an int or a sequence) as a sorted tuple of non-negative dims, checked against ``ndim``."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    n = max(ndim, 1)
    out = []
    for d in dims:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise TypeError(f"{op}(): dim must be an int or a tuple of ints, got {dim!r}")
        if not -n <= d < n:
            raise IndexError(f"{op}(): dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                             f"but got {d})")
        d = int(d) % n
        if d in out:
            raise RuntimeError(f"{op}(): dim {d} appears multiple times in the list of dims")
        out.append(d)
    if ndim == 0:
        return ()
    return tuple(sorted(out))


def maybe_view(result: Tensor, source: Tensor) -> Tensor:
    """Mark ``result`` as a view of ``source`` when the backend gave back memory they share."""
    rb, sb = result._data.base, source._data.base
    if (rb if rb is not None else result._data) is (sb if sb is not None else source._data):
        as_view(result, source)
    return result

WHERE = ("ember", "Tensor", "functional", "linalg")


@dataclass(frozen=True)
class Sample:
    """One call of an op for the conformance kit: positional and keyword arguments, and a label."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    name: str = ""

    def __repr__(self) -> str:
        shapes = ", ".join(f"{tuple(a.shape)}" if isinstance(a, Tensor) else repr(a) for a in self.args)
        return f"Sample({self.name or shapes}{', ' if self.kwargs else ''}{self.kwargs or ''})"


@dataclass
class Op:
    """An op declaration; register it with ``registry.register(op)`` in ``ember_register_ops``.

    - ``fn``: the function users call; its ``__name__`` is the op's name unless ``name`` is given.
    - ``where``: public places it is bound: any of ``"ember"``, ``"Tensor"``, ``"functional"``, ``"linalg"``.
    - ``inplace``: True to derive ``Tensor.<name>_`` from ``fn``, or a function implementing it.
    - ``operator``: Python operator name (``"add"`` binds ``__add__``, ``__radd__``, ``__iadd__``).
    - ``samples``: ``samples(make) -> iterable of Sample``; ``make(*shape, **opts)`` builds inputs on the
      device and dtype under test (see :class:`ember.testing.SampleMaker`).
    - ``torch``: dotted name of the PyTorch counterpart (default derived from ``where``), or None.
    - ``dtypes``: dtypes the samples are run in; ``gradcheck``/``gradgradcheck``: which checks apply.
    - ``reference``: for a composite with its own forward/backward, the plain composite it must match.
    - ``mixed_devices``: True where PyTorch accepts tensors on other devices (``expand_as`` reads only
      the other's shape; ``x[i] = v`` copies ``v`` over), so the kit does not expect a DeviceError.
    """

    fn: Callable
    where: tuple = ("ember", "Tensor")
    name: str = ""
    method: str = ""
    inplace: object = None
    operator: str = ""
    aliases: tuple = ()
    samples: Callable | None = None
    torch: str | None = ""
    dtypes: tuple = (_dt.float32, _dt.float64)
    differentiable: bool = True
    gradgradcheck: bool = True
    reference: Callable | None = None
    mixed_devices: bool = False
    atol: float | None = None
    rtol: float | None = None

    def __post_init__(self):
        self.name = self.name or self.fn.__name__
        bad = set(self.where) - set(WHERE)
        if bad:
            raise ValueError(f"op {self.name!r}: unknown places {sorted(bad)} in where=; expected {WHERE}")
        if "Tensor" in self.where and not self.method:
            self.method = self.name
        if self.inplace is True:
            self.inplace = make_inplace(self.fn, self.name + "_")
        if self.torch == "":
            self.torch = _default_torch_name(self.name, self.where)

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    @property
    def kind(self) -> str:
        return "primitive" if getattr(self.fn, "primitive", None) is not None else "composite"


def _default_torch_name(name, where):
    if "ember" in where:
        return f"torch.{name}"
    if "functional" in where:
        return f"torch.nn.functional.{name}"
    if "linalg" in where:
        return f"torch.linalg.{name}"
    return f"torch.Tensor.{name}"


class OpTable(list):
    """A plugin's list of op declarations, filled with the :meth:`op` decorator next to each function."""

    def op(self, fn=None, **options):
        """Declare ``fn`` as an op (``@ops.op(where=..., samples=...)``); returns ``fn`` unchanged."""
        def declare(f):
            self.append(Op(f, **options))
            return f
        return declare(fn) if fn is not None else declare

    def register(self, registry) -> None:
        registry.register_all(self)


def inplace(target: Tensor, result: Tensor, op: str) -> Tensor:
    """Write an op's out-of-place ``result`` into ``target``'s memory, as PyTorch's in-place ops do.

    ``target`` takes over ``result``'s place on the tape, and its version is bumped, so backward through
    a node that saved the old value fails loudly instead of returning a wrong gradient.
    """
    if STATE.enabled and (target._requires_grad or result._requires_grad):
        if target._node is None and target._requires_grad:
            raise RuntimeError(f"{op}: a leaf tensor that requires grad is being used in an in-place operation; "
                               f"wrap it in ember.no_grad() or use the out-of-place op")
        if target._base is not None and (target._base._requires_grad or result._requires_grad):
            raise RuntimeError(f"{op}: in-place change of a view of a tensor that requires grad is not "
                               f"supported by ember's autograd; clone() the view first")
    if result._data.shape != target._data.shape:
        raise RuntimeError(f"{op}: output with shape {tuple(target.shape)} doesn't match the broadcast shape "
                           f"{tuple(result.shape)}")
    if result._dtype is not target._dtype and result._dtype.category > target._dtype.category:
        raise RuntimeError(f"{op}: result type {result._dtype} can't be cast to the desired output type "
                           f"{target._dtype}")
    node = result._node
    if node is not None and node._saved is not None and any(s is target for s in node._saved):
        _keep_old_value(node, target)
    target._device.xp.copyto(target._data, result._data, casting="unsafe")
    bump_version(target)
    if result._node is not None:
        target._node, target._requires_grad = result._node, True
        if result._output_nr:
            target._output_nr = result._output_nr
    return target


def _keep_old_value(node, target: Tensor) -> None:
    """The out-of-place step saved ``target`` for its backward; give it a copy of the value about to be
    overwritten, still attached to ``target``'s history, so the gradient uses the old value."""
    old = wrap(target._data.copy(), target._device)
    old._requires_grad, old._node = target._requires_grad, target._node
    if target._output_nr:
        old._output_nr = target._output_nr
    node._saved = tuple(old if s is target else s for s in node._saved)
    node._saved_versions = tuple(0 if s is old else v for s, v in zip(node._saved, node._saved_versions))
    old._vcell = [0]


def make_inplace(fn, name):
    def inplace_variant(self, *args, **kwargs):
        return inplace(self, fn(self, *args, **kwargs), name)
    inplace_variant.__name__ = inplace_variant.__qualname__ = name
    inplace_variant.__doc__ = f"In-place version of :func:`{fn.__name__}`: writes the result into ``self``."
    return inplace_variant


def __getattr__(name):
    # ``ember.ops.aten`` (PyTorch's operator namespace) and ``load_library`` live in ember/aten.py.
    if name in ("aten", "load_library"):
        from . import aten
        return getattr(aten, name)
    raise AttributeError(f"module 'ember.ops' has no attribute {name!r}")
