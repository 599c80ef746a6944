"""The tape: :class:`Node` (one recorded op) and :func:`record_node`, which puts one on it.

A node is created by the op that recorded it and doubles as the ``ctx`` its backward receives: the
saved inputs and outputs (checked against in-place changes), ``needs_input_grad``, and the op's
keyword attributes. Edges point at the inputs' nodes, or at leaf tensors, which accumulate ``.grad``.
An op recorded here is anything with a ``name``, ``save_inputs``/``save_output`` flags and a
``backward(ctx, *grads, **attrs)``: a :class:`ember.primitive.Primitive`, or one of the engine's own.
"""

from __future__ import annotations

import itertools

from ..tensor import Tensor, _version_cell, wrap

__all__ = ["AccumulateGrad", "Node", "SavedTensorError", "record_node", "record_unary", "record_binary"]

# One counter for every thread: a node must be newer than its inputs' nodes even when they were made in
# another thread. ``next`` on a count is a single C call, atomic under the GIL.
_sequence = itertools.count()
_next_seq = _sequence.__next__


class SavedTensorError(RuntimeError):
    """A tensor saved for backward was changed in place, or the graph was already freed."""


class AccumulateGrad:
    """The end of a path in the graph: where a leaf tensor (``variable``) accumulates its ``.grad``
    (PyTorch's ``AccumulateGrad`` node, as ``next_functions`` shows it)."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self) -> tuple:
        return ()

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


class Node:
    """One recorded op. ``next`` holds, per positional input, ``(target, output_nr, shape, dtype)`` or
    None: target is the input's node, or the input itself when it is a leaf that requires grad."""

    # Recording a node is on every differentiable op's path: it sets the slots below and nothing else.
    # What few nodes need (saved outputs, hooks, several outputs) lives in the instance dict, made on
    # first write, and defaults to the class attributes.
    __slots__ = ("op", "attrs", "next", "seq", "_saved", "_saved_versions", "__dict__", "__weakref__")

    _out_data = _out_meta = hooks = retained = None
    released = False

    def __init__(self, op, attrs, next_edges):
        self.op = op
        self.attrs = attrs
        self.next = next_edges
        self.seq = _next_seq()
        self._saved = None

    @property
    def needs_input_grad(self) -> tuple:
        """Per positional input, whether it requires grad (``ctx.needs_input_grad``)."""
        return tuple([edge is not None for edge in self.next])

    @property
    def name(self) -> str:
        return getattr(self.op, "name", type(self.op).__name__)

    def __repr__(self) -> str:
        camel = "".join(part[:1].upper() + part[1:] for part in self.name.strip("_").split("_"))
        return f"<{camel}Backward0>"

    @property
    def next_functions(self) -> tuple:
        """``((node, output_nr), ...)`` per input, as ``grad_fn.next_functions`` in PyTorch: the input's
        node, an :class:`AccumulateGrad` for a leaf that requires grad, or ``(None, 0)`` where no
        gradient flows (graph-drawing and tutorial code walks the graph through it). An op whose
        ATen counterpart takes its inputs in another order names it (``next_functions_order``: addmm
        is ``(bias, input, weight)``), so the tutorial's ``next_functions[0][0]`` walk sees PyTorch's graph."""
        edges = []
        order = getattr(self.op, "next_functions_order", None)
        for edge in (self.next if order is None else [self.next[i] for i in order]):
            if edge is None:
                edges.append((None, 0))
            elif isinstance(edge[0], Tensor):
                edges.append((AccumulateGrad(edge[0]), 0))
            else:
                edges.append((edge[0], edge[1]))
        return tuple(edges)

    # -- what backward reads -------------------------------------------------------------------
    def save_inputs(self, inputs):
        """Keep ``inputs`` for backward, with their versions now. A tensor without a version counter yet
        is at version 0: the counter is made by the first in-place change (or view) and starts there."""
        self._saved = inputs
        self._saved_versions = [(0 if x._version_counter is None else x._version_counter[0])
                                if isinstance(x, Tensor) else None for x in inputs]

    def save_outputs(self, outputs):
        if len(outputs) == 1:  # the common case, unrolled
            t = outputs[0]
            cell = t._version_counter
            if cell is None:
                cell = t._version_counter = [0]
            self._out_data = (t._data,)
            self._out_cells = (cell,)
            self._out_versions = (cell[0],)
            self._out_device = t._device
            return
        self._out_data = tuple([t._data for t in outputs])
        self._out_cells = cells = tuple([_version_cell(t) for t in outputs])
        self._out_versions = tuple([cell[0] for cell in cells])
        self._out_device = outputs[0]._device

    @property
    def inputs(self) -> tuple:
        """The inputs saved at forward time, after checking none was changed in place since."""
        if self._saved is None:
            self._raise_missing("inputs")
        for x, version in zip(self._saved, self._saved_versions):
            if version is not None and x._version_counter is not None and x._version_counter[0] != version:
                raise SavedTensorError(
                    f"one of the tensors needed for gradient computation has been modified by an in-place "
                    f"operation: a tensor of shape {tuple(x.shape)} and dtype {x.dtype}, saved by "
                    f"'{self.name}', is at version {x._version_counter[0]}; expected version {version}. Hint: "
                    f"avoid changing it in place, or clone it before.")
        return self._saved

    @property
    def outputs(self) -> tuple:
        """The op's outputs, re-attached to this node so that create_graph differentiates through them."""
        if self._out_data is None:
            self._raise_missing("outputs")
        return tuple([self._saved_output(nr) for nr in range(len(self._out_data))])

    def _saved_output(self, nr):
        """Output ``nr`` as saved, after checking it was not changed in place since."""
        data, cell = self._out_data[nr], self._out_cells[nr]
        if cell[0] != self._out_versions[nr]:
            raise SavedTensorError(
                f"an output of '{self.name}' (shape {tuple(data.shape)}) needed for its gradient has been "
                f"modified by an in-place operation: it is at version {cell[0]}; expected version "
                f"{self._out_versions[nr]}. Hint: clone it before changing it in place.")
        t = wrap(data, self._out_device, cell)
        if t._dtype.is_floating_point:
            t._requires_grad = True
            t._node = self
            if nr:
                t._output_nr = nr
        return t

    @property
    def input_shapes(self) -> tuple:
        """Each positional input's shape (None for inputs that do not require grad): saved for free."""
        return tuple(None if e is None else e[2] for e in self.next)

    @property
    def output(self):
        """The op's (first) output, as :attr:`outputs` gives it."""
        if self._out_data is None:
            self._raise_missing("outputs")
        return self._saved_output(0)

    @property
    def num_outputs(self) -> int:
        return len(self._out_meta) if self._out_meta is not None else 1

    def _raise_missing(self, what):
        if self.released:
            raise SavedTensorError(
                f"Trying to backward through the graph a second time (or to read saved tensors after they "
                f"were freed): '{self.name}' freed its saved {what} after the first backward. Specify "
                f"retain_graph=True on the first backward() if you need to backward twice.")
        raise SavedTensorError(f"'{self.name}' did not declare that it saves its {what} for backward")

    def release(self):
        """Free what was saved; the node stays in the graph but cannot run a backward that needs it."""
        self._saved = self._out_data = None
        self.released = True

    # -- running ----------------------------------------------------------------------------------
    def run(self, grads):
        """Gradients for each positional input, from gradients for each output."""
        result = self.op.backward(self, *grads, **self.attrs)
        return result if isinstance(result, tuple) else (result,)


