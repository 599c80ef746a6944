"""Matrix products: matmul with every 1-D/2-D/batched broadcasting case, and ``linear``."""

from __future__ import annotations

from ember.ops import OpTable, Primitive, Sample, ShapeError, apply, check_tensor

ops = OpTable()


class MatMul(Primitive):
    """The product of two (batched) matrices; batch dims broadcast, the engine reduces them back."""

    save_inputs = True

    @staticmethod
    def forward(xp, a, b):
        return xp.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        return (g @ b.mT if need_a else None), (a.mT @ g if need_b else None)


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


@ops.op(operator="matmul", samples=_matmul_samples)
def matmul(input, other):
    """Matrix product with NumPy/PyTorch broadcasting: 1-D operands are promoted and the added dim
    removed again (``torch.matmul``)."""
    check_tensor("matmul", "input", input)
    check_tensor("matmul", "other", other)
    a_nd, b_nd = input._data.ndim, other._data.ndim
    if a_nd == 0 or b_nd == 0:
        raise ShapeError(f"matmul(): both arguments need at least 1 dimension, got {a_nd}D and {b_nd}D tensors")
    if input._dtype is not other._dtype:
        raise TypeError(f"matmul(): expected both arguments to have the same dtype, got {input._dtype} and "
                        f"{other._dtype}")
    a = input.unsqueeze(0) if a_nd == 1 else input
    b = other.unsqueeze(-1) if b_nd == 1 else other
    if a._data.shape[-1] != b._data.shape[-2]:
        raise ShapeError(f"matmul(): mat1 and mat2 shapes cannot be multiplied ({_shape_text(input._data.shape)} "
                         f"and {_shape_text(other._data.shape)})")
    try:
        out = apply(MatMul, a, b)
    except ValueError:
        raise ShapeError(f"matmul(): batch dimensions of {tuple(input.shape)} and {tuple(other.shape)} cannot be "
                         f"broadcast") from None
    added = ((-2,) if a_nd == 1 else ()) + ((-1,) if b_nd == 1 else ())
    return out.squeeze(added) if added else out


@ops.op(where=("ember", "Tensor"), samples=lambda make: [Sample((make(3, 4), make(4, 5)))])
def mm(input, mat2):
    """Product of two matrices, no broadcasting (``torch.mm``)."""
    if input.dim() != 2 or mat2.dim() != 2:
        raise ShapeError(f"mm(): expected 2-D tensors, got shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    return matmul(input, mat2)


class Linear(Primitive):
    """``x @ W.T + b`` in one backend call: the layer every MLP spends its time in."""

    save_inputs = True

    @staticmethod
    def forward(xp, x, weight, bias):
        out = xp.matmul(x, weight.T)
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight, bias = ctx.inputs
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = g @ weight if need_x else None
        gw = None
        if need_w:
            g2 = g.reshape(-1, g.shape[-1])
            gw = g2.mT @ x.reshape(-1, x.shape[-1])
        gb = g.sum_to_size(bias.shape) if need_b else None
        return gx, gw, gb


def _linear_samples(make):
    yield Sample((make(4, 3), make(5, 3), make(5)), name="batch")
    yield Sample((make(3), make(5, 3), make(5)), name="single input")
    yield Sample((make(2, 4, 3), make(5, 3)), name="3-D input, no bias")


@ops.op(where=("functional",), samples=_linear_samples)
def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` (``torch.nn.functional.linear``)."""
    check_tensor("linear", "input", input)
    check_tensor("linear", "weight", weight)
    if weight._data.ndim != 2:
        raise ShapeError(f"linear(): weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}")
    if input._data.ndim == 0 or input._data.shape[-1] != weight._data.shape[1]:
        raise ShapeError(f"linear(): input's last dimension must equal in_features={weight._data.shape[1]}; got "
                         f"input of shape {tuple(input.shape)} and weight of shape {tuple(weight.shape)} "
                         f"(mat1 and mat2 shapes cannot be multiplied ({_shape_text(input._data.shape)} and "
                         f"{_shape_text(weight._data.shape[::-1])}))")
    if input._dtype is not weight._dtype or (bias is not None and bias._dtype is not weight._dtype):
        raise TypeError(f"linear(): input, weight and bias must have the same dtype, got {input._dtype}, "
                        f"{weight._dtype}" + (f" and {bias._dtype}" if bias is not None else ""))
    if input._data.ndim == 1:
        return apply(Linear, input.unsqueeze(0), weight, bias).squeeze(0)
    return apply(Linear, input, weight, bias)
