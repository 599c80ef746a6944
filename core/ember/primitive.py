"""Primitives and the function that runs them: the per-op hot path.

A :class:`Primitive` states a forward on backend arrays (written once against ``xp``: numpy on the
CPU, cupy on CUDA) and a backward written with ember ops, so that backward itself is recorded when
``create_graph=True``. :func:`apply` runs one: it reads the inputs' arrays, checks they share a device,
calls the forward (or a device plugin's kernel for it), wraps the result and, when grad mode is on and
an input requires grad, records a node. No registry lookup, no plugin-manager call happens here.
"""

from __future__ import annotations

import numpy as np

from .autograd.grad_mode import ALL_ENABLED, STATE
from .autograd.graph import _NO_ATTRS, Node, _empty_aware, _next_seq, record_binary, record_node, record_unary
from .device import DeviceError
from .numpy_errors import EMBER_MODULES, _QUIET, _quiet_reset, _quiet_set, run_quiet, silence_numpy_warnings  # noqa: F401
from .tensor import _FROM_NUMPY, Tensor, wrap

__all__ = ["Primitive", "apply", "apply_unary", "apply_binary", "binary_operator", "record_node",
           "silence_numpy_warnings"]

SUBCLASS_HOOKS: list = []  # called with each new Primitive subclass (ember.plugins binds its kernels)


class Primitive:
    """Subclass to declare a differentiable array operation.

    - ``forward(xp, *inputs, **attrs)``: positional inputs are backend arrays (for tensor arguments) or
      the constants passed as they are; returns an array (or a tuple when ``num_outputs > 1``).
    - ``backward(ctx, *grads, **attrs)``: one gradient per output, as tensors; returns a gradient (or
      None) per positional input. ``ctx.inputs``, ``ctx.output(s)``, ``ctx.needs_input_grad``.
    - ``save_inputs`` / ``save_output``: what backward reads, so nothing else is kept alive.
    - ``kernels``: device type -> a faster forward, filled by device plugins (the plugin manager binds them
      and sets ``kernels_from_numel`` to match; code that assigns ``kernels`` by hand sets both).
    - ``name``: ATen's name for the operator (``mm``, ``amax``; an overload as ``sum.dim_IntList``), by
      default the class name in snake case; device plugins key kernels by it.
    - ``grad_fn``: the name of the node type ``tensor.grad_fn`` shows, PyTorch's (``MmBackward0``); by
      default derived from ``name``, given where PyTorch numbers an overload (``SumBackward1``).
    """

    name = ""
    grad_fn = ""
    node_type: type = Node
    num_outputs = 1
    differentiable = True
    save_inputs = False
    save_output = False
    kernels: dict = {}
    # the fewest elements of the first operand for which the operator fast path (binary_operator) calls a
    # kernel: the least ``min_numel`` its kernels declare (0: always). See :func:`kernel_floor`.
    kernels_from_numel = 0

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "kernels" not in cls.__dict__:
            cls.kernels = {}
            cls.kernels_from_numel = 0
        if not cls.__dict__.get("name"):
            cls.name = _snake(cls.__name__)
        if not cls.__dict__.get("grad_fn"):
            cls.grad_fn = backward_name(cls.name)
        # one node type per primitive, made once here: recording a node costs nothing more for it
        cls.node_type = type(cls.grad_fn, (Node,), {"__slots__": (), "__module__": cls.__module__,
                                                    "__repr__": _node_repr})
        for hook in SUBCLASS_HOOKS:  # the plugin manager gives a class made after binding its kernels
            hook(cls)

    @staticmethod
    def forward(xp, *inputs, **attrs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads, **attrs):
        raise NotImplementedError


def _snake(name: str) -> str:
    """``LogSoftmax`` -> ``log_softmax``, ``Im2col`` or ``Im2Col`` -> ``im2col`` (no break after a digit)."""
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and name[i - 1].islower():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def kernel_floor(kernels: dict) -> int:
    """The least ``min_numel`` of ``kernels``' functions (device type -> fn). A kernel may declare
    ``fn.min_numel``: below that many elements in its first operand it computes exactly what the
    primitive's own forward computes, so the operator fast path calls the forward there and saves the
    kernel's call and size check (~75 ns of a one-element ``a + b``). 0 when any kernel declares none."""
    return min((getattr(fn, "min_numel", 0) for fn in kernels.values()), default=0)


