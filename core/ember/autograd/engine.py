"""The backward engine: replays the tape from the roots to the leaves (``backward``, ``autograd.grad``).

``backward`` collects the nodes reachable from the roots and visits them newest first; a node is always
newer than its inputs' nodes, so that order is topological and every gradient a node receives has
arrived before it runs. The walk is one loop (never a recursion): take the node's gradients, run its
hooks, run its backward, deliver each input's gradient (reduced to the input's shape and dtype) to the
input's node or leaf. The gradient arithmetic is the engine's own (:mod:`.gradient_math`), on backend
arrays, recorded only under ``create_graph``.
"""

from __future__ import annotations

import operator
import threading

from ..numpy_errors import run_quiet
from ..tensor import Tensor, wrap
from .grad_mode import STATE, set_enabled
from .gradient_math import add, sum_to
from .graph import AccumulateGrad, Node, SavedTensorError  # noqa: F401 - ember.autograd.engine's names
from ..hooks import RemovableHandle  # noqa: F401 - ember.autograd.engine's names
from ..thread_policy import adapt as adapt_blas_threads

__all__ = ["AccumulateGrad", "Node", "backward", "grad", "RemovableHandle", "SavedTensorError"]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate into leaves' ``.grad`` the gradient of ``tensors`` (``torch.autograd.backward``)."""
    adapt_blas_threads()  # once per training step: the BLAS thread policy follows the machine's load
    tensors, grad_tensors = _roots(tensors, grad_tensors, "backward")
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise ValueError("backward: 'inputs' was given but is empty")
    _run(tensors, grad_tensors, retain_graph, create_graph, inputs, accumulate=True, allow_unused=True)


def _tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
    """Accumulate d(self)/d(leaf) into each leaf's ``.grad`` (``Tensor.backward``)."""
    backward(self, None if gradient is None else (gradient,), retain_graph, create_graph, inputs)


_tensor_backward.__name__ = _tensor_backward.__qualname__ = "backward"
Tensor.backward = _tensor_backward  # bound here: the tensor layer sits below the engine


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
        found = [_filled(0, x._data.shape, x._dtype, x._device) if g is None else g for g, x in zip(found, inputs)]
    return tuple(found)


def _filled(value, shape, dtype, device) -> Tensor:
    data = device.xp.empty(shape, dtype=dtype.numpy)
    data.fill(value)
    return wrap(data, device)


def _as_tuple(x):
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _roots(tensors, grads, caller):
    if grads is None and tensors.__class__ is Tensor and tensors._requires_grad and tensors._data.size == 1:
        t = tensors  # loss.backward(): the common case, its checks passed
        return (t,), (_filled(1, t._data.shape, t._dtype, t._device),)
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
            g = _filled(1, t._data.shape, t._dtype, t._device)
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
    seen = set()  # nodes compare by identity
    stack = [t._node for t in roots if t._node is not None]
    nodes = []
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        for edge in node.next:
            if edge is not None:
                target = edge[0]
                if not isinstance(target, Tensor) and target not in seen:
                    stack.append(target)
    nodes.sort(key=_sequence_number, reverse=True)
    return nodes


_sequence_number = operator.attrgetter("seq")


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


# -- one backward pass -------------------------------------------------------------------------------

def _run(roots, root_grads, retain_graph, create_graph, inputs, accumulate, allow_unused):
    """One backward pass: the loop over the nodes, newest first. Returns the gradients of ``inputs``
    when they were given (``grad`` and ``backward(inputs=)``), else None."""
    if retain_graph is None:
        retain_graph = create_graph
    nodes = _collect(roots)
    flow = _GradientFlow(nodes, inputs, accumulate, create_graph)
    saved_mode = STATE.enabled
    set_enabled(create_graph)  # backward formulas are recorded only when building a graph
    try:
        flow.seed(roots, root_grads)
        flow.walk(nodes, retain_graph)
        return flow.finish(inputs, allow_unused)
    finally:
        set_enabled(saved_mode)


