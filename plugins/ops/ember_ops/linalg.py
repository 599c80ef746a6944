"""Matrix products: matmul with every 1-D/2-D/batched broadcasting case, and ``linear``."""

from __future__ import annotations

import math

import numpy as np

from ember.ops import (ArgumentError, DTypeError, DimensionError, ErrorInput, LinAlgError, OpTable, Primitive, Sample, ShapeError,
                       apply, check_tensor, float_input, maybe_view, no_bool, normalize_dims, scalar_to)
from ember.autograd.grad_mode import is_grad_enabled
from ember.ops import wrap
from ember.tensor import Tensor

from . import blas_threads
from .shape import SumToSize

ops = OpTable()


def product(xp, a, b):
    """``xp.matmul(a, b)`` in ``a``'s dtype: numpy multiplies ml_dtypes' bfloat16 in float32 and returns float32,
    where PyTorch (and every ember op) returns its inputs' dtype. The float32 result is rounded once, as
    PyTorch's bfloat16 GEMM accumulates in float32 and rounds."""
    out = xp.matmul(a, b)
    return out if out.dtype == a.dtype else out.astype(a.dtype)


def _einsum(xp, spec, *arrays, optimize=False):
    """``xp.einsum``, for bfloat16 too: numpy's einsum refuses ml_dtypes' bfloat16, so it is computed in
    float32 and rounded once, as ``product``."""
    dtype = arrays[0].dtype
    if dtype.kind == "V":  # ml_dtypes' bfloat16 (an extension float) is void-kind to numpy
        wide = [a.astype(np.float32) for a in arrays]
        return xp.einsum(spec, *wide, optimize=optimize).astype(dtype)
    return xp.einsum(spec, *arrays, optimize=optimize)


