"""What a plugin needs to declare an op: :class:`Op`, :class:`Sample`, and the primitive machinery.

An op is declared once: its public function (PyTorch's name and signature), where it appears
(``ember.X``, ``Tensor.X``, ``ember.nn.functional.X``, ``ember.linalg.X``), its in-place variant and
operator, the PyTorch counterpart it mirrors, and the sample inputs the conformance kit checks it
with. The function's body calls :func:`apply` on a :class:`Primitive` (forward + backward), or
composes other ember ops and gets its gradient for free.

What an op (or optimizer, layer, device) plugin reads and makes of a tensor, all public:

- ``x.array``: the backend array holding the elements (``numpy.ndarray`` on the CPU, ``cupy.ndarray``
  on CUDA), not a copy. It is read at the cost of a slot (the per-op hot path stays attribute access).
  Writing into it in place changes the tensor: call :func:`bump_version` afterwards, so that a
  backward that saved the tensor fails loudly instead of using the new values.
- ``x.dtype`` (an :class:`ember.dtype`: ``is_floating_point``, ``itemsize``, ``numpy``), ``x.device``
  (an :class:`ember.device`), and ``x.device.xp``: the device's array namespace (``numpy``, ``cupy``),
  which a :class:`Primitive`'s forward receives as ``xp``. ``x.requires_grad``, ``x.is_leaf``.
- :func:`wrap` (a backend array as a tensor, no copy), :func:`bump_version` (record an in-place
  change), :func:`as_view` / :func:`maybe_view` (mark a result as sharing its input's memory and
  version counter), :func:`share_version` (the counter only, as ``detach()`` and ``view(dtype)``),
  :func:`view_in_place` (make a tensor one of its own views, as ``unsqueeze_``), :func:`inplace` (write
  an out-of-place result into a tensor, as ``add_``), :func:`write_out`.

Anything else with a leading underscore belongs to ember's core and may change without notice; a test
keeps every plugin under ``plugins/`` and ``examples/`` on this API.
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import dtypes as _dt
from .autograd.grad_mode import STATE
from .device import DeviceError
from .dtypes import scalar_to, wrap_int  # noqa: F401 - part of the plugin API
from .errors import (  # noqa: F401 - part of the plugin API
    ArgumentError, DimensionError, DTypeError, LinAlgError, OutOfRangeError, ShapeError,
)
from .edge_cases import ErrorInput, StabilityInput, check_skips
from .primitive import Primitive, apply, apply_binary, apply_unary, record_node
from .creation import as_tensor
from .tensor import Tensor, _version_cell, as_view, bump_version, wrap

__all__ = ["Op", "Sample", "OpTable", "Primitive", "apply", "apply_unary", "apply_binary", "record_node", "inplace", "as_view", "promote",
           "ShapeError", "DimensionError", "DTypeError", "ArgumentError", "OutOfRangeError", "LinAlgError", "float_input", "no_bool", "check_tensor", "normalize_dims", "maybe_view", "wrap_int", "scalar_to",
           "wrap", "bump_version", "share_version", "view_in_place", "write_out",
           "ErrorInput", "StabilityInput"]


def check_tensor(op: str, name: str, value) -> Tensor:
    """``value`` if it is a Tensor; otherwise a TypeError naming the op and the argument."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}")
    return value


def float_input(op: str, input, name: str = "input", *, low_precision: bool = True) -> Tensor:
    """``input`` if it is a floating point tensor: the one dtype check of ops that PyTorch implements for
    floating dtypes only. An integer or bool tensor is a DTypeError naming the op, the argument and the
    dtype (where PyTorch raises "... not implemented for 'Long'"); with ``low_precision=False`` so is
    float16/bfloat16, for ops with float32 and float64 kernels only (LAPACK, ctc_loss)."""
    check_tensor(op, name, input)
    dtype = input._dtype
    if not dtype.is_floating_point:
        raise DTypeError(f"{op}(): not implemented for {name} of dtype {dtype.name}; expected a floating "
                         f"point tensor")
    if not low_precision and dtype.itemsize < 4:
        raise DTypeError(f"{op}(): not implemented for {name} of dtype {dtype.name}; expected float32 or float64")
    return input