class _GradientFlow:
    """What one backward pass holds while it walks: the gradients summed so far for each node's outputs
    and each leaf, what ``inputs=`` asked to capture, and which leaves' post-accumulate hooks wait."""

    def __init__(self, nodes, inputs, accumulate, create_graph):
        self.create_graph = create_graph
        self.accumulate = accumulate
        self.node_grads = {}   # id(node) -> [grad per output]
        self.leaf_grads = {}   # id(leaf) -> [leaf, grad]
        # ids of arrays somebody already holds (the caller's seed gradients, a leaf's new .grad): a leaf
        # must get its own copy of those instead of adopting them
        self.claimed_arrays = set()
        self.captures = self.needed = None
        if inputs is not None:
            self.captures = {_capture_key(x): None for x in inputs}
            self.needed = _needed(nodes, {k[1] for k in self.captures if k[0] == "node"},
                                  {k[1] for k in self.captures if k[0] == "leaf"})
        # leaves with post-accumulate-grad hooks are accumulated as soon as their gradient is complete
        self.countdown = _post_hook_countdown(nodes) if accumulate and inputs is None else None

    def seed(self, roots, root_grads):
        for t, g in zip(roots, root_grads):
            if g._node is None:
                self.claimed_arrays.add(id(_owner(g._data)))
            if not self.create_graph and (g._requires_grad or g._node is not None):
                g = g.detach()
            if t._node is None:
                self.add_to(t, 0, g)
            else:
                self.add_to(t._node, t._output_nr, g)

    def add_to(self, target, nr, g):
        """Sum ``g`` into what ``target`` (a node's output ``nr``, or a leaf) has received so far."""
        if isinstance(target, Tensor):
            slot = self.leaf_grads.get(id(target))
            if slot is None:
                self.leaf_grads[id(target)] = [target, g]
            else:
                slot[1] = add(slot[1], g)
            return
        buf = self.node_grads.get(id(target))
        if buf is None:
            buf = self.node_grads[id(target)] = [None] * target.num_outputs
        buf[nr] = g if buf[nr] is None else add(buf[nr], g)

    def walk(self, nodes, retain_graph):
        """The loop: each node, newest first, runs once the gradients of all its outputs have arrived
        (or is passed over when none did, or when it leads to no requested input)."""
        node_grads, needed, countdown = self.node_grads, self.needed, self.countdown
        plain = self.captures is None  # nothing to capture: a node without hooks runs straight away
        for node in nodes:
            grads = node_grads.pop(id(node), None)
            if grads is not None and (needed is None or id(node) in needed):
                if plain and len(grads) == 1 and not (node.hooks or node.retained):
                    input_grads = node.run(grads)
                    if len(input_grads) != len(node.next):
                        _wrong_count(node, input_grads)
                else:
                    input_grads = self.run_node(node, grads)
                self.deliver_inputs(node, input_grads)
                if not retain_graph:
                    node.release()
            if countdown:
                self.node_done(node)

    def run_node(self, node, grads):
        """The gradients for ``node``'s inputs, from the gradients of its outputs (hooks run first)."""
        if len(grads) > 1:
            grads = _fill_missing(node, grads)
        if node.hooks or node.retained:
            grads = _run_node_hooks(node, grads)
        if self.captures is not None:
            self.capture(node, grads)
        input_grads = node.run(grads)
        if len(input_grads) != len(node.next):
            _wrong_count(node, input_grads)
        return input_grads

    def capture(self, node, grads):
        for nr, g in enumerate(grads):
            key = ("node", id(node), nr)
            if key in self.captures:
                self.captures[key] = g

    def deliver_inputs(self, node, input_grads):
        """Each input's gradient, reduced to its shape and dtype, added to what its node (or leaf) has."""
        needed, node_grads, leaf_grads = self.needed, self.node_grads, self.leaf_grads
        for edge, g in zip(node.next, input_grads):
            if edge is None or g is None:
                continue
            target, nr, shape, dtype = edge
            if needed is not None and not (id(target) in needed or ("leaf", id(target)) in self.captures):
                continue
            if g._data.shape != shape or g._dtype is not dtype:
                g = _conform(g, shape, dtype, node)
            key = id(target)
            if isinstance(target, Tensor):
                slot = leaf_grads.get(key)
                if slot is None:
                    leaf_grads[key] = [target, g]
                else:
                    slot[1] = add(slot[1], g)
                continue
            buf = node_grads.get(key)
            if buf is None:
                if target._out_meta is None:  # one output: the common case
                    node_grads[key] = [g]
                    continue
                buf = node_grads[key] = [None] * target.num_outputs
            buf[nr] = g if buf[nr] is None else add(buf[nr], g)

    def node_done(self, node):
        """``node`` has delivered its gradients: accumulate the leaves it completed and run their hooks."""
        counts = self.countdown
        for edge in node.next:
            if edge is None or id(edge[0]) not in counts:
                continue
            key = id(edge[0])
            counts[key] -= 1
            if counts[key] == 0:
                slot = self.leaf_grads.pop(key, None)
                if slot is not None:
                    self.accumulate_leaf(*slot)

    def accumulate_leaf(self, leaf, g):
        _accumulate(leaf, _run_leaf_hooks(leaf, g), self.create_graph, self.claimed_arrays)
        _run_post_accumulate_hooks(leaf)

    def finish(self, inputs, allow_unused):
        """After the walk: the captured gradients of ``inputs`` (accumulated for ``backward(inputs=)``),
        or every leaf's gradient accumulated into its ``.grad``."""
        if self.captures is None:
            if self.accumulate:
                for leaf, g in self.leaf_grads.values():
                    self.accumulate_leaf(leaf, g)
            return None
        for leaf, g in self.leaf_grads.values():
            if ("leaf", id(leaf)) in self.captures:
                self.captures[("leaf", id(leaf))] = _run_leaf_hooks(leaf, g)
        result = []
        for i, x in enumerate(inputs):
            g = self.captures[_capture_key(x)]
            if g is None and not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {tuple(x.shape)}) was not used to compute the outputs; "
                    f"pass allow_unused=True if that is expected")
            result.append(g)
        if self.accumulate:
            for x, g in zip(inputs, result):
                if g is not None:
                    _accumulate(x, g, self.create_graph, self.claimed_arrays)
                    _run_post_accumulate_hooks(x)
        return result