class Matmul(Primitive):
    """The product of two (batched) matrices; batch dims broadcast, the engine reduces them back.

    A batch times one matrix, (..., m, k) @ (k, n), is one GEMM of (rows, k) @ (k, n), as PyTorch runs it:
    numpy would run one small GEMM per batch index. Its gradient in the matrix is one GEMM too.
    :class:`Mm` (two matrices) and :class:`Bmm` (two batches of one size) are its ATen-named cases."""

    save_inputs = True

    @staticmethod
    def forward(xp, a, b):
        if a.ndim == 2 and b.ndim == 2:  # the common case: no batch, no thread limit to consider
            return product(xp, a, b)
        if _one_gemm(a.shape, b.shape):
            return product(xp, _rows(a), b.reshape(b.shape[-2:])).reshape(a.shape[:-1] + b.shape[-1:])
        with blas_threads.for_batched_product(xp, a, b):
            return product(xp, a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        grad_a = g @ b.mT if need_a else None
        if not need_b:
            return grad_a, None
        if _one_gemm(a.shape, b.shape):  # rows(a).T @ rows(g), not a batch of products summed afterwards
            grad_b = apply(LinearWeightGrad, a, g)
            return grad_a, grad_b if b.dim() == 2 else grad_b.reshape(b.shape)
        return grad_a, a.mT @ g


class Mm(Matmul):
    """The product of two matrices."""


class Bmm(Matmul):
    """The product of two batches of matrices of one batch size."""


def _product_primitive(a, b):
    a_nd, b_nd = a.array.ndim, b.array.ndim
    if a_nd == 2 and b_nd == 2:
        return Mm
    if a_nd == 3 and b_nd == 3 and a.array.shape[0] == b.array.shape[0]:
        return Bmm
    return Matmul


def _one_gemm(a_shape, b_shape):
    """Whether ``a @ b`` is a batch times one matrix: ``b`` 2-D, or with batch dims all 1 that ``a``'s cover."""
    return len(a_shape) > 2 and len(b_shape) >= 2 and len(a_shape) >= len(b_shape) and \
        all(d == 1 for d in b_shape[:-2])


def _shape_text(shape):
    return "x".join(str(s) for s in shape) or "scalar"


def _matmul_samples(make):
    yield Sample((make(3, 4), make(4, 5)), name="matrix @ matrix")
    yield Sample((make(4), make(4)), name="vector @ vector")
    yield Sample((make(3, 4), make(4)), name="matrix @ vector")
    yield Sample((make(4), make(4, 5)), name="vector @ matrix")
    yield Sample((make(2, 3, 4), make(4, 5)), name="batch @ matrix")
    yield Sample((make(2, 1, 3, 4), make(5, 4, 2)), name="broadcast batches")
    yield Sample((make(5), make(2, 5, 3)), name="vector @ batch")
    yield Sample((make(3, 4, noncontiguous=True), make(4, 2)), name="non-contiguous")
    yield Sample((make(0, 4), make(4, 2)), name="empty")
    yield Sample((make(2, 3, 4), make(4)), name="batch @ vector")
    yield Sample((make(2, 1, 2, 3), make(4, 3, 2)), name="batch broadcast against batch")
    yield Sample((make(3, 4), make(2, 4, 5)), name="matrix @ batch")


def _matmul_errors(make):
    yield ErrorInput(Sample((make(2, 3), make(4, 5))), RuntimeError,
                     r"matmul\(\): mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)")
    yield ErrorInput(Sample((make(2, 3, 4), make(3, 4, 5))), RuntimeError,
                     r"matmul\(\): batch dimensions of \(2, 3, 4\) and \(3, 4, 5\)")


@ops.op(primitive=Matmul, operator="matmul", samples=_matmul_samples, errors=_matmul_errors)
def matmul(input, other):
    """Matrix product with NumPy/PyTorch broadcasting: 1-D operands are promoted and the added dim removed again
    (``torch.matmul``).

    Shape:
        - input: ``(n,)``, ``(n, m)`` or ``(*1, n, m)``; other: ``(m,)``, ``(m, p)`` or ``(*2, m, p)``; one dtype,
          not bool.
        - output: ``(*, n, p)`` with ``*`` the broadcast of the batch dims; 1-D operands lose their matrix dim
          (vector . vector is ``()``).

    Raises:
        DimensionError: an operand is 0-d.
        ShapeError: the contracted dims differ, or the batch dims do not broadcast.
        DTypeError: a tensor is bool, or the two dtypes differ.
        TypeError: ``input`` or ``other`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.matmul``."""
    no_bool("matmul", input)
    check_tensor("matmul", "other", other)
    a_nd, b_nd = input.array.ndim, other.array.ndim
    if a_nd == 0 or b_nd == 0:
        raise DimensionError(f"matmul(): both arguments need at least 1 dimension, got {a_nd}D and {b_nd}D tensors")
    if input.dtype is not other.dtype:
        raise DTypeError(f"matmul(): expected both arguments to have the same dtype, got {input.dtype} and "
                         f"{other.dtype}")
    a = input.unsqueeze(0) if a_nd == 1 else input
    b = other.unsqueeze(-1) if b_nd == 1 else other
    if a.array.shape[-1] != b.array.shape[-2]:
        raise ShapeError(f"matmul(): mat1 and mat2 shapes cannot be multiplied ({_shape_text(input.array.shape)} "
                         f"and {_shape_text(other.array.shape)})")
    try:
        out = apply(_product_primitive(a, b), a, b)
    except ValueError:
        raise ShapeError(f"matmul(): batch dimensions of {tuple(input.shape)} and {tuple(other.shape)} cannot be "
                         f"broadcast") from None
    added = ((-2,) if a_nd == 1 else ()) + ((-1,) if b_nd == 1 else ())
    return out.squeeze(added) if added else out


@ops.op(primitive=Mm, namespaces=("ember", "Tensor"), samples=lambda make: [Sample((make(3, 4), make(4, 5)))])
def mm(input, mat2):
    """Product of two matrices, no broadcasting (``torch.mm``).

    Shape:
        - input: ``(n, m)``; mat2: ``(m, p)``; one dtype, not bool.
        - output: ``(n, p)``.

    Raises:
        DimensionError: an operand is not 2-D.
        ShapeError: the contracted dims differ.
        DTypeError: a tensor is bool, or the two dtypes differ.
        TypeError: ``input`` or ``mat2`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.mm``."""
    no_bool("mm", input)
    check_tensor("mm", "mat2", mat2)
    if input.dim() != 2 or mat2.dim() != 2:
        raise DimensionError(f"mm(): expected 2-D tensors, got shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    return matmul(input, mat2)


def _rows(a):
    """``a`` (..., n) as a (rows, n) matrix; the row count is explicit, as -1 cannot be inferred when n is 0."""
    if a.ndim == 2:
        return a
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


class Linear(Primitive):
    """``x @ W.T + b`` in one backend call: the layer every MLP spends its time in."""

    save_inputs = True

    @staticmethod
    def forward(xp, x, weight, bias):
        rows = _rows(x) if x.ndim > 2 and x.flags.c_contiguous else x  # (..., in) as one (rows, in) GEMM
        addmm = getattr(xp, "addmm", None) if bias is not None else None
        if addmm is not None:  # a namespace whose GEMM adds the bias itself (ember_fast: MKL with beta=1)
            out = addmm(bias, rows, weight.T)
        else:
            out = product(xp, rows, weight.T)
            if bias is not None:
                out += bias
        return out.reshape(x.shape[:-1] + (weight.shape[0],)) if rows is not x else out

    @staticmethod
    def backward(ctx, g):
        x, weight, bias = ctx.inputs
        need_x, need_w, need_b = ctx.needs_input_grad
        if g.array.ndim == 2 and not is_grad_enabled():
            # no graph is being built (no create_graph): each product is its primitive's forward (or the device's
            # kernel for it) on the arrays, as apply would run it, without apply's per-call bookkeeping
            device, ga = g.device, g.array
            return (_unrecorded(Mm, device, ga, weight.array) if need_x else None,
                    _unrecorded(LinearWeightGrad, device, ga, x.array) if need_w else None,
                    _unrecorded(SumToSize, device, ga, bias.array.shape) if need_b else None)
        # a matrix gradient runs the Mm primitive at once (what g @ weight runs, without matmul's checks)
        gx = (apply(Mm, g, weight) if g.array.ndim == 2 else g @ weight) if need_x else None
        gw = apply(LinearWeightGrad, g, x) if need_w else None
        gb = apply(SumToSize, g, shape=bias.shape) if need_b else None  # the shapes are known to fit
        return gx, gw, gb


def _unrecorded(prim, device, *arrays):
    """``apply(prim, ...)`` on arrays of ``device`` where nothing is recorded: the device's kernel for ``prim``
    (else its forward), numpy's floating-point warnings off as apply runs it, the result wrapped."""
    kernels = prim.kernels
    forward = kernels.get(device.type, prim.forward) if kernels else prim.forward
    try:
        out = forward(device.xp, *arrays)
    except RuntimeWarning:  # warnings made errors (pytest -W error): again with numpy's off, as apply does
        with np.errstate(all="ignore"):
            out = forward(device.xp, *arrays)
    return wrap(out, device)


class LinearWeightGrad(Primitive):
    """``g.T @ x`` over all leading dims at once: the weight gradient of ``linear`` (and of the matrix in
    a batch @ matrix product) in one backend call (instead of two reshapes, a transpose and a matmul on
    the training hot path)."""

    save_inputs = True

    @staticmethod
    def forward(xp, g, x):
        return product(xp, _rows(g).T, _rows(x))

    @staticmethod
    def backward(ctx, gg):
        g, x = ctx.inputs
        need_g, need_x = ctx.needs_input_grad
        grad_g = (x.reshape(-1, x.shape[-1]) @ gg.mT).reshape(g.shape) if need_g else None
        grad_x = (g.reshape(-1, g.shape[-1]) @ gg).reshape(x.shape) if need_x else None
        return grad_g, grad_x


def _linear_samples(make):
    yield Sample((make(4, 3), make(5, 3), make(5)), name="batch")
    yield Sample((make(3), make(5, 3), make(5)), name="single input")
    yield Sample((make(2, 4, 3), make(5, 3)), name="3-D input, no bias")



class LinearAddmm(Linear):
    """``Linear`` of a matrix with a bias: PyTorch records it as addmm."""

    name, grad_fn = "linear.addmm", "AddmmBackward0"
    next_functions_order = (2, 0, 1)  # addmm(bias, input, weight.T): PyTorch's node lists the bias first


class LinearMm(Linear):
    """``Linear`` of a matrix without a bias: PyTorch records it as mm."""

    name, grad_fn = "linear.mm", "MmBackward0"


def _linear_composite(input, weight, bias=None):
    """linear's definition, input @ weight.T + bias: what the fused primitives are checked against."""
    out = input @ weight.mT
    return out if bias is None else out + bias


@ops.op(primitive=Linear, namespaces=("functional",), samples=_linear_samples, reference=_linear_composite)
def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` (``torch.nn.functional.linear``).

    Shape:
        - input: ``(*, in_features)``; weight: ``(out_features, in_features)``; bias: ``(out_features,)`` or None;
          one dtype, not bool.
        - output: ``(*, out_features)``.

    Raises:
        DimensionError: ``weight`` is not 2-D.
        ShapeError: ``input``'s last dim is not ``in_features``, or ``bias`` is not ``(out_features,)``.
        DTypeError: ``input`` is bool, or ``input``, ``weight`` and ``bias`` differ in dtype.
        TypeError: ``input`` or ``weight`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.nn.functional.linear``."""
    if isinstance(input, Tensor) and isinstance(weight, Tensor) and isinstance(bias, Tensor):
        # the layer's case, checked in one expression (the checks below cost ~2 us a call): a matrix and
        # a weight and bias of one non-bool dtype that fit it; anything else takes the checks below
        x, w = input.array.shape, weight.array.shape
        dtype = weight.dtype
        if (len(x) == 2 and len(w) == 2 and x[1] == w[1] and input.dtype is dtype and bias.dtype is dtype
                and bias.array.shape == w[:1] and dtype.is_floating_point):
            return apply(LinearAddmm, input, weight, bias)
    no_bool("linear", input)
    check_tensor("linear", "weight", weight)
    if weight.array.ndim != 2:
        raise DimensionError(f"linear(): weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}")
    if input.array.ndim == 0 or input.array.shape[-1] != weight.array.shape[1]:
        raise ShapeError(f"linear(): input's last dimension must equal in_features={weight.array.shape[1]}; got "
                         f"input of shape {tuple(input.shape)} and weight of shape {tuple(weight.shape)} "
                         f"(mat1 and mat2 shapes cannot be multiplied ({_shape_text(input.array.shape)} and "
                         f"{_shape_text(weight.array.shape[::-1])}))")
    if input.dtype is not weight.dtype or (bias is not None and bias.dtype is not weight.dtype):
        raise DTypeError(f"linear(): input, weight and bias must have the same dtype, got {input.dtype}, "
                         f"{weight.dtype}" + (f" and {bias.dtype}" if bias is not None else ""))
    if bias is not None and tuple(bias.shape) not in ((weight.array.shape[0],), (1,), ()):
        raise ShapeError(f"linear(): bias must have out_features={weight.array.shape[0]} elements, got shape "
                         f"{tuple(bias.shape)}")
    if input.array.ndim == 1:
        return apply(Linear, input.unsqueeze(0), weight, bias).squeeze(0)
    return apply(Linear if input.array.ndim != 2 else LinearMm if bias is None else LinearAddmm, input, weight, bias)


# -- products -----------------------------------------------------------------------------------------

def _need_dims(op, name, t, ndim):
    check_tensor(op, name, t)
    if t.array.ndim != ndim:
        raise DimensionError(f"{op}(): {name} must be a {ndim}-D tensor, got shape {tuple(t.shape)}")


def _same_dtype(op, a, b):
    if a.dtype is not b.dtype:
        raise DTypeError(f"{op}(): expected both arguments to have the same dtype, got {a.dtype} and {b.dtype}")


def _bmm_errors(make):
    yield ErrorInput(Sample((make(2, 3), make(2, 3, 4))), RuntimeError,
                     r"bmm\(\): input must be a 3-D tensor, got shape \(2, 3\)")


@ops.op(primitive=Bmm, samples=lambda make: [Sample((make(2, 3, 4), make(2, 4, 5))), Sample((make(0, 3, 4), make(0, 4, 2))),
                              Sample((make(2, 4, 3, noncontiguous=True), make(2, 3, 2)))], errors=_bmm_errors)
def bmm(input, mat2):
    """Batched matrix product of (b, n, m) and (b, m, p), no broadcasting (``torch.bmm``).

    Shape:
        - input: ``(b, n, m)``; mat2: ``(b, m, p)``; one dtype, not bool.
        - output: ``(b, n, p)``.

    Raises:
        DimensionError: an operand is not 3-D.
        ShapeError: the batch sizes or the contracted dims differ.
        DTypeError: a tensor is bool, or the two dtypes differ.
        TypeError: ``input`` or ``mat2`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.bmm``."""
    _need_dims("bmm", "input", input, 3)
    _need_dims("bmm", "mat2", mat2, 3)
    no_bool("bmm", input)
    if input.array.shape[0] != mat2.array.shape[0] or input.array.shape[2] != mat2.array.shape[1]:
        raise ShapeError(f"bmm(): batch1 and batch2 shapes cannot be multiplied: got {tuple(input.shape)} and "
                         f"{tuple(mat2.shape)} (expected (b, n, m) and (b, m, p))")
    _same_dtype("bmm", input, mat2)
    return apply(Bmm, input, mat2)


def _mv_errors(make):
    yield ErrorInput(Sample((make(2, 3), make(4))), RuntimeError,
                     r"mv\(\): size mismatch, got input \(2, 3\) and vec \(4,\)")


@ops.op(samples=lambda make: [Sample((make(3, 4), make(4))), Sample((make(4, 3, noncontiguous=True), make(3)))],
        errors=_mv_errors)
def mv(input, vec):
    """Matrix-vector product (``torch.mv``).

    Shape:
        - input: ``(n, m)``; vec: ``(m,)``; one dtype, not bool.
        - output: ``(n,)``.

    Raises:
        DimensionError: ``input`` is not 2-D or ``vec`` is not 1-D.
        ShapeError: the sizes differ.
        DTypeError: a tensor is bool, or the two dtypes differ.
        TypeError: ``input`` or ``vec`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.mv``."""
    _need_dims("mv", "input", input, 2)
    _need_dims("mv", "vec", vec, 1)
    if input.array.shape[1] != vec.array.shape[0]:
        raise ShapeError(f"mv(): size mismatch, got input {tuple(input.shape)} and vec {tuple(vec.shape)}")
    return matmul(input, vec)


def _dot_errors(make):
    yield ErrorInput(Sample((make(3), make(4))), RuntimeError, r"dot\(\): inconsistent tensor size")


@ops.op(samples=lambda make: [Sample((make(4), make(4))), Sample((make(0), make(0)))], errors=_dot_errors)
def dot(input, tensor):
    """Inner product of two 1-D tensors (``torch.dot``).

    Shape:
        - input, tensor: ``(n,)``, one dtype, not bool.
        - output: ``()``.

    Raises:
        DimensionError: an operand is not 1-D.
        ShapeError: the lengths differ.
        DTypeError: a tensor is bool, or the two dtypes differ.
        TypeError: ``input`` or ``tensor`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.dot``."""
    _need_dims("dot", "input", input, 1)
    _need_dims("dot", "tensor", tensor, 1)
    if input.array.shape != tensor.array.shape:
        raise ShapeError(f"dot(): inconsistent tensor size, expected tensor [{input.array.shape[0]}] and src "
                         f"[{tensor.array.shape[0]}] to have the same number of elements")
    return matmul(input, tensor)


@ops.op(aliases=("ger",), samples=lambda make: [Sample((make(3), make(4))), Sample((make(0), make(2)))])
def outer(input, vec2):
    """Outer product of two vectors (``torch.outer``).

    Shape:
        - input: ``(n,)``; vec2: ``(m,)``.
        - output: ``(n, m)``, the promoted dtype.

    Raises:
        DimensionError: an operand is not 1-D.
        TypeError: ``input`` or ``vec2`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.outer``."""
    _need_dims("outer", "input", input, 1)
    _need_dims("outer", "vec2", vec2, 1)
    return input.unsqueeze(1) * vec2


class ZerosLike(Primitive):
    """Zeros shaped like the input, whose gradient is zero: input's place in ``beta=0`` products."""

    @staticmethod
    def forward(xp, x):
        return xp.zeros_like(x)

    @staticmethod
    def backward(ctx, g):
        return g * 0


def _add_product(op, input, product, beta, alpha):
    """``beta * input + alpha * product``; input must broadcast to the product's shape. With beta zero
    input is ignored, nan and inf included, as in PyTorch."""
    shape = tuple(product.shape)
    try:
        ok = np.broadcast_shapes(tuple(input.shape), shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"{op}(): input of shape {tuple(input.shape)} cannot be broadcast to the product's "
                         f"shape {shape}")
    if product.dtype.category == 1:  # integer products: PyTorch truncates alpha and beta to the dtype
        alpha, beta = scalar_to(op, alpha, product.dtype), scalar_to(op, beta, product.dtype)
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:
        return scaled + apply(ZerosLike, input)
    return (input if beta == 1 else input * beta) + scaled


def _addmm_errors(make):
    yield ErrorInput(Sample((make(3), make(2, 3), make(3, 4))), RuntimeError,
                     r"addmm\(\): input of shape \(3,\) cannot be broadcast to .*\(2, 4\)")


@ops.op(inplace=True, samples=lambda make: [
    Sample((make(3, 5), make(3, 4), make(4, 5))), Sample((make(5), make(3, 4), make(4, 5)), {"beta": 0.5, "alpha": 2.0}),
    Sample((make(3, 5), make(3, 4), make(4, 5)), {"beta": 0}, name="beta 0")], errors=_addmm_errors)
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` (``torch.addmm``).

    Shape:
        - input: broadcastable to ``(n, p)``; mat1: ``(n, m)``; mat2: ``(m, p)``; not bool.
        - output: ``(n, p)``, the promoted dtype.

    Raises:
        DimensionError: ``mat1`` or ``mat2`` is not 2-D.
        ShapeError: the contracted dims differ, or ``input`` does not broadcast to ``(n, p)``.
        DTypeError: ``input`` is a bool tensor.
        RuntimeError: ``beta`` or ``alpha`` does not fit an integer dtype.
        TypeError: an argument is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.addmm``."""
    check_tensor("addmm", "input", input)
    return _add_product("addmm", input, mm(mat1, mat2), beta, alpha)


@ops.op(inplace=True, samples=lambda make: [
    Sample((make(2, 3, 5), make(2, 3, 4), make(2, 4, 5))),
    Sample((make(3, 1), make(2, 3, 4), make(2, 4, 5)), {"beta": 0.5, "alpha": -1.0}, name="broadcast input")])
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * bmm(batch1, batch2)`` (``torch.baddbmm``).

    Shape:
        - input: broadcastable to ``(b, n, p)``; batch1: ``(b, n, m)``; batch2: ``(b, m, p)``; not bool.
        - output: ``(b, n, p)``, the promoted dtype.

    Raises:
        DimensionError: ``batch1`` or ``batch2`` is not 3-D.
        ShapeError: the batch or contracted dims differ, or ``input`` does not broadcast to ``(b, n, p)``.
        DTypeError: ``input`` is a bool tensor.
        RuntimeError: ``beta`` or ``alpha`` does not fit an integer dtype.
        TypeError: an argument is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.baddbmm``."""
    no_bool("baddbmm", input)
    return _add_product("baddbmm", input, bmm(batch1, batch2), beta, alpha)


# -- einsum and tensordot -----------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


class Einsum(Primitive):
    """``xp.einsum`` on operands whose subscripts have no repeated letter; backward is an einsum per operand."""

    save_inputs = True

    @staticmethod
    def forward(xp, *arrays, subs, out):
        return _einsum(xp, ",".join(subs) + "->" + out, *arrays, optimize=len(arrays) > 2)

    @staticmethod
    def backward(ctx, g, subs, out):
        operands = ctx.inputs
        grads = []
        for i, need in enumerate(ctx.needs_input_grad):
            if not need:
                grads.append(None)
                continue
            others = [j for j in range(len(operands)) if j != i]
            known = set(out).union(*(subs[j] for j in others))
            target = "".join(c for c in subs[i] if c in known)
            grad = apply(Einsum, g, *(operands[j] for j in others), subs=(out,) + tuple(subs[j] for j in others),
                         out=target)
            if target != subs[i]:  # letters summed only within operand i: broadcast the gradient back
                shape = ctx.input_shapes[i]
                grad = grad.reshape(tuple(s if c in known else 1 for c, s in zip(subs[i], shape))).expand(shape)
            grads.append(grad)
        return tuple(grads)


def _parse_einsum(equation, operands):
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(operands):
        raise ArgumentError(f"einsum(): the equation {equation!r} has {len(subs)} operands but {len(operands)} tensors "
                            f"were given")
    free = [c for c in _LETTERS if c not in eq]
    n_ell = 0
    for s, t in zip(subs, operands):
        if "..." in s:
            n_ell = max(n_ell, t.array.ndim - (len(s) - 3))
    ell = "".join(free[:n_ell])
    out_subs = []
    for k, (s, t) in enumerate(zip(subs, operands)):
        if "..." in s:
            n = t.array.ndim - (len(s) - 3)
            if n < 0:
                raise ShapeError(f"einsum(): operand {k} has {t.array.ndim} dims, fewer than its subscripts {s!r} need")
            s = s.replace("...", ell[n_ell - n:] if n else "")
        if len(s) != t.array.ndim or not all(c in _LETTERS for c in s):
            raise ShapeError(f"einsum(): subscripts {s!r} for operand {k} do not match its shape {tuple(t.shape)}")
        out_subs.append(s)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = {}
        for s in out_subs:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return out_subs, out


def _einsum_samples(make):
    yield Sample(("ij,jk->ik", make(2, 3), make(3, 4)), name="matmul")
    yield Sample(("bij,bjk", make(2, 2, 3), make(2, 3, 2)), name="implicit output")
    yield Sample(("i,i->", make(4), make(4)), name="dot")
    yield Sample(("ij->ji", make(2, 3)), name="transpose")
    yield Sample(("ii->i", make(3, 3)), name="diagonal")
    yield Sample(("ij->", make(2, 3)), name="sum")
    yield Sample(("...ij,...jk->...ik", make(2, 2, 3), make(3, 2)), name="ellipsis broadcast")
    yield Sample(("ij,jk,kl->il", make(2, 3), make(3, 2), make(2, 2)), name="three operands")
    yield Sample(("ij,j->i", [make(2, 3), make(3)]), name="operands as a list")
    yield Sample(("ijk,i->j", make(2, 3, 2), make(2)), name="summed only in one operand")


def _einsum_errors(make):
    yield ErrorInput(Sample(("ij,jk->ik", make(2, 3))), ValueError,
                     r"einsum\(\): the equation 'ij,jk->ik' has 2 operands but 1")
    yield ErrorInput(Sample(("ij,jk->ik", make(2, 3), make(4, 2))), RuntimeError,
                     r"einsum\(\): subscript 'j' has size 4")


@ops.op(primitive=Einsum, namespaces=("ember",), samples=_einsum_samples, errors=_einsum_errors)
def einsum(equation, *operands):
    """Einstein summation over the operands' subscripts, with ``...`` and implicit output (``torch.einsum``).

    Shape:
        - operands: tensors whose dims the subscripts of ``equation`` name (``...`` for broadcast dims), one dtype.
        - output: the dims after ``->`` (by default the subscripts used once, sorted).

    Raises:
        ArgumentError: no operand, or the equation names another number of operands.
        ShapeError: an operand's subscripts do not fit its dims, or one subscript gets sizes that do not broadcast.
        DTypeError: the operands differ in dtype.
        TypeError: ``equation`` is not a str, or an operand is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.einsum``."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' must be str, not {type(equation).__name__}")
    for i, t in enumerate(operands):
        check_tensor("einsum", f"operands[{i}]", t)
    if not operands:
        raise ArgumentError("einsum(): must provide at least one operand")
    subs, out = _parse_einsum(equation, operands)
    operands = list(operands)
    for i, s in enumerate(subs):  # a repeated letter takes a diagonal: do it first, differentiably
        while len(set(s)) != len(s):
            c = next(c for c in s if s.count(c) > 1)
            a, b = s.index(c), s.index(c, s.index(c) + 1)
            operands[i] = operands[i].diagonal(0, a, b)
            s = "".join(ch for k, ch in enumerate(s) if k not in (a, b)) + c
        subs[i] = s
    sizes = {}
    for k, (s, t) in enumerate(zip(subs, operands)):
        for c, n in zip(s, t.array.shape):
            if sizes.setdefault(c, n) != n and n != 1 and sizes[c] != 1:
                raise ShapeError(f"einsum(): subscript {c!r} has size {n} for operand {k} (shape {tuple(t.shape)}) "
                                 f"which does not broadcast with size {sizes[c]} seen before")
    dtype = operands[0].dtype
    if any(t.dtype is not dtype for t in operands):
        raise DTypeError(f"einsum(): expected all operands to have the same dtype, got "
                         f"{[str(t.dtype) for t in operands]}")
    return apply(Einsum, *operands, subs=tuple(subs), out=out)


@ops.op(namespaces=("ember",), samples=lambda make: [
    Sample((make(2, 3, 4), make(3, 4, 5))), Sample((make(2, 3), make(3, 4), 1)),
    Sample((make(2, 3, 4), make(4, 2, 3), ([1, 0], [2, 1])), name="dim lists"), Sample((make(2), make(3), 0))])
def tensordot(a, b, dims=2):
    """Sum products over ``dims`` (the last ``dims`` of a with the first of b, or explicit lists)
    (``torch.tensordot``): permute, reshape, one matrix product.

    Shape:
        - a, b: tensors; ``dims`` an int n (the last n dims of ``a`` with the first n of ``b``) or two lists of
          dims of equal length and matching sizes; not bool.
        - output: the uncontracted dims of ``a`` then those of ``b``.

    Raises:
        ShapeError: the dim lists differ in length, or contracted dims differ in size.
        ArgumentError: ``dims`` is negative.
        DimensionError: ``dims`` exceeds an operand's dims.
        DTypeError: ``a`` is a bool tensor.
        TypeError: ``a`` or ``b`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.tensordot``."""
    check_tensor("tensordot", "a", a)
    check_tensor("tensordot", "b", b)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise ArgumentError(f"tensordot(): expects dims >= 0, but got dims={dims}")
        if dims > min(a.dim(), b.dim()):
            raise DimensionError(f"tensordot(): expects dims < ndim_a or ndim_b, but got dims={dims} for shapes "
                                 f"{tuple(a.shape)} and {tuple(b.shape)}")
        da, db = list(range(a.dim() - dims, a.dim())), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise ShapeError(f"tensordot(): both dimension lists should have same length, got {da} and {db}")
    da = [d % max(a.dim(), 1) for d in da]
    db = [d % max(b.dim(), 1) for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise ShapeError(f"tensordot(): contracted dimensions need to match, but first has size {a.shape[x]} in "
                             f"dim {x} and second has size {b.shape[y]} in dim {y} (shapes {tuple(a.shape)} and "
                             f"{tuple(b.shape)})")
    keep_a = [d for d in range(a.dim()) if d not in da]
    keep_b = [d for d in range(b.dim()) if d not in db]
    k = 1
    for d in da:
        k *= a.shape[d]
    m = a.permute(keep_a + da).reshape(-1, k)
    n = b.permute(db + keep_b).reshape(k, -1)
    return matmul(m, n).reshape([a.shape[d] for d in keep_a] + [b.shape[d] for d in keep_b])


# -- diagonals ----------------------------------------------------------------------------------------

def _diag_positions(xp, n, offset):
    rows = xp.arange(n) + max(-offset, 0)
    return rows, rows + offset


class Diagonal(Primitive):
    @staticmethod
    def forward(xp, x, offset, dim1, dim2):
        out = xp.diagonal(x, offset, dim1, dim2)
        if getattr(out.flags, "writeable", True) is False and x.flags.writeable:
            out.flags.writeable = True  # NumPy's diagonal is read-only; PyTorch's is a writable view
        return out

    @staticmethod
    def backward(ctx, g, offset, dim1, dim2):
        return apply(DiagonalScatter, g, shape=ctx.input_shapes[0], offset=offset, dim1=dim1, dim2=dim2)


class DiagonalScatter(Primitive):
    """Zeros of ``shape`` with ``g`` (diagonal last, as ``diagonal`` returns it) on the chosen diagonal."""

    @staticmethod
    def forward(xp, g, shape, offset, dim1, dim2):
        out = xp.zeros(shape, dtype=g.dtype)
        rows, cols = _diag_positions(xp, g.shape[-1], offset)
        xp.moveaxis(out, (dim1, dim2), (-2, -1))[..., rows, cols] = g
        return out

    @staticmethod
    def backward(ctx, g, shape, offset, dim1, dim2):
        return g.diagonal(offset, dim1, dim2)


def _diagonal_errors(make):
    yield ErrorInput(Sample((make(2, 3), 0, 1, 1)), RuntimeError,
                     r"diagonal\(\): diagonal dimensions cannot be identical")


@ops.op(primitive=Diagonal, samples=lambda make: [Sample((make(3, 4),)), Sample((make(3, 4), 1)), Sample((make(3, 4), -2)),
                              Sample((make(2, 3, 4),), {"dim1": 1, "dim2": 2}), Sample((make(2, 3, 4), 0, 2, 0)),
                              Sample((make(3, 3), 5))], errors=_diagonal_errors)
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal ``offset`` of the (dim1, dim2) planes, appended as the last dim (a view) (``torch.diagonal``).

    Shape:
        - input: at least 2-D, any dtype.
        - output: ``input`` without ``dim1`` and ``dim2``, plus a last dim holding the ``offset`` diagonal (a
          view).

    Raises:
        DimensionError: ``input`` has fewer than 2 dims.
        ShapeError: ``dim1`` equals ``dim2``.
        OutOfRangeError: ``dim1`` or ``dim2`` is out of range.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.diagonal``."""
    check_tensor("diagonal", "input", input)
    nd = input.array.ndim
    if nd < 2:
        raise DimensionError(f"diagonal(): input must have at least 2 dimensions, got shape {tuple(input.shape)}")
    d1, d2 = normalize_dims("diagonal", dim1, nd)[0], normalize_dims("diagonal", dim2, nd)[0]
    if d1 == d2:
        raise ShapeError(f"diagonal(): diagonal dimensions cannot be identical {dim1}, {dim2}")
    return maybe_view(apply(Diagonal, input, offset=int(offset), dim1=d1, dim2=d2), input)


@ops.op(primitive=DiagonalScatter, samples=lambda make: [Sample((make(3),)), Sample((make(3), 1)), Sample((make(3), -2)), Sample((make(3, 4),)),
                              Sample((make(3, 4), 1))])
def diag(input, diagonal=0):
    """A 1-D input becomes a matrix with it on diagonal ``diagonal``; a matrix gives that diagonal
    (``torch.diag``).

    Shape:
        - input: ``(n,)`` or ``(n, m)``, any dtype.
        - output: from 1-D, the ``(n + |diagonal|, n + |diagonal|)`` matrix with ``input`` on that diagonal; from
          2-D, the 1-D ``diagonal``-th diagonal.

    Raises:
        DimensionError: ``input`` is not 1-D or 2-D.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.diag``."""
    check_tensor("diag", "input", input)
    if input.array.ndim == 2:
        return input.diagonal(diagonal).clone()
    if input.array.ndim != 1:
        raise DimensionError(f"diag(): input must be 1-D or 2-D, got shape {tuple(input.shape)}")
    m = input.array.shape[0] + abs(int(diagonal))
    return apply(DiagonalScatter, input, shape=(m, m), offset=int(diagonal), dim1=0, dim2=1)


@ops.op(primitive=DiagonalScatter, samples=lambda make: [Sample((make(2, 3),)), Sample((make(2, 3), 1)),
                              Sample((make(2, 3),), {"dim1": 0, "dim2": 2})])
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices (in dims ``dim1``, ``dim2`` of the result) with the last dim of ``input`` on diagonal ``offset``
    (``torch.diag_embed``).

    Shape:
        - input: ``(*, n)``, any dtype.
        - output: ``input.dim() + 1`` dims with ``n + |offset|``-sized ``dim1`` and ``dim2`` holding ``input``'s
          last dim on the ``offset`` diagonal.

    Raises:
        ShapeError: ``dim1`` equals ``dim2``.
        OutOfRangeError: ``dim1`` or ``dim2`` is out of range.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.diag_embed``."""
    check_tensor("diag_embed", "input", input)
    nd = input.array.ndim + 1
    d1, d2 = normalize_dims("diag_embed", dim1, nd)[0], normalize_dims("diag_embed", dim2, nd)[0]
    if d1 == d2:
        raise ShapeError(f"diag_embed(): diagonal dimensions cannot be identical {dim1}, {dim2}")
    m = input.array.shape[-1] + abs(int(offset))
    batch = list(input.array.shape[:-1])
    for d in sorted((d1, d2)):
        batch.insert(d, m)
    return apply(DiagonalScatter, input, shape=tuple(batch), offset=int(offset), dim1=d1, dim2=d2)


@ops.op(samples=lambda make: [Sample((make(3, 3),)), Sample((make(2, 4),))])
def trace(input):
    """Sum of the main diagonal of a matrix (``torch.trace``).

    Shape:
        - input: ``(n, m)``; not bool.
        - output: ``()``, the sum of the main diagonal.

    Raises:
        ShapeError: ``input`` is not 2-D.
        DTypeError: ``input`` is a bool tensor.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.trace``."""
    no_bool("trace", input)
    if input.array.ndim != 2:
        raise ShapeError(f"trace(): expected a matrix, got shape {tuple(input.shape)}")
    return input.diagonal().sum()


# -- inverse, determinant, solve ----------------------------------------------------------------------

def _square(op, name, A):
    check_tensor(op, name, A)
    if A.array.ndim < 2 or A.array.shape[-1] != A.array.shape[-2]:
        raise ShapeError(f"linalg.{op}: {name} must be batches of square matrices, but they are "
                         f"{tuple(A.shape)} matrices")
    float_input(f"linalg.{op}", A, name, low_precision=False)  # no float16 kernels, as in PyTorch


def _invertible(op, A):
    """``apply(LinalgInvEx, A)``, numpy's LinAlgError on a singular matrix raised as ember's LinAlgError
    (``torch.linalg.LinAlgError``, a RuntimeError), naming the op and the shape."""
    try:
        return apply(LinalgInvEx, A)
    except np.linalg.LinAlgError:
        raise LinAlgError(f"{op}: the inversion could not be completed because the input matrix (of the "
                          f"{tuple(A.shape)} batch) is singular; expected invertible matrices") from None


class LinalgInvEx(Primitive):
    save_output = True

    @staticmethod
    def forward(xp, a):
        with np.errstate(all="ignore"):  # numpy.linalg warns from its own frames on NaN input
            return xp.linalg.inv(a)

    @staticmethod
    def backward(ctx, g):
        inv_t = ctx.output.mT
        return -(inv_t @ g @ inv_t)


def _well_conditioned(make, *shape):
    import ember
    n = shape[-1]
    return (make(*shape, requires_grad=False) + ember.eye(n, dtype=make.dtype, device=make.device) * 3).requires_grad_()


def _inv_errors(make):
    yield ErrorInput(Sample((make(2, 3),)), RuntimeError, r"linalg.inv: A must be batches of square matrices.*\(2, 3\)")
    yield ErrorInput(Sample((make(2, 2, dtype="float16"),)), TypeError,
                     r"linalg.inv\(\): not implemented for A of dtype float16; expected float32 or float64")
    yield ErrorInput(Sample((make.tensor([[1.0, 2.0], [2.0, 4.0]]),)), LinAlgError,
                     r"linalg.inv: the inversion could not be completed .*\(2, 2\) batch\) is singular")


@ops.op(primitive=LinalgInvEx, namespaces=("linalg",), samples=lambda make: [Sample((_well_conditioned(make, 3, 3),)),
                                                  Sample((_well_conditioned(make, 2, 2, 2),), name="batch")],
        errors=_inv_errors)
def inv(A):
    """The inverse of each square matrix (``torch.linalg.inv``).

    Shape:
        - A: ``(*, n, n)``, float32 or float64.
        - output: ``(*, n, n)``, the dtype of ``A``.

    Raises:
        ShapeError: ``A`` has fewer than 2 dims or its matrices are not square.
        DTypeError: ``A`` is not float32 or float64.
        LinAlgError: a matrix is singular (``torch.linalg.LinAlgError``).
        TypeError: ``A`` is not a Tensor.

    PyTorch: ``torch.linalg.inv``."""
    _square("inv", "A", A)
    return _invertible("linalg.inv", A)


@ops.op(primitive=LinalgInvEx, namespaces=("ember", "Tensor"), samples=lambda make: [Sample((_well_conditioned(make, 3, 3),))],
        errors=lambda make: [ErrorInput(Sample((make.tensor([[1.0, 2.0], [2.0, 4.0]]),)), LinAlgError,
                                        r"inverse: the inversion could not be completed .*\(2, 2\) batch\) is singular")])
def inverse(input):
    """``linalg.inv`` (``torch.inverse``).

    Shape:
        - input: ``(*, n, n)``, float32 or float64.
        - output: ``(*, n, n)``, the dtype of ``input``.

    Raises:
        ShapeError: ``input`` has fewer than 2 dims or its matrices are not square.
        DTypeError: ``input`` is not float32 or float64.
        LinAlgError: a matrix is singular (``torch.linalg.LinAlgError``).
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.inverse``."""
    _square("inverse", "input", input)
    return _invertible("inverse", input)


class LinalgDet(Primitive):
    save_inputs = True
    save_output = True

    @staticmethod
    def forward(xp, a):
        with np.errstate(all="ignore"):
            return xp.linalg.det(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.inputs
        return (g * ctx.output).unsqueeze(-1).unsqueeze(-1) * inv(a).mT


@ops.op(primitive=LinalgDet, namespaces=("ember", "Tensor", "linalg"), samples=lambda make: [
    Sample((_well_conditioned(make, 3, 3),)), Sample((_well_conditioned(make, 2, 2, 2),), name="batch")])
def det(A):
    """The determinant of each square matrix (``torch.linalg.det``).

    Shape:
        - A: ``(*, n, n)``, float32 or float64.
        - output: ``(*)``, the dtype of ``A``.

    Raises:
        ShapeError: ``A`` has fewer than 2 dims or its matrices are not square.
        DTypeError: ``A`` is not float32 or float64.
        TypeError: ``A`` is not a Tensor.

    PyTorch: ``torch.det``."""
    _square("det", "A", A)
    return apply(LinalgDet, A)


class LinalgSolveEx(Primitive):
    """X with A @ X = B (B a batch of matrices); gradients by solving with A transposed."""

    save_inputs = True
    save_output = True

    @staticmethod
    def forward(xp, a, b):
        with np.errstate(all="ignore"):
            return xp.linalg.solve(a, b)

    @staticmethod
    def backward(ctx, g):
        a, _ = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        gb = apply(LinalgSolveEx, a.mT, g)
        ga = -(gb @ ctx.output.mT) if need_a else None
        return ga, (gb if need_b else None)


def _solve_errors(make):
    yield ErrorInput(Sample((make(3, 3), make(4, 2))), RuntimeError,
                     r"linalg.solve: incompatible shapes of A and B.*\(3, 3\) and \(4, 2\)")
    yield ErrorInput(Sample((make.tensor([[1.0, 2.0], [2.0, 4.0]]), make(2))), LinAlgError,
                     r"linalg.solve: the solver failed .*\(2, 2\) batch\) is singular")


@ops.op(namespaces=("linalg",), samples=lambda make: [
    Sample((_well_conditioned(make, 3, 3), make(3, 2)), name="matrix rhs"),
    Sample((_well_conditioned(make, 3, 3), make(3)), name="vector rhs"),
    Sample((_well_conditioned(make, 2, 3, 3), make(2, 3)), name="batch of vectors"),
    Sample((_well_conditioned(make, 2, 3, 3), make(3, 1)), name="broadcast rhs"),
    Sample((_well_conditioned(make, 3, 3), make(2, 3)), {"left": False}, name="right")], errors=_solve_errors)
def solve(A, B, *, left=True, out=None):
    """The solution X of ``A @ X = B`` (``X @ A = B`` with ``left=False``), batched and broadcast
    (``torch.linalg.solve``).

    Shape:
        - A: ``(*, n, n)``, float32 or float64.
        - B: ``(*, n, k)`` or ``(*, n)``, the dtype of ``A``, batch dims that broadcast.
        - output: the shape of ``B`` (with the broadcast batch dims).

    Raises:
        ShapeError: ``A`` has fewer than 2 dims or its matrices are not square.
        ShapeError: ``B`` does not fit ``A``, or the batch dims do not broadcast.
        LinAlgError: a matrix is singular (``torch.linalg.LinAlgError``).
        DTypeError: ``A`` is not float32 or float64, or ``B``'s dtype differs.
        TypeError: ``A`` or ``B`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.linalg.solve``."""
    _square("solve", "A", A)
    check_tensor("linalg.solve", "B", B)
    if not left:
        return solve(A.mT, B.mT).mT
    _same_dtype("linalg.solve", A, B)
    n = A.array.shape[-1]
    vector = B.array.ndim == 1 or (B.array.ndim == A.array.ndim - 1 and B.array.shape == A.array.shape[:-1])
    b = B.unsqueeze(-1) if vector else B
    if b.array.shape[-2] != n:
        raise ShapeError(f"linalg.solve: incompatible shapes of A and B for the equation AX = B "
                         f"({tuple(A.shape)} and {tuple(B.shape)})")
    try:
        x = apply(LinalgSolveEx, A, b)
    except np.linalg.LinAlgError:  # a ValueError too: caught first
        raise LinAlgError(f"linalg.solve: the solver failed because the input matrix (of the {tuple(A.shape)} "
                          f"batch) is singular; expected invertible matrices") from None
    except ValueError:
        raise ShapeError(f"linalg.solve: batch dimensions of A {tuple(A.shape)} and B {tuple(B.shape)} cannot be "
                         f"broadcast") from None
    return x.squeeze(-1) if vector else x