def backward_name(name: str) -> str:
    """PyTorch's node name for ATen's operator ``name``: ``mm`` -> ``MmBackward0``, ``_log_softmax`` ->
    ``LogSoftmaxBackward0``, ``log1p`` -> ``Log1PBackward0``, ``max_pool2d_with_indices`` ->
    ``MaxPool2DWithIndicesBackward0`` (a capital after each underscore and digit; the overload dropped)."""
    base = name.split(".")[0].strip("_")
    out = []
    for i, ch in enumerate(base):
        if ch == "_":
            continue
        out.append(ch.upper() if i == 0 or base[i - 1] == "_" or base[i - 1].isdigit() else ch)
    return "".join(out) + "Backward0"


def _node_repr(node) -> str:
    return f"<{type(node).__name__}>"


def apply(prim, *inputs, **attrs):
    """Run ``prim`` on ``inputs`` (tensors or constants) and record it on the tape when needed."""
    if not attrs and prim.num_outputs == 1:
        if len(inputs) == 2:
            return apply_binary(prim, *inputs)
        if len(inputs) == 1 and isinstance(inputs[0], Tensor):
            return apply_unary(prim, inputs[0])
    device = None
    arrays = []
    needs_grad = False
    for x in inputs:
        if isinstance(x, Tensor):
            if device is None:
                device = x._device
            elif x._device is not device:
                raise mixed_devices(prim, inputs)
            arrays.append(x._data)
            if x._requires_grad:
                needs_grad = True
        else:
            arrays.append(x)
    kernels = prim.kernels
    forward = kernels.get(device.type, prim.forward) if kernels else prim.forward
    token = _quiet_set(_QUIET)  # reductions warn from numpy's own frames: run with numpy's warnings off
    try:
        out = forward(device.xp, *arrays, **attrs)
    finally:
        _quiet_reset(token)
    record = needs_grad and (ALL_ENABLED[0] or STATE.enabled) and prim.differentiable
    if prim.num_outputs == 1:
        result = wrap(out, device)
        if record:
            record_node(prim, inputs, attrs, (result,))
        return result
    results = tuple(wrap(o, device) for o in out)
    if record:
        record_node(prim, inputs, attrs, results)
    return results


def apply_unary(prim, x):
    """``apply(prim, x)`` for one tensor and no attributes: the elementwise hot path, unrolled."""
    device = x._device
    kernels = prim.kernels
    forward = kernels.get(device.type, prim.forward) if kernels else prim.forward
    try:
        out = forward(device.xp, x._data)
    except RuntimeWarning:  # warnings made errors ahead of ember's filter: run again with numpy's off
        out = run_quiet(forward, device.xp, x._data)
    result = wrap(out, device)
    if x._requires_grad and (ALL_ENABLED[0] or STATE.enabled) and prim.differentiable:
        record_unary(prim, x, result)
    return result


def apply_binary(prim, a, b):
    """``apply(prim, a, b)`` for two operands (at least one a tensor) and no attributes, unrolled."""
    if isinstance(a, Tensor):
        device = a._device
        x, needs_grad = a._data, a._requires_grad
        if isinstance(b, Tensor):
            if b._device is not device:
                raise mixed_devices(prim, (a, b))
            y = b._data
            needs_grad = needs_grad or b._requires_grad
        else:
            y = b
    else:
        device = b._device
        x, y, needs_grad = a, b._data, b._requires_grad
    kernels = prim.kernels
    forward = kernels.get(device.type, prim.forward) if kernels else prim.forward
    try:
        out = forward(device.xp, x, y)
    except RuntimeWarning:  # warnings made errors ahead of ember's filter: run again with numpy's off
        out = run_quiet(forward, device.xp, x, y)
    result = wrap(out, device)
    if needs_grad and (ALL_ENABLED[0] or STATE.enabled) and prim.differentiable:
        record_binary(prim, a, b, result)
    return result