def _wrong_count(node, input_grads):
    raise RuntimeError(f"backward of '{node.name}' returned {len(input_grads)} gradients, "
                       f"expected {len(node.next)} (one per input)")


def _capture_key(x):
    return ("node", id(x._node), x._output_nr) if x._node is not None else ("leaf", id(x))


def _fill_missing(node, grads):
    if all(g is not None for g in grads) or not getattr(node, "materialize_grads", True):
        return grads
    return [_filled(0, shape, dtype, dev) if g is None else g for g, (shape, dtype, dev) in zip(grads, node._out_meta)]


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
                t.grad = g if t.grad is None else add(t.grad, g)
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


def _run_post_accumulate_hooks(leaf):
    if leaf._post_accumulate_hooks:
        for hook in list(leaf._post_accumulate_hooks):
            hook(leaf)


def _conform(g, shape, dtype, node):
    """Reduce a broadcast gradient to its input's shape and cast it to the input's dtype."""
    if g._data.shape != shape:
        try:
            g = sum_to(g, shape)
        except ValueError:
            raise RuntimeError(f"backward of '{node.name}' returned a gradient of shape {tuple(g.shape)} "
                               f"for an input of shape {shape}") from None
    if g._dtype is not dtype:
        if STATE.enabled and g._requires_grad:
            g = g.to(dtype)  # recorded (ember.conversion's Cast), so higher orders flow back through it
        else:
            g = wrap(run_quiet(g._data.astype, dtype.numpy), g._device)
    return g


def _owner(array):
    base = getattr(array, "base", None)
    return array if base is None else base


# Threads running backward through graphs that share leaves (one model, several threads) add into the
# same .grad: the lock makes each addition whole, as PyTorch's AccumulateGrad does with its mutex.
_accumulation_lock = threading.Lock()


def _accumulate(leaf, g, create_graph, claimed_arrays):
    """Add ``g`` into ``leaf.grad``, in place when the graph is not being built (as PyTorch does).

    ``g`` already has the leaf's shape and dtype (the engine conformed it), so ``.grad`` is written
    without the checks its setter makes for users."""
    with _accumulation_lock:
        old = leaf._grad
        if old is None:
            if create_graph:
                leaf._grad = g
                return
            data = g._data
            owner = _owner(data)
            if id(owner) in claimed_arrays or g._version_counter is not None:
                leaf._grad = wrap(data.copy(), g._device)
            else:
                claimed_arrays.add(id(owner))
                leaf._grad = g.detach()
        elif create_graph or old._requires_grad:
            leaf.grad = add(old, g)
        else:
            run_quiet(operator.iadd, old._data, g._data)