def no_bool(op: str, input, name: str = "input") -> Tensor:
    """``input`` if it is not a bool tensor: for ops that PyTorch implements for numbers only."""
    check_tensor(op, name, input)
    if input._dtype.category == 0:
        raise DTypeError(f"{op}(): not implemented for {name} of dtype bool")
    return input


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
            if cat == 1 and t._dtype.category == 1:  # int scalar with int tensor: wrap, as PyTorch does
                other = wrap_int(op, other, t._dtype)
                a, b = (t, other) if a_is else (other, t)
            elif cat == 2 and t._dtype is _dt.__dict__.get("bfloat16"):
                # numpy takes ml_dtypes' bfloat16 with a Python float to float32; PyTorch keeps bfloat16
                other = t._dtype.numpy.type(other)
                a, b = (t, other) if a_is else (other, t)
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
            raise OutOfRangeError(f"{op}(): dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                             f"but got {d})")
        d = int(d) % n
        if d in out:
            raise RuntimeError(f"{op}(): dim {d} appears multiple times in the list of dims")
        out.append(d)
    if ndim == 0:
        return ()
    return tuple(sorted(out))


def share_version(tensor: Tensor, source: Tensor) -> Tensor:
    """Give ``tensor`` (a new result over ``source``'s memory) ``source``'s version counter, without making
    it a view in autograd's sense, as PyTorch's ``detach()`` and ``view(dtype)`` results are: an in-place
    change through either is seen by a backward that saved the other. Returns ``tensor``."""
    tensor._version_counter = _version_cell(source)
    return tensor


def view_in_place(op: str, input: Tensor, view: Tensor) -> Tensor:
    """Make ``input`` the view ``view`` of itself (same memory, the view's shape and strides), as
    PyTorch's in-place view ops (``unsqueeze_``, ``t_``, ``squeeze_``...) do: its history becomes the
    view's and its version is bumped. A leaf that requires grad is refused (RuntimeError naming ``op``)."""
    if input._requires_grad and input._node is None and STATE.enabled:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place operation.")
    input._data = view._data
    if view._node is not None:
        input._node, input._output_nr = view._node, view._output_nr
    bump_version(input)
    return input


def maybe_view(result: Tensor, source: Tensor) -> Tensor:
    """Mark ``result`` as a view of ``source`` when the backend gave back memory they share."""
    rb, sb = result._data.base, source._data.base
    if (rb if rb is not None else result._data) is (sb if sb is not None else source._data):
        as_view(result, source)
    return result

NAMESPACES = ("ember", "Tensor", "functional", "linalg")

# Ops that PyTorch's ``torch.<name>`` / ``torch.linalg.<name>`` offer without an ``out=`` keyword
# ("ember.det": only in that namespace). Where only some of PyTorch's overloads take ``out=`` (``sum``
# with a dim, ``argsort`` with ``stable``, ``median`` with a dim), ember takes it in all of them.
NO_OUT = frozenset("""
    adaptive_max_pool1d argwhere bilinear chunk conv1d conv2d conv3d conv_transpose1d conv_transpose2d
    conv_transpose3d cosine_similarity ember.det diagonal einsum expand flatten group_norm isfinite layer_norm
    max_pool1d max_pool2d movedim narrow pairwise_distance permute reshape rms_norm selu split squeeze
    std_mean swish t tile transpose unbind unflatten unique unsqueeze var_mean zero_ relu fill
    adaptive_avg_pool1d avg_pool1d celu pixel_shuffle pixel_unshuffle dropout alpha_dropout
    feature_alpha_dropout batch_norm instance_norm embedding_bag pdist rrelu hardshrink softshrink
    clone diag_embed flip index_put isinf isnan masked_fill roll rsub trace
    as_strided broadcast_tensors meshgrid select ravel prelu isclose logdet poisson max_pool3d
    bartlett_window blackman_window hamming_window hann_window kaiser_window bincount cartesian_prod conj
    resolve_conj count_nonzero dist cdist fliplr flipud index_fill matrix_exp linalg.matrix_exp tensor_split
    """.split())

# Ops whose ``out`` must have exactly the result's dtype (PyTorch's "Expected out tensor to have dtype"),
# and reductions that cast into any ``out`` dtype; every other op casts into ``out`` where the result's
# kind allows it (float into int, or int into bool, is an error).
EXACT_OUT_DTYPE = frozenset("""
    mm matmul addmm bmm baddbmm dot mv gather where clamp clamp_min clamp_max index_select masked_select
    take_along_dim inv inverse solve det argmax argmin nonzero any all index_add scatter scatter_add
    softmax log_softmax
    """.split())
