"""``swish(input, beta)``: ``input * sigmoid(beta * input)`` (Ramachandran et al., 2017).

``beta`` is a tensor (learnable: it gets a gradient) or a number; ``beta=1`` is PyTorch's ``silu``.
The forward runs on the device's array namespace ``xp``; the backward is written with ember ops, so
second derivatives work too.
"""

import ember
from ember.ops import ErrorInput, OpTable, Primitive, Sample, apply, float_input

ops = OpTable()


class Swish(Primitive):
    """The primitive: forward on backend arrays, backward with ember ops."""

    save_inputs = True

    @staticmethod
    def forward(xp, x, beta):
        return x / (1 + xp.exp(-beta * x))

    @staticmethod
    def backward(ctx, grad):
        x, beta = ctx.inputs
        s = 1 / (1 + (-(beta * x)).exp())  # sigmoid(beta * x)
        ds = s * (1 - s)
        grad_x = grad * (s + beta * x * ds) if ctx.needs_input_grad[0] else None
        grad_beta = grad * x * x * ds if ctx.needs_input_grad[1] else None
        return grad_x, grad_beta


def swish_samples(make):
    yield Sample((make(3, 4), make((), low=0.5, high=2.0)), name="0-d beta")
    yield Sample((make(2, 3), make(3, low=0.5, high=2.0)), name="beta per column (broadcast)")
    yield Sample((make(2, 3), 1.5), name="number beta")
    yield Sample((make(4, 3, noncontiguous=True), make(())), name="non-contiguous input")
    yield Sample((make(0, 3), make(())), name="empty")
    yield Sample((make(()), make(())), name="0-d input")
    yield Sample((make(3),), {"beta": make(())}, name="beta by keyword")


def swish_errors(make):
    """Calls swish must refuse: the kit checks each raises this exception class with a message matching the
    pattern, on every device and dtype, as it checks the samples."""
    yield ErrorInput(Sample((make(3), "1.5")), TypeError,
                     r"swish\(\): argument 'beta' must be Tensor or a number, not str")
    yield ErrorInput(Sample((make(3, dtype=ember.int64), 1.0)), TypeError, r"swish\(\):.*input of dtype int64")


def swish_composite(input, beta=1.0):
    """Swish written with ember's own ops: what the primitive must equal, values and gradients (PyTorch
    has no swish with a beta, so the conformance kit checks the op against this instead)."""
    return input * ember.sigmoid(beta * input)


@ops.op(primitive=Swish, namespaces=("ember", "Tensor", "functional"), samples=swish_samples, errors=swish_errors,
        torch=None, reference=swish_composite)
def swish(input, beta=1.0):
    """``input * sigmoid(beta * input)``; ``beta`` a tensor (it gets a gradient) or a number.

    PyTorch has no swish with a beta; with ``beta=1`` it is ``torch.nn.functional.silu``.
    """
    float_input("swish", input)
    if not isinstance(beta, (ember.Tensor, int, float)) or isinstance(beta, bool):
        raise TypeError(f"swish(): argument 'beta' must be Tensor or a number, not {type(beta).__name__}")
    if isinstance(beta, ember.Tensor) and beta.dtype is not input.dtype:
        beta = beta.to(input.dtype)
    return apply(Swish, input, beta)
