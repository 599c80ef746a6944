"""Activations: relu, and the softmax family computed stably (shift by the max before exp)."""

from __future__ import annotations

from ember.ops import OpTable, Primitive, Sample, apply, check_tensor, normalize_dims

from .samples import unary_samples

ops = OpTable()


class Relu(Primitive):
    save_output = True

    @staticmethod
    def forward(xp, x):
        return xp.maximum(x, 0)

    @staticmethod
    def backward(ctx, g):
        return g * (ctx.output > 0)


@ops.op(where=("ember", "Tensor", "functional"), inplace=True,
        samples=lambda make: unary_samples(make, away_from_zero=True))
def relu(input, inplace=False):
    """max(input, 0) elementwise (``torch.relu``; ``inplace=True`` in the functional form writes back)."""
    check_tensor("relu", "input", input)
    out = apply(Relu, input)
    if inplace:
        from ember.ops import inplace as write_back
        return write_back(input, out, "relu_")
    return out


def _softmax_dim(op, input, dim):
    if dim is None:  # PyTorch's legacy implicit choice, kept for compatibility
        dim = 0 if input._data.ndim in (0, 1, 3) else 1
    return normalize_dims(op, dim, input._data.ndim)[0] if input._data.ndim else None


class LogSoftmax(Primitive):
    save_output = True

    @staticmethod
    def forward(xp, x, dim):
        if dim is None:
            return x - x
        shifted = x - xp.max(x, axis=dim, keepdims=True) if x.size else x
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=dim, keepdims=True))

    @staticmethod
    def backward(ctx, g, dim):
        if dim is None:
            return g * 0
        return g - ctx.output.exp() * g.sum(dim, keepdim=True)


class Softmax(Primitive):
    save_output = True

    @staticmethod
    def forward(xp, x, dim):
        if dim is None:
            return x - x + 1
        e = xp.exp(x - xp.max(x, axis=dim, keepdims=True)) if x.size else x
        return e / xp.sum(e, axis=dim, keepdims=True)

    @staticmethod
    def backward(ctx, g, dim):
        if dim is None:
            return g * 0
        out = ctx.output
        return out * (g - (g * out).sum(dim, keepdim=True))


def _softmax_samples(make):
    yield Sample((make(3, 5), 1), name="rows")
    yield Sample((make(3, 5), 0), name="columns")
    yield Sample((make(2, 3, 4), -1), name="last dim")
    yield Sample((make(5), 0), name="vector")
    yield Sample((make(), 0), name="zero-dim")
    yield Sample((make(3, 4, noncontiguous=True), 1), name="non-contiguous")
    yield Sample((make(3, 5), 1), {"dtype": None}, name="dtype=None")


def _prepare(op, input, dim, dtype):
    check_tensor(op, "input", input)
    if dtype is not None:
        input = input.to(dtype)
    if not input._dtype.is_floating_point:
        raise TypeError(f"{op}(): expected a floating point input, got {input._dtype}")
    return input, _softmax_dim(op, input, dim)


@ops.op(where=("ember", "Tensor", "functional"), samples=_softmax_samples)
def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(input)) along ``dim``, without overflow for large logits (``torch.log_softmax``)."""
    input, dim = _prepare("log_softmax", input, dim, dtype)
    return apply(LogSoftmax, input, dim=dim)


@ops.op(where=("ember", "Tensor", "functional"), samples=_softmax_samples)
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(input) normalised to sum to one along ``dim`` (``torch.softmax``)."""
    input, dim = _prepare("softmax", input, dim, dtype)
    return apply(Softmax, input, dim=dim)
