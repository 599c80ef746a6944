"""Tensor methods and functions that real PyTorch code calls, written as composites of ember ops:
closeness tests (``allclose``, ``isclose``, ``equal``), ``resize_``, ``meshgrid`` and
``broadcast_tensors``. Every derivative order comes from the ops used. (The view-returning spellings,
``view_as``, ``reshape_as``, ``Tensor.unfold``, ``select``, ``ravel``, ``moveaxis``, ``squeeze_``,
``unsqueeze_``, ``tensor_split``, live with the other views
in shape.py.)
"""

from __future__ import annotations

import numpy as np

from ember.device import DeviceError
from ember.ops import ErrorInput, OpTable, Sample, ShapeError, check_tensor
from ember.tensor import Tensor
from ember.ops import wrap

ops = OpTable()


def _same_device(op, a, b):
    if a.device != b.device:
        raise DeviceError(f"{op}(): expected all tensors on the same device, got {a.device} and {b.device}")


def _close_samples(make):
    a = make(2, 3, requires_grad=False)
    yield Sample((a, a + 1e-9), name="nearly equal")
    yield Sample((a, a + 0.5), name="different")
    yield Sample((make(2, 3, requires_grad=False), make(3, requires_grad=False)), {"rtol": 0.5, "atol": 1.0},
                 name="broadcast, loose")


def _close_errors(make):
    yield ErrorInput(Sample((make(2, 3), make(2, 4))), ShapeError,
                     r"isclose\(\): the size of tensor a \(3\) must match the size of tensor b \(4\)")


@ops.op(namespaces=("ember", "Tensor"), differentiable=False, samples=_close_samples, errors=_close_errors)
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| elementwise, as a bool tensor; infinities are close only to
    themselves and NaN to NaN only with ``equal_nan`` (``torch.isclose``).

    Shape:
        - input, other: shapes that broadcast together; any dtype.
        - output: the broadcast shape; bool.

    Raises:
        RuntimeError: ``input`` and ``other`` differ in dtype, or ``rtol``/``atol`` is negative.
        ShapeError: the shapes do not broadcast.
        TypeError: ``input`` or ``other`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.isclose``."""
    check_tensor("isclose", "input", input)
    check_tensor("isclose", "other", other)
    _same_device("isclose", input, other)
    if input.dtype is not other.dtype:
        raise RuntimeError(f"isclose(): {input.dtype} did not match {other.dtype}")
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"isclose(): rtol and atol must be non-negative, got rtol={rtol}, atol={atol}")
    xp = input.device.xp
    a, b = input.array, other.array
    try:
        xp.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        from .elementwise_factories import _broadcast_error
        raise _broadcast_error("isclose", input, other) from None
    if not input.dtype.is_floating_point:
        a, b = a.astype(xp.float64), b.astype(xp.float64)
    with_nan = xp.isnan(a) & xp.isnan(b) if equal_nan else False
    finite = xp.isfinite(a) & xp.isfinite(b)
    with_tol = finite & (xp.abs(a - b) <= atol + rtol * xp.abs(b))
    return wrap(xp.asarray((a == b) | with_tol | with_nan), input.device)


def _close_errors(make):
    yield ErrorInput(Sample((make(2, 3), make(2, 4))), ShapeError,
                     r"isclose\(\): the size of tensor a \(3\) must match the size of tensor b \(4\)")


@ops.op(namespaces=("ember", "Tensor"), differentiable=False, samples=_close_samples, errors=_close_errors)
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether every element of ``input`` is close to ``other`` (``torch.allclose``); a Python bool.

    Shape:
        - input, other: one dtype, shapes that broadcast.
        - output: a Python bool.

    Raises:
        RuntimeError: ``input`` and ``other`` differ in dtype, or ``rtol``/``atol`` is negative.
        ShapeError: the shapes do not broadcast.
        TypeError: ``input`` or ``other`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.allclose``."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def _equal_samples(make):
    a = make(2, 3, requires_grad=False)
    yield Sample((a, a.clone()), name="equal")
    yield Sample((a, a + 1), name="different")
    yield Sample((a, make(3, 2, requires_grad=False)), name="other shape")


@ops.op(namespaces=("ember", "Tensor"), differentiable=False, samples=_equal_samples)
def equal(input, other) -> bool:
    """True when both have the same shape and the same values (``torch.equal``); a Python bool.

    Shape:
        - input, other: any shapes and dtypes.
        - output: a Python bool, True for one shape and equal values.

    Raises:
        TypeError: ``input`` or ``other`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.equal``."""
    check_tensor("equal", "input", input)
    check_tensor("equal", "other", other)
    _same_device("equal", input, other)
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool((input == other).all())


def _sizes(args):
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)