def mixed_devices(prim, inputs) -> DeviceError:
    found = ", ".join(f"{tuple(x.shape)} on {x._device}" for x in inputs if isinstance(x, Tensor))
    return DeviceError(f"{prim.name}: expected all tensors on the same device, got tensors {found}")


_new = object.__new__
_ndarray = np.ndarray


def binary_operator(prim, fallback, kinds: str = ""):
    """The Python operator of a two-operand elementwise op (what ``Tensor.__add__`` runs): for two tensors of
    one dtype on one device, whose dtype kind (numpy's ``'f'``, ``'i'``, ``'u'``, ``'b'``, ``'c'``) is in
    ``kinds`` (every kind when empty), ``prim`` runs at once, in one Python frame; anything else (a number,
    mixed dtypes or devices, shapes that do not broadcast) calls ``fallback``, the op's own function, whose
    promotion, checks and error messages then apply. The result is what ``fallback`` would return for the same
    operands: the op declares that ``kinds`` need no promotion or check of theirs."""
    # the backend dtypes that qualify (a set test is cheaper than reading the kind); None: all of them
    allowed = frozenset(d for d in _FROM_NUMPY if d.kind in kinds) if kinds else None
    # the primitive's declarations, fixed when it was defined, read once here (its kernels are not: plugins
    # registered later rebind them, so they are read per call)
    node_type, differentiable = prim.node_type, prim.differentiable
    save_inputs, save_output = prim.save_inputs, prim.save_output

    def operator(self, other):
        if isinstance(other, Tensor):
            x = self._data
            y = other._data
            device = self._device
            dtype = x.dtype
            if not (dtype is y.dtype and other._device is device and (allowed is None or dtype in allowed)):
                return fallback(self, other)
            other_grad = other._requires_grad
        elif (other.__class__ is float or other.__class__ is int) and self._data.dtype.kind == "f":
            # a Python number with a floating tensor: no promotion either (the number is weakly typed)
            x = self._data
            y = other
            device = self._device
            dtype = x.dtype
            if allowed is not None and dtype not in allowed:
                return fallback(self, other)
            other_grad = False
        else:
            return fallback(self, other)
        kernels = prim.kernels
        if kernels and x.size >= prim.kernels_from_numel:
            forward = kernels.get(device.type, prim.forward)
        else:
            forward = prim.forward
        try:
            out = forward(device.xp, x, y)
        except RuntimeWarning:  # warnings made errors ahead of ember's filter: again with numpy's off
            out = run_quiet(forward, device.xp, x, y)
        except ValueError:  # shapes that do not broadcast: the op's own error
            return fallback(self, other)
        if out.__class__ is not _ndarray:  # a numpy scalar from 0-d operands, or another backend's array
            result = wrap(out, device)
        else:  # wrap(), unrolled
            result = _new(Tensor)
            result._data = out
            result._dtype = self._dtype if out.dtype is dtype else _FROM_NUMPY[out.dtype]
            result._device = device
            result._requires_grad = False
            result._node = None
        if (self._requires_grad or other_grad) and (ALL_ENABLED[0] or STATE.enabled) and differentiable:
            # record_binary(), unrolled
            edges = ((self._node or self, self._output_nr, x.shape, self._dtype) if self._requires_grad else None,
                     (other._node or other, other._output_nr, y.shape, other._dtype) if other_grad else None)
            node = _new(node_type)
            node.op = prim
            node.attrs = _NO_ATTRS
            node.next = edges
            node.seq = _next_seq()
            node._saved = None
            if not (x.size and out.size and (y.__class__ is float or y.__class__ is int or y.size)):
                node.op = op = _empty_aware(prim, (result,), edges)
                if op.save_inputs:
                    node.save_inputs((self, other))
                if op.save_output:
                    node.save_outputs((result,))
            else:
                if save_inputs:
                    node.save_inputs((self, other))
                if save_output:
                    node.save_outputs((result,))
            if result._dtype.is_floating_point:
                result._requires_grad = True
                result._node = node
        return result
    operator.__name__, operator.__qualname__, operator.__doc__ = fallback.__name__, fallback.__qualname__, fallback.__doc__
    operator.__wrapped__ = fallback
    return operator
