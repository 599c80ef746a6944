"""Nodes of the tape and the engine that replays them backwards.

A node is created by the op that recorded it and doubles as the ``ctx`` its backward receives: the
saved inputs and outputs (checked against in-place changes), ``needs_input_grad``, and the op's
keyword attributes. Edges point at the inputs' nodes, or at leaf tensors, which accumulate ``.grad``.
"""

from __future__ import annotations

import itertools
import threading

from ..tensor import Tensor, ones_like, zeros, zeros_like, wrap
from .grad_mode import STATE
from ..thread_policy import adapt as adapt_blas_threads

__all__ = ["AccumulateGrad", "Node", "backward", "grad", "RemovableHandle", "SavedTensorError"]

# One counter for every thread: a node must be newer than its inputs' nodes even when they were made in
# another thread. ``next`` on a count is a single C call, atomic under the GIL.
_sequence = itertools.count()


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

    __slots__ = ("op", "attrs", "next", "seq", "_saved", "_saved_versions", "_out_data", "_out_cells",
                 "_out_versions", "_out_device", "_out_meta", "needs_input_grad", "hooks", "retained",
                 "released", "__weakref__")

    def __init__(self, op, attrs, next_edges, needs_input_grad):
        self.op = op
        self.attrs = attrs
        self.next = next_edges
        self.needs_input_grad = needs_input_grad
        self.seq = next(_sequence)
        self._saved = self._out_data = self._out_meta = None
        self.hooks = self.retained = None
        self.released = False

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
        gradient flows (graph-drawing and tutorial code walks the graph through it)."""
        edges = []
        for edge in self.next:
            if edge is None:
                edges.append((None, 0))
            elif isinstance(edge[0], Tensor):
                edges.append((AccumulateGrad(edge[0]), 0))
            else:
                edges.append((edge[0], edge[1]))
        return tuple(edges)

    # -- what backward reads -------------------------------------------------------------------
    def save_inputs(self, inputs):
        self._saved = inputs
        self._saved_versions = tuple(_version_cell(x)[0] if isinstance(x, Tensor) else None for x in inputs)

    def save_outputs(self, outputs):
        self._out_data = tuple(t._data for t in outputs)
        self._out_cells = tuple(_version_cell(t) for t in outputs)
        self._out_versions = tuple(cell[0] for cell in self._out_cells)
        self._out_device = outputs[0]._device

    @property
    def inputs(self) -> tuple:
        """The inputs saved at forward time, after checking none was changed in place since."""
        if self._saved is None:
            self._raise_missing("inputs")
        for x, version in zip(self._saved, self._saved_versions):
            if version is not None and x._vcell[0] != version:
                raise SavedTensorError(
                    f"one of the tensors needed for gradient computation has been modified by an in-place "
                    f"operation: a tensor of shape {tuple(x.shape)} and dtype {x.dtype}, saved by "
                    f"'{self.name}', is at version {x._vcell[0]}; expected version {version}. Hint: avoid "
                    f"changing it in place, or clone it before.")
        return self._saved

    @property
    def outputs(self) -> tuple:
        """The op's outputs, re-attached to this node so that create_graph differentiates through them."""
        if self._out_data is None:
            self._raise_missing("outputs")
        result = []
        for nr, (data, cell) in enumerate(zip(self._out_data, self._out_cells)):
            if cell[0] != self._out_versions[nr]:
                raise SavedTensorError(
                    f"an output of '{self.name}' (shape {tuple(data.shape)}) needed for its gradient has been "
                    f"modified by an in-place operation: it is at version {cell[0]}; expected version "
                    f"{self._out_versions[nr]}. Hint: clone it before changing it in place.")
            t = wrap(data, self._out_device, cell)
            if t._dtype.is_floating_point:
                t._requires_grad, t._node, t._output_nr = True, self, nr
            result.append(t)
        return tuple(result)

    @property
    def input_shapes(self) -> tuple:
        """Each positional input's shape (None for inputs that do not require grad): saved for free."""
        return tuple(None if e is None else e[2] for e in self.next)

    @property
    def output(self):
        return self.outputs[0]

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