def resize_(self, *sizes, memory_format=None):
    """Give ``self`` the shape ``sizes`` in place: the leading elements in memory order are kept (PyTorch lays the
    new contiguous shape over the storage: a transposed tensor is read in its storage's order), new ones are zero
    (PyTorch leaves them uninitialised); the same shape leaves ``self`` as it is. As PyTorch, refused for a tensor
    that requires grad.

    Shape:
        - sizes: ``(*)``, any number of dimensions; any dtype.
        - output: ``(*)``, the shape of ``sizes``; the dtype of ``input``.

    Raises:
        RuntimeError: ``self`` requires grad.
        TypeError: ``self`` is not a Tensor.

    PyTorch: ``torch.Tensor.resize_``."""
    check_tensor("resize_", "self", self)
    shape = _sizes(sizes)
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    if shape == tuple(self.array.shape):
        return self
    xp = self.device.xp
    flat = xp.ravel(self.array, order="K")
    n = 1
    for s in shape:
        n *= s
    data = xp.zeros(n, dtype=flat.dtype)
    keep = min(n, flat.size)
    data[:keep] = flat[:keep]
    self.array = data.reshape(shape)
    from ember.ops import bump_version
    bump_version(self)
    return self


ops.op(resize_, namespaces=("Tensor",), torch="torch.Tensor.resize_", differentiable=False,
       samples=lambda make: [Sample((make(2, 3, requires_grad=False), 3, 2)), Sample((make(2, 3, requires_grad=False), (2, 2)))])


def _resize_expected(x, *sizes):
    shape = _sizes(sizes)
    out = np.zeros(int(np.prod(shape)), x.dtype)
    keep = min(out.size, x.size)
    out[:keep] = x.reshape(-1)[:keep]
    return out.reshape(shape)


@ops.op(namespaces=("Tensor",), torch=None,  # deprecated in PyTorch (warns); the same as resize_ on a copy
        expected=_resize_expected, differentiable=False, samples=lambda make: [Sample((make(2, 3, requires_grad=False), 3, 2))])
def resize(self, *sizes):
    """A copy of ``self`` resized to ``sizes`` (``Tensor.resize``, deprecated in PyTorch).

    Shape:
        - self: ``(*)``; sizes: the new shape.
        - output: a tensor of ``sizes`` holding ``self``'s leading elements in memory order (new elements
          uninitialised).

    Raises:
        TypeError: ``self`` is not a Tensor.

    PyTorch: ``torch.Tensor.resize_``."""
    check_tensor("resize", "self", self)
    return resize_(self.detach().clone(), *sizes)


def _meshgrid_samples(make):
    yield Sample((make(3), make(2)), {"indexing": "ij"}, name="ij")
    yield Sample((make(3), make(2), make(4)), {"indexing": "xy"}, name="xy, three")
    yield Sample(([make(2), make(3)],), {"indexing": "ij"}, name="list")


@ops.op(namespaces=("ember",), samples=_meshgrid_samples)
def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D (or 0-D) tensors (``torch.meshgrid``); ``indexing`` "ij" (the default, with
    PyTorch's future-default warning not repeated) or "xy" (first two dims swapped, as numpy).

    Shape:
        - tensors: 0-d or 1-D tensors of lengths n1, ..., nk.
        - output: k tensors of shape ``(n1, ..., nk)`` ('ij'), or with the first two swapped ('xy').

    Raises:
        ValueError: ``indexing`` is not 'ij' or 'xy'.
        RuntimeError: a tensor is more than 1-D.
        TypeError: an argument is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.meshgrid``."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = indexing or "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for i, t in enumerate(tensors):
        check_tensor("meshgrid", f"tensors[{i}]", t)
        if t.dim() > 1:
            raise RuntimeError(f"meshgrid: expected 0D or 1D tensor in the tensor list but got {t.dim()}-D")
        _same_device("meshgrid", tensors[0], t)
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = tuple(t.shape[0] for t in flat)
    grids = []
    for i, t in enumerate(flat):
        view = [1] * len(flat)
        view[i] = -1
        grids.append(t.reshape(view).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def _broadcast_samples(make):
    yield Sample((make(2, 3), make(3)), name="two")
    yield Sample((make(2, 1), make(1, 3), make()), name="three with a scalar")


@ops.op(namespaces=("ember",), samples=_broadcast_samples)
def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (``torch.broadcast_tensors``).

    Shape:
        - tensors: tensors whose shapes broadcast together.
        - output: a tuple of views, each the broadcast shape.

    Raises:
        RuntimeError: the shapes do not broadcast.
        TypeError: an argument is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.broadcast_tensors``."""
    import numpy as np
    for i, t in enumerate(tensors):
        check_tensor("broadcast_tensors", f"tensors[{i}]", t)
        _same_device("broadcast_tensors", tensors[0], t)
    try:
        shape = tuple(np.broadcast_shapes(*[tuple(t.shape) for t in tensors]))
    except ValueError:
        raise RuntimeError(f"broadcast_tensors: shapes {[tuple(t.shape) for t in tensors]} cannot be broadcast "
                           f"together") from None
    return tuple(t.expand(shape) for t in tensors)