_new = object.__new__
_NO_ATTRS: dict = {}  # shared by the nodes of ops without keyword attributes; never written to


def record_node(op, inputs, attrs, outputs):
    """Put a node for ``op`` on the tape, linking ``outputs`` to the inputs that require grad."""
    edges = []
    empty = False  # an empty input that requires grad, or an empty output: the gradients are all zeros
    for x in inputs:
        if isinstance(x, Tensor) and x._requires_grad:
            shape = x._data.shape
            edges.append((x._node or x, x._output_nr, shape, x._dtype))
            if not empty and 0 in shape:
                empty = True
        else:
            edges.append(None)
    edges = tuple(edges)
    single = len(outputs) == 1
    if empty or not (single and outputs[0]._data.size):
        op = _empty_aware(op, outputs, edges)
    # a primitive's own Node subclass, named as PyTorch names it; made without __init__ (the hot path)
    node = _new(getattr(op, "node_type", Node))
    node.op = op
    node.attrs = attrs or _NO_ATTRS
    node.next = edges
    node.seq = _next_seq()
    node._saved = None
    if op.save_inputs:
        node.save_inputs(inputs)
    if op.save_output:
        node.save_outputs(outputs)
    if single:
        out = outputs[0]
        if out._dtype.is_floating_point:
            out._requires_grad = True
            out._node = node
        return node
    node._out_meta = tuple((t._data.shape, t._dtype, t._device) for t in outputs)
    for nr, t in enumerate(outputs):
        if t._dtype.is_floating_point:
            t._requires_grad = True
            t._node = node
            if nr:
                t._output_nr = nr
    return node