def _version_cell(t):
    cell = t._vcell
    if cell is None:
        cell = t._vcell = [0]
    return cell


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` takes the hook off again."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


# -- the engine ------------------------------------------------------------------------------------

def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate into leaves' ``.grad`` the gradient of ``tensors`` (``torch.autograd.backward``)."""
    adapt_blas_threads()  # once per training step: the BLAS thread policy follows the machine's load
    tensors, grad_tensors = _roots(tensors, grad_tensors, "backward")
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise ValueError("backward: 'inputs' was given but is empty")
    _run(tensors, grad_tensors, retain_graph, create_graph, inputs, accumulate=True, allow_unused=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned, not accumulated (``torch.autograd.grad``)."""
    outputs, grad_outputs = _roots(outputs, grad_outputs, "grad")
    inputs = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {tuple(x.shape)}) does not require grad")
    found = _run(outputs, grad_outputs, retain_graph, create_graph, inputs, accumulate=False,
                 allow_unused=allow_unused)
    if materialize_grads:
        found = [zeros_like(x) if g is None else g for g, x in zip(found, inputs)]
    return tuple(found)


def _as_tuple(x):
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _roots(tensors, grads, caller):
    tensors = _as_tuple(tensors)
    if grads is None:
        grads = (None,) * len(tensors)
    else:
        grads = _as_tuple(grads) if not isinstance(grads, (list, tuple)) else tuple(grads)
    if len(grads) != len(tensors):
        raise RuntimeError(f"{caller}: got {len(tensors)} tensors but {len(grads)} gradients")
    filled = []
    for i, (t, g) in enumerate(zip(tensors, grads)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{caller}: expected tensors, got {type(t).__name__} at position {i}")
        if not t.requires_grad:
            raise RuntimeError(
                f"{caller}: element {i} of tensors does not require grad and does not have a grad_fn "
                f"(shape {tuple(t.shape)}); did you compute it under no_grad, or forget requires_grad=True?")
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(
                    f"{caller}: grad can be implicitly created only for scalar outputs, but the output has "
                    f"shape {tuple(t.shape)}; pass gradient= (a tensor of that shape)")
            g = ones_like(t)
        elif not isinstance(g, Tensor):
            raise TypeError(f"{caller}: gradient {i} must be a Tensor, got {type(g).__name__}")
        elif tuple(g.shape) != tuple(t.shape):
            raise RuntimeError(
                f"{caller}: mismatch in shape: gradient {i} has shape {tuple(g.shape)} but the output has "
                f"shape {tuple(t.shape)}")
        filled.append(g)
    return tensors, tuple(filled)


def _collect(roots):
    """Every node reachable from the roots, newest first: a valid reverse topological order."""
    seen = set()
    stack = [t._node for t in roots if t._node is not None]
    nodes = []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        for edge in node.next:
            if edge is not None and not isinstance(edge[0], Tensor) and id(edge[0]) not in seen:
                stack.append(edge[0])
    nodes.sort(key=lambda n: n.seq, reverse=True)
    return nodes


def _needed(nodes, targets_nodes, targets_leaves):
    """The nodes from which a requested input can be reached (the rest need not run)."""
    needed = set(targets_nodes)
    for node in reversed(nodes):  # oldest first: a node's inputs are decided before it
        if id(node) in needed:
            continue
        for edge in node.next:
            if edge is not None and (id(edge[0]) in needed or id(edge[0]) in targets_leaves):
                needed.add(id(node))
                break
    return needed


def _run(roots, root_grads, retain_graph, create_graph, inputs, accumulate, allow_unused):
    if retain_graph is None:
        retain_graph = create_graph
    nodes = _collect(roots)
    node_buffers = {}   # id(node) -> [grad per output]
    leaf_buffers = {}   # id(leaf) -> [leaf, grad]
    foreign = set()     # buffers the user still holds: a leaf must get its own copy of those
    captures = None
    needed = None
    if inputs is not None:
        captures = {}
        for x in inputs:
            key = ("node", id(x._node), x._output_nr) if x._node is not None else ("leaf", id(x))
            captures[key] = None
        needed = _needed(nodes, {k[1] for k in captures if k[0] == "node"},
                         {k[1] for k in captures if k[0] == "leaf"})

    def deliver(target, nr, g):
        if isinstance(target, Tensor):
            slot = leaf_buffers.get(id(target))
            if slot is None:
                leaf_buffers[id(target)] = [target, g]
            else:
                slot[1] = slot[1] + g
            return
        buf = node_buffers.get(id(target))
        if buf is None:
            buf = node_buffers[id(target)] = [None] * _num_outputs(target)
        buf[nr] = g if buf[nr] is None else buf[nr] + g

    # leaves with post-accumulate-grad hooks are accumulated as soon as their gradient is complete
    countdown = _post_hook_countdown(nodes) if accumulate and captures is None else None
    saved_mode = STATE.enabled
    STATE.enabled = create_graph
    try:
        for t, g in zip(roots, root_grads):
            if g._node is None:
                foreign.add(id(_owner(g._data)))
            if not create_graph:
                g = g.detach()
            if t._node is None:
                deliver(t, 0, g)
            else:
                deliver(t._node, t._output_nr, g)
        for node in nodes:
            grads = node_buffers.pop(id(node), None)
            if grads is None or (needed is not None and id(node) not in needed):
                if countdown:
                    _count_down(node, countdown, leaf_buffers, create_graph, foreign)
                continue
            if len(grads) > 1:
                grads = _fill_missing(node, grads)
            if node.hooks or node.retained:
                grads = _run_node_hooks(node, grads)
            if captures is not None:
                for nr, g in enumerate(grads):
                    key = ("node", id(node), nr)
                    if key in captures:
                        captures[key] = g
            input_grads = node.run(grads)
            if len(input_grads) != len(node.next):
                raise RuntimeError(f"backward of '{node.name}' returned {len(input_grads)} gradients, "
                                   f"expected {len(node.next)} (one per input)")
            for edge, g in zip(node.next, input_grads):
                if edge is None or g is None:
                    continue
                target, nr, shape, dtype = edge
                if needed is not None and not (id(target) in needed or ("leaf", id(target)) in captures):
                    continue
                if g._data.shape != shape or g._dtype is not dtype:
                    g = _conform(g, shape, dtype, node)
                deliver(target, nr, g)
            if not retain_graph:
                node.release()
            if countdown:
                _count_down(node, countdown, leaf_buffers, create_graph, foreign)
        if captures is not None:
            for key, (leaf, g) in ((("leaf", k), v) for k, v in leaf_buffers.items()):
                if key in captures:
                    captures[key] = _run_leaf_hooks(leaf, g)
            result = []
            for i, x in enumerate(inputs):
                key = ("node", id(x._node), x._output_nr) if x._node is not None else ("leaf", id(x))
                g = captures[key]
                if g is None and not allow_unused:
                    raise RuntimeError(
                        f"grad: input {i} (shape {tuple(x.shape)}) was not used to compute the outputs; "
                        f"pass allow_unused=True if that is expected")
                result.append(g)
            if accumulate:
                for x, g in zip(inputs, result):
                    if g is not None:
                        _accumulate(x, g, create_graph, foreign)
                        _run_post_accumulate_hooks(x)
            return result
        if accumulate:
            for leaf, g in leaf_buffers.values():
                _accumulate(leaf, _run_leaf_hooks(leaf, g), create_graph, foreign)
                _run_post_accumulate_hooks(leaf)
    finally:
        STATE.enabled = saved_mode
    return None


def _num_outputs(node):
    return len(node._out_meta) if node._out_meta is not None else 1


def _fill_missing(node, grads):
    if all(g is not None for g in grads) or not getattr(node, "materialize_grads", True):
        return grads
    return [zeros(shape, dtype=dtype, device=dev) if g is None else g
            for g, (shape, dtype, dev) in zip(grads, node._out_meta)]


def _run_node_hooks(node, grads):
    if node.hooks:
        grads = list(grads)
        for nr, hooks in node.hooks.items():
            for hook in list(hooks):
                replaced = hook(grads[nr])
                if replaced is not None:
                    grads[nr] = replaced
    if node.retained:
        for nr, ref in node.retained.items():
            t = ref()
            if t is not None:
                g = grads[nr] if STATE.enabled else grads[nr].detach()
                t.grad = g if t.grad is None else t.grad + g
    return grads


def _run_leaf_hooks(leaf, g):
    if leaf._hooks:
        for hook in list(leaf._hooks):
            replaced = hook(g)
            if replaced is not None:
                g = replaced
    return g


def _post_hook_countdown(nodes):
    """id(leaf) -> number of recorded edges into it, for leaves with post-accumulate-grad hooks (None if
    there are none): when the count reaches zero, no node can add to the leaf's gradient any more."""
    counts = {}
    for node in nodes:
        for edge in node.next:
            if edge is not None and isinstance(edge[0], Tensor) and edge[0]._post_accumulate_hooks:
                counts[id(edge[0])] = counts.get(id(edge[0]), 0) + 1
    return counts or None


def _count_down(node, counts, leaf_buffers, create_graph, foreign):
    """``node`` has delivered its gradients: accumulate the leaves it completed and run their hooks."""
    for edge in node.next:
        if edge is None or id(edge[0]) not in counts:
            continue
        key = id(edge[0])
        counts[key] -= 1
        if counts[key] == 0:
            slot = leaf_buffers.pop(key, None)
            if slot is not None:
                leaf, g = slot
                _accumulate(leaf, _run_leaf_hooks(leaf, g), create_graph, foreign)
                _run_post_accumulate_hooks(leaf)


def _run_post_accumulate_hooks(leaf):
    if leaf._post_accumulate_hooks:
        for hook in list(leaf._post_accumulate_hooks):
            hook(leaf)


def _conform(g, shape, dtype, node):
    """Reduce a broadcast gradient to its input's shape and cast it to the input's dtype."""
    if g._data.shape != shape:
        try:
            g = g.sum_to_size(shape)
        except (RuntimeError, ValueError):
            raise RuntimeError(f"backward of '{node.name}' returned a gradient of shape {tuple(g.shape)} "
                               f"for an input of shape {shape}") from None
    if g._dtype is not dtype:
        g = g.to(dtype)
    return g


def _owner(array):
    base = getattr(array, "base", None)
    return array if base is None else base


# Threads running backward through graphs that share leaves (one model, several threads) add into the
# same .grad: the lock makes each addition whole, as PyTorch's AccumulateGrad does with its mutex.
_accumulation_lock = threading.Lock()


def _accumulate(leaf, g, create_graph, foreign):
    """Add ``g`` into ``leaf.grad``, in place when the graph is not being built (as PyTorch does)."""
    with _accumulation_lock:
        if leaf.grad is None:
            if create_graph:
                leaf.grad = g
                return
            owner = _owner(g._data)
            if id(owner) in foreign or g._vcell is not None:
                g = g.clone()
            else:
                foreign.add(id(owner))
                g = g.detach()
            leaf.grad = g
        elif create_graph or leaf.grad.requires_grad:
            leaf.grad = leaf.grad + g
        else:
            existing = leaf.grad
            existing._data += g._data
