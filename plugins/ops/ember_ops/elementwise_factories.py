"""The declaration factories of the elementwise families: ``binary_op`` and ``unary_op`` declare an op
(its primitive from a forward and a backward, the public function, its row in a family's table) in one
call, so each op is one line of forward, one of backward, and its samples, together. Also the shared
two-operand path (``binary``: promotion, then the primitive) and the errors the families raise.
"""

from __future__ import annotations

import numpy as np

from ember import dtypes
from ember.ops import ArgumentError, Primitive, ShapeError, apply_binary, apply_unary, check_tensor, promote
from ember.tensor import Tensor

from .docstrings import binary_doc, unary_doc
from .samples import binary_samples, unary_samples

OptionError = ArgumentError  # an op received an option value it does not accept


def bad_option(op, name, value, expected) -> OptionError:
    return OptionError(f"{op}(): argument '{name}' must be {expected}, got {value!r}")


def _broadcast_error(op, a, b) -> ShapeError:
    sa = tuple(a.shape) if isinstance(a, Tensor) else ()
    sb = tuple(b.shape) if isinstance(b, Tensor) else ()
    for i in range(1, max(len(sa), len(sb)) + 1):
        x = sa[-i] if i <= len(sa) else 1
        y = sb[-i] if i <= len(sb) else 1
        if x != y and x != 1 and y != 1:
            return ShapeError(f"{op}(): the size of tensor a ({x}) must match the size of tensor b ({y}) at "
                              f"non-singleton dimension {max(len(sa), len(sb)) - i} (shapes {sa} and {sb})")
    return ShapeError(f"{op}(): shapes {sa} and {sb} cannot be broadcast together")


def binary(prim, a, b, float_result=False, tensors_only=False):
    """Promote, then run a two-operand primitive, turning a backend broadcast error into ember's;
    ``tensors_only``: a Python number operand is a TypeError (checked off the hot path: a number never
    takes it).

    Two tensors of one dtype (the common case) skip promotion: this is the per-op hot path, so the check
    reads the arrays' element types (one backend dtype is one ember dtype) instead of calling properties.
    """
    if not (isinstance(a, Tensor) and isinstance(b, Tensor) and a.array.dtype is b.array.dtype
            and (not float_result or a.dtype.is_floating_point)):
        if tensors_only:
            check_tensor(prim.name, "input", a)
            check_tensor(prim.name, "other", b)
        a, b = promote(prim.name, a, b, float_result)
    try:
        return apply_binary(prim, a, b)
    except ValueError:
        raise _broadcast_error(prim.name, a, b) from None


_COMPARISONS = ("eq", "ne")


def _not_operand(value):
    return not isinstance(value, (Tensor, int, float, bool, np.number, np.bool_))


def _camel(name):
    return "".join(p.capitalize() for p in name.split("_"))


def primitive(name, forward, backward, *, save_inputs=False, save_output=False, differentiable=True, grad_fn=""):
    """A Primitive subclass from a forward and a backward function (``grad_fn``: PyTorch's node name, where
    it is not derived from ``name``)."""
    return type(_camel(name), (Primitive,), {
        "name": name, "forward": staticmethod(forward), "backward": staticmethod(backward),
        "save_inputs": save_inputs, "save_output": save_output, "differentiable": differentiable,
        "grad_fn": grad_fn})


def binary_op(name, forward, backward, *, save_inputs=True, operator="", inplace=True, float_result=False,
              differentiable=True, doc="", samples=binary_samples, check=None, tensors_only=False, table, **options):
    """Declare a two-operand elementwise op; ``backward(ctx, grad)`` returns (grad_a, grad_b).
    ``tensors_only``: both operands must be tensors (``torch.maximum`` refuses a number).

    ``check(input, other)``, when given, sees the operands before promotion (which wraps Python ints
    into an integer tensor's range) and raises for values the op refuses."""
    prim = primitive(name, forward, backward, save_inputs=save_inputs, differentiable=differentiable)

    def fn(input, other):
        if operator in _COMPARISONS and _not_operand(other):
            return NotImplemented  # t == None is False, as in Python and PyTorch
        if check is not None:
            check(input, other)
        return binary(prim, input, other, float_result, tensors_only)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = binary_doc(doc, name, float_result, tensors_only=tensors_only)
    table.op(fn, primitive=prim, operator=operator, inplace=inplace, samples=samples, differentiable=differentiable, **options)
    return fn


def unary_op(name, forward, backward, *, save="input", inplace=True, doc="", samples=unary_samples,
             int_to_float=True, table, differentiable=True, grad_fn="", **options):
    """Declare a one-operand elementwise op; ``save`` names what backward reads: input, output or nothing."""
    prim = primitive(name, forward, backward, save_inputs=save == "input", save_output=save == "output",
                     differentiable=differentiable, grad_fn=grad_fn)
    default_float = dtypes.get_default_dtype

    def fn(input):
        if not isinstance(input, Tensor):
            check_tensor(name, "input", input)
        if int_to_float and input.array.dtype.kind in "biu":  # bool and integer arrays (hot path: no property)
            input = input.to(default_float())
        return apply_unary(prim, input)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = unary_doc(doc, name, int_to_float)
    table.op(fn, primitive=prim, inplace=inplace, samples=samples, differentiable=differentiable, **options)
    return fn


def zero_grads(ctx, g):
    """The gradient of a piecewise-constant op: zero for every input."""
    return tuple(g * 0 if need else None for need in ctx.needs_input_grad)
