"""``torch.nn.functional``'s in-place activations (``relu_``, ``elu_``, ``leaky_relu_``, ``hardtanh_``,
``threshold_``) and ``prelu``: each is its out-of-place op written back into the input."""

from __future__ import annotations

from ember.ops import OpTable, Sample, ShapeError, check_tensor, float_input, inplace

from .docstrings import compose

ops = OpTable()


def _inplace_samples(*args):
    return lambda make: [Sample((make(2, 3, requires_grad=False),) + args)]


def _activation(name, out_of_place, *sample_args, doc=""):
    def fn(input, *args, **kwargs):
        check_tensor(name, "input", input)
        from ember.nn import functional as F
        return inplace(input, getattr(F, out_of_place)(input, *args, **kwargs), name)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = compose(doc, (f"input: ``(*)``, any number of dimensions; the dtypes ``F.{out_of_place}`` takes.",
                               "output: ``input`` itself, overwritten."),
                         ("TypeError: ``input`` is not a Tensor.",
                          "RuntimeError: ``input`` is a leaf that requires grad, or the result cannot be written into "
                          "it."), f"torch.nn.functional.{name}")
    ops.op(fn, namespaces=("functional",), torch=f"torch.nn.functional.{name}", differentiable=False,
           samples=_inplace_samples(*sample_args))
    return fn


relu_ = _activation("relu_", "relu", doc="max(input, 0) written into ``input`` (``torch.nn.functional.relu_``).\n\n"
                    "Raises:\n    DTypeError: ``input`` is a bool tensor.")
elu_ = _activation("elu_", "elu", 1.0, doc="ELU written into ``input`` (``torch.nn.functional.elu_``).\n\n"
                   "Raises:\n    DTypeError: ``input`` is not floating point.")
leaky_relu_ = _activation("leaky_relu_", "leaky_relu", 0.1,
                          doc="Leaky ReLU written into ``input`` (``torch.nn.functional.leaky_relu_``).\n\n"
                              "Raises:\n    DTypeError: ``input`` is not floating point.")
hardtanh_ = _activation("hardtanh_", "hardtanh", -0.5, 0.5,
                        doc="input clamped to [min_val, max_val] in place (``torch.nn.functional.hardtanh_``).\n\n"
                            "Raises:\n    DTypeError: ``input`` is a bool tensor.\n    ArgumentError: ``min_val`` > "
                            "``max_val``, or negative limits for an unsigned input.")
threshold_ = _activation("threshold_", "threshold", 0.1, 20.0,
                         doc="``value`` where input <= threshold, in place (``torch.nn.functional.threshold_``).\n\n"
                             "Raises:\n    DTypeError: ``input`` is a bool tensor.\n    RuntimeError: ``threshold`` "
                             "or ``value`` does not fit an integer input's dtype, or ``input`` is a leaf that "
                             "requires grad.")


def _prelu_samples(make):
    yield Sample((make(2, 3, 4), make(1)), name="one weight")
    yield Sample((make(2, 3, 4), make(3)), name="per channel")
    yield Sample((make(5), make(1)), name="1-D")


@ops.op(namespaces=("ember", "functional"), samples=_prelu_samples)
def prelu(input, weight):
    """max(0, x) + weight * min(0, x), ``weight`` one value or one per channel (dim 1)
    (``torch.nn.functional.prelu``).

    Shape:
        - input: ``(N, C, *)``, or any shape with one weight; floating point.
        - weight: ``(1,)`` or ``(C,)``.
        - output: the shape and dtype of ``input``.

    Raises:
        ShapeError: ``weight`` has neither 1 nor C elements.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` or ``weight`` is not a Tensor.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.prelu``."""
    float_input("prelu", input)
    check_tensor("prelu", "weight", weight)
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.dim() >= 2 else 1
        if n != channels:
            raise ShapeError(f"prelu: mismatch of parameter numbers and input channel size. Found parameter numbers "
                             f"= {n} and channel size = {channels}.")
        weight = weight.reshape((1, n) + (1,) * (input.dim() - 2))
    return input.clamp(min=0) + weight * input.clamp(max=0)