ANY_OUT_DTYPE = frozenset(("sum", "prod", "nansum"))


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
    - ``namespaces``: the public namespaces it is bound in: any of ``"ember"``, ``"Tensor"``, ``"functional"``, ``"linalg"``.
    - ``inplace``: True to derive ``Tensor.<name>_`` from ``fn``, or a function implementing it.
    - ``operator``: Python operator name (``"add"`` binds ``__add__``, ``__radd__``, ``__iadd__``).
    - ``operator_kinds``: for a two-operand ``primitive`` op, the dtype kinds (numpy's ``"biufc"``; ``""``
      for all) for which ``fn`` on two tensors of one dtype and device is just ``apply(primitive, a, b)``:
      the operator (``a + b``) then runs the primitive directly, skipping ``fn``'s promotion and checks
      (see :func:`ember.primitive.binary_operator`). None: the operator always calls ``fn``.
    - ``samples``: ``samples(make) -> iterable of Sample``; ``make(*shape, **opts)`` builds inputs on the
      device and dtype under test (see :class:`ember.testing.SampleMaker`).
    - ``torch``: dotted name of the PyTorch counterpart (default derived from ``namespaces``), or None.
    - ``dtypes``: dtypes the samples are run in; ``differentiable``: whether gradients are checked.
    - ``errors``: ``errors(make) -> iterable of ErrorInput``: calls the op must refuse (exception class
      and message fragment); ``stability``: ``stability(make) -> iterable of StabilityInput``: extreme
      inputs whose values and gradients must stay finite and match PyTorch (see :mod:`ember.edge_cases`).
    - ``skips``: ``{check: reason}`` for checks of the kit this op opts out of (``"gradgradcheck"``,
      ``"gradcheck"``, ``"oracle"``); the reason is shown as a skipped test, never dropped silently.
    - ``primitive``: the :class:`Primitive` the function applies (once) for a *primitive* op; None for a
      *composite*, a function of other ops. With a ``reference`` too, the op is *fused*: its own
      primitive stands for that composite (faster or more stable), and the kit checks the two agree.
    - ``reference``: for a fused op, the plain composite it must match; for an op with no PyTorch
      counterpart (``torch=None``), a composite of other ember ops it equals.
    - ``expected``: ``expected(*args, **kwargs)`` on the sample's arguments as numpy arrays, returning
      the result (one array, or a tuple per output); the kit compares the forward with it. An op with
      ``torch=None`` must declare ``reference`` or ``expected``, or ``checked_elsewhere``.
    - ``checked_elsewhere``: for ``torch=None`` ops whose forward no sample can pin down (random draws,
      sign-ambiguous decompositions), which test checks it and why: recorded, shown by the kit.
    - ``mixed_devices``: True where PyTorch accepts tensors on other devices (``expand_as`` reads only
      the other's shape; ``x[i] = v`` copies ``v`` over), so the kit does not expect a DeviceError.
    - ``out``: whether ``ember.<name>`` / ``ember.linalg.<name>`` take PyTorch's ``out=`` keyword; by
      default True unless the name is in :data:`NO_OUT` (PyTorch offers it there without ``out=``).
      Handled once, by :func:`with_out`; ``fn`` never sees ``out``.
    - ``declared_at``: ``package/module.py:line`` of the declaration, found when not given.
    """

    fn: Callable
    namespaces: tuple = ("ember", "Tensor")
    name: str = ""
    method: str = ""
    inplace: object = None
    operator: str = ""
    operator_kinds: str | None = None
    aliases: tuple = ()
    samples: Callable | None = None
    torch: str | None = ""
    dtypes: tuple = (_dt.float32, _dt.float64)
    differentiable: bool = True
    errors: Callable | None = None
    stability: Callable | None = None
    skips: dict = field(default_factory=dict)
    primitive: type | None = None
    reference: Callable | None = None
    expected: Callable | None = None
    checked_elsewhere: str = ""
    mixed_devices: bool = False
    atol: float | None = None
    rtol: float | None = None
    out: bool | None = None
    declared_at: str = ""

    def __post_init__(self):
        self.name = self.name or self.fn.__name__
        if self.primitive is not None and not (isinstance(self.primitive, type)
                                               and issubclass(self.primitive, Primitive)):
            raise TypeError(f"op {self.name!r}: primitive= must be a Primitive subclass, got {self.primitive!r}")
        self.declared_at = self.declared_at or _declaration_site()
        bad = set(self.namespaces) - set(NAMESPACES)
        if bad:
            raise ValueError(f"op {self.name!r}: unknown namespaces {sorted(bad)} in namespaces=; expected {NAMESPACES}")
        if "Tensor" in self.namespaces and not self.method:
            self.method = self.name
        if self.inplace is True:
            self.inplace = make_inplace(self.fn, self.name + "_", "Tensor" in self.namespaces)
        if self.torch == "":
            self.torch = _default_torch_name(self.name, self.namespaces)
        if self.out is None:
            self.out = self.name not in NO_OUT
        self.skips = check_skips(self.name, self.skips)
        self._with_out = with_out(self.fn, self.name) if self.out else self.fn

    def function(self, place: str) -> Callable:
        """What is bound at ``place``: ``fn``, with ``out=`` handling in the ``ember``/``linalg`` namespaces."""
        if place not in ("ember", "linalg") or f"{place}.{self.name}" in NO_OUT:
            return self.fn
        return self._with_out

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    @property
    def gradgradcheck(self) -> bool:
        """Whether the kit checks second derivatives (no ``skips["gradgradcheck"]``)."""
        return "gradgradcheck" not in self.skips

    @property
    def kind(self) -> str:
        """``"primitive"``, ``"fused"`` (a primitive standing for its ``reference`` composite) or
        ``"composite"``."""
        if self.primitive is None:
            return "composite"
        return "fused" if self.reference is not None else "primitive"

    @property
    def where(self) -> tuple:
        """The old name of :attr:`namespaces` (it read as the op ``where``), kept for plugins written before."""
        warnings.warn("Op.where is now Op.namespaces", DeprecationWarning, stacklevel=2)
        return self.namespaces


def _accept_old_where(init):
    """``Op(where=...)``, the old spelling of ``namespaces=``, still works (with a DeprecationWarning), so a
    plugin written before the rename keeps loading."""
    def __init__(self, *args, where=None, **kwargs):
        if where is not None:
            warnings.warn("Op(where=...) is now Op(namespaces=...)", DeprecationWarning, stacklevel=3)
            kwargs["namespaces"] = where
        init(self, *args, **kwargs)
    __init__.__doc__, __init__.__wrapped__ = init.__doc__, init
    return __init__


Op.__init__ = _accept_old_where(Op.__init__)


def _declaration_site() -> str:
    """``package/module.py:line`` of the statement declaring the op being built: the module-level line
    that called a declaration factory (``binary_op``) a few frames out, else the nearest caller outside
    this module (an op declared in a function)."""
    frame, nearest, steps = sys._getframe(2), None, 0
    while frame is not None and steps <= _FACTORY_DEPTH:
        if frame.f_globals.get("__name__", "") != __name__:
            nearest, steps = nearest or frame, steps + 1
            if frame.f_code.co_name == "<module>":
                break
        frame = frame.f_back
    frame = frame if frame is not None and steps <= _FACTORY_DEPTH else nearest
    if frame is None:
        return ""
    module, filename = frame.f_globals.get("__name__", ""), os.path.basename(frame.f_code.co_filename)
    package = module.split(".")[:-1] if filename != "__init__.py" else module.split(".")
    return "/".join(package + [filename]) + f":{frame.f_lineno}"


_FACTORY_DEPTH = 3  # a factory called through a family's own helper (_math -> unary_op) is two frames deep


def _default_torch_name(name, namespaces):
    if "ember" in namespaces:
        return f"torch.{name}"
    if "functional" in namespaces:
        return f"torch.nn.functional.{name}"
    if "linalg" in namespaces:
        return f"torch.linalg.{name}"
    return f"torch.Tensor.{name}"


class OpTable(list):
    """A plugin's list of op declarations, filled with the :meth:`op` decorator next to each function."""

    def op(self, fn=None, **options):
        """Declare ``fn`` as an op (``@ops.op(namespaces=..., samples=...)``); returns ``fn`` unchanged."""
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
    try:
        target._device.xp.copyto(target._data, result._data, casting="unsafe")
    except ValueError:
        if getattr(target._data.flags, "writeable", True):
            raise
        raise RuntimeError(read_only_message(op, target)) from None
    bump_version(target)
    if result._node is not None:
        target._node, target._requires_grad = result._node, True
        if result._output_nr:
            target._output_nr = result._output_nr
    return target


def read_only_message(op: str, target: Tensor) -> str:
    """The error for a write into memory the backend marks read-only: an expanded tensor, whose elements
    share memory, or a tensor over a read-only array."""
    return (f"{op}: unsupported operation: the written-to tensor (shape {tuple(target.shape)}, stride "
            f"{target.stride()}) is read-only: more than one of its elements may refer to a single memory location "
            f"(an expand) or its memory is not writable. Please clone() the tensor before performing the operation.")


def _keep_old_value(node, target: Tensor) -> None:
    """The out-of-place step saved ``target`` for its backward; give it a copy of the value about to be
    overwritten, still attached to ``target``'s history, so the gradient uses the old value."""
    old = wrap(target._data.copy(), target._device)
    old._requires_grad, old._node = target._requires_grad, target._node
    if target._output_nr:
        old._output_nr = target._output_nr
    node._saved = tuple(old if s is target else s for s in node._saved)
    node._saved_versions = tuple(0 if s is old else v for s, v in zip(node._saved, node._saved_versions))
    old._version_counter = [0]


def make_inplace(fn, name, tensor_method=True):
    def inplace_variant(self, *args, **kwargs):
        return inplace(self, fn(self, *args, **kwargs), name)
    inplace_variant.__name__ = inplace_variant.__qualname__ = name
    counterpart = f"torch.Tensor.{name}" if tensor_method else f"torch.{name}"  # celu_ is no Tensor method
    inplace_variant.__doc__ = (f"In-place version of :func:`{name[:-1]}`: writes the result into ``self`` "
                               f"(``{counterpart}``).")
    return inplace_variant


def with_out(fn: Callable, name: str) -> Callable:
    """``fn`` with PyTorch's ``out=`` keyword: the result is written into ``out`` and ``out`` returned."""
    def op_with_out(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if STATE.enabled:
            _refuse_grad(name, args, kwargs, out)
        return write_out(name, fn(*args, **kwargs), out)
    op_with_out.__name__ = op_with_out.__qualname__ = fn.__name__
    op_with_out.__doc__ = fn.__doc__
    op_with_out.__module__ = fn.__module__
    op_with_out.__wrapped__ = fn
    return op_with_out


def _refuse_grad(name, args, kwargs, out) -> None:
    outs = out if isinstance(out, (tuple, list)) else (out,)
    values = list(args) + list(kwargs.values()) + list(outs)
    for v in values:
        if isinstance(v, (tuple, list)):
            values.extend(v)
        elif isinstance(v, Tensor) and v._requires_grad:
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                               f"differentiation, but one of the arguments requires grad")


def write_out(name: str, result, out):
    """Write an op's ``result`` (a tensor or a tuple of them) into ``out`` with PyTorch's rules.

    ``out`` is resized when its shape differs (with PyTorch's warning when it held elements); the
    result is cast into ``out``'s dtype where PyTorch allows it (``EXACT_OUT_DTYPE`` ops need the same
    dtype; no op may cast floats into integers or integers into bool). Returns ``out``.
    """
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): out must be a tuple of {len(result)} tensors, got {type(out).__name__}")
        written = [write_out(name, r, o) for r, o in zip(result, out)]
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if not isinstance(result, Tensor):
        result = as_tensor(result, device=out._device)
    if result._device is not out._device:
        raise DeviceError(f"{name}(): expected out on {result._device}, got out on {out._device}")
    rd, od = result._dtype, out._dtype
    if rd is not od:
        if name in EXACT_OUT_DTYPE:
            raise DTypeError(f"{name}(): expected out tensor to have dtype {rd.name}, but got {od.name} instead")
        if rd.category > od.category and name not in ANY_OUT_DTYPE:
            raise DTypeError(f"{name}(): result type {rd.name} can't be cast to the desired output type {od.name}")
    data = result._data
    if data.shape == out._data.shape:
        out._device.xp.copyto(out._data, data, casting="unsafe")
    else:
        if out._data.size:
            warnings.warn(f"{name}(): an output with one or more elements was resized since it had shape "
                          f"{tuple(out.shape)}, which does not match the required output shape {tuple(data.shape)}; "
                          f"resize it to zero elements first to reuse it", UserWarning, stacklevel=3)
        out._data = data.astype(od.numpy, copy=True)  # result may share memory with an input
    bump_version(out)
    return out


def __getattr__(name):
    # ``ember.ops.aten`` (PyTorch's operator namespace) and ``load_library`` live in ember/aten.py.
    if name in ("aten", "load_library"):
        from . import aten
        return getattr(aten, name)
    raise AttributeError(f"module 'ember.ops' has no attribute {name!r}")