def record_unary(op, x, out) -> None:
    """``record_node(op, (x,), {}, (out,))`` for an input that requires grad: the hot path, unrolled."""
    data = x._data
    node = _new(op.node_type)
    node.op = op
    node.attrs = _NO_ATTRS
    node.next = edges = ((x._node or x, x._output_nr, data.shape, x._dtype),)
    node.seq = _next_seq()
    node._saved = None
    if not (data.size and out._data.size):
        node.op = op = _empty_aware(op, (out,), edges)
    if op.save_inputs:
        node.save_inputs((x,))
    if op.save_output:
        node.save_outputs((out,))
    if out._dtype.is_floating_point:
        out._requires_grad = True
        out._node = node


def record_binary(op, a, b, out) -> None:
    """``record_node(op, (a, b), {}, (out,))`` (one of them a tensor that requires grad), unrolled."""
    empty = not out._data.size
    if isinstance(a, Tensor) and a._requires_grad:
        data = a._data
        edge_a = (a._node or a, a._output_nr, data.shape, a._dtype)
        empty = empty or not data.size
    else:
        edge_a = None
    if isinstance(b, Tensor) and b._requires_grad:
        data = b._data
        edge_b = (b._node or b, b._output_nr, data.shape, b._dtype)
        empty = empty or not data.size
    else:
        edge_b = None
    node = _new(op.node_type)
    node.op = op
    node.attrs = _NO_ATTRS
    node.next = edges = (edge_a, edge_b)
    node.seq = _next_seq()
    node._saved = None
    if empty:
        node.op = op = _empty_aware(op, (out,), edges)
    if op.save_inputs:
        node.save_inputs((a, b))
    if op.save_output:
        node.save_outputs((out,))
    if out._dtype.is_floating_point:
        out._requires_grad = True
        out._node = node


class _ZeroGradient:
    """Stands in for an op's backward when every output or every differentiable input is empty: all
    gradients are then zeros of the inputs' shapes, and kernels written for non-empty arrays (windows,
    reshapes with -1) never see a zero-size gradient."""

    def __init__(self, op):
        self.name = op.name
        # saved as the op saves them, so an in-place change after the op still fails backward loudly
        self.save_inputs, self.save_output = op.save_inputs, op.save_output

    def backward(self, ctx, *grads, **attrs):
        if self.save_inputs:
            ctx.inputs  # noqa: B018 - reading them runs the version check
        if self.save_output:
            ctx.outputs  # noqa: B018
        device = next(g._device for g in grads if g is not None)
        return tuple(None if e is None else wrap(device.xp.zeros(e[2], dtype=e[3].numpy), device)
                     for e in ctx.next)


def _empty_aware(op, outputs, edges):
    """``op``, or a :class:`_ZeroGradient` when its gradients are zeros whatever the op computes."""
    if all(t._data.size == 0 for t in outputs) or all(e is None or 0 in e[2] for e in edges):
        return _ZeroGradient(op)
    return op
