"""Multi-threaded loops for the large elementwise ops of a training step: add, sub, mul and div, relu and
relu's backward, and the column sums of a bias's gradient (``sum_to_size`` over leading dims).

numpy runs each of them on one thread; PyTorch splits any op over :data:`~ember_fast.openmp.GRAIN`
(32K) elements across its threads. Memory-bound at these sizes, one thread is 3-4x slower: over 262K
float32 (an MLP's hidden layer at batch 512) ``a * b`` took 127 us in numpy, 34 us in PyTorch on two
threads and 34 us in these loops on two (paired, in a quieter moment of the shared 2-core machine).
relu's backward, ``g * (out > 0)`` through a float mask in the numpy path, is one pass here (0.86x
numpy's CPU time on one thread). On one thread (``set_num_threads(1)``, or the thread policy beside a
busy neighbour) the other loops leave the work to numpy, whose own loops are as fast there.

The loops take C-contiguous float32/float64 operands of one dtype, from :data:`GRAIN` elements, in the
shapes a network produces: two of one shape, a tensor and a scalar (a Python number or a one-element
array) on either side, and a tensor followed by an operand broadcast along its middle dims (a bias row
``(n,)`` of ``(rows, n)``, a conv bias ``(c, 1, 1)`` of ``(batch, c, h, w)``). Anything else, and every
array on another device, runs the numpy reference unchanged; small operands pay one type check and one
size comparison (~30 ns of the ~850 ns of an ``a + b``) before numpy's operator. Each element is computed
by the same IEEE operation as numpy's (no fast-math, numpy's division by zero), so the results are
bitwise numpy's.
"""

from __future__ import annotations

import math

import numpy as np

from . import openmp
from .openmp import GRAIN

__all__ = ["binary_kernel", "relu_kernel", "relu_backward_kernel", "sum_to_size_kernel", "register", "ARITHMETIC"]

ADD, SUB, MUL, DIV = range(4)
ARITHMETIC = {"add": ADD, "sub": SUB, "mul": MUL, "div": DIV}  # primitive name -> the loops' op code
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
ndarray = np.ndarray
_loops = None


def _compile():
    """The loops, compiled at their first use (and cached on disk by numba)."""
    global _loops
    from .elementwise_loops import LOOPS
    _loops = LOOPS
    return _loops


# Loops that beat numpy on one thread too (relu's backward saves a pass; column sums 0.66-0.85x numpy's
# CPU time over (512, 512) and (1024, 256)); the others only pay off on two or more threads
# (numpy's own loops are as fast on one: relu 1.04x, bias rows 1.00x, a scalar or a same-shape operand
# 1.2-1.8x numpy's CPU time for the loops), so with one thread, as under a busy neighbour, numpy runs them.
ONE_THREAD_LOOPS = frozenset({"relu_backward", "column_sums"})


def _threads(size) -> int:
    """The threads a loop over ``size`` elements gets; 0 where numba's loops cannot run."""
    try:
        if _loops is None:
            _compile()
        return openmp.threads_for(size)
    except ImportError as exc:  # numba installed but unusable (e.g. built for another numpy)
        openmp.disable(exc)
        return 0


def _run(name, threads, *args):
    """Run loop ``name`` on ``threads`` threads (from :func:`_threads`); False where numpy should run it
    instead (one thread for a loop that does not pay there, or no usable numba)."""
    if threads == 0 or (threads == 1 and name not in ONE_THREAD_LOOPS):
        return False
    try:
        openmp.set_threads(threads)
        _loops[name](*args)
    except ValueError as exc:  # numba found no OpenMP threading layer
        openmp.disable(exc)
        return False
    return True


def _large(x) -> bool:
    return type(x) is np.ndarray and x.size >= GRAIN and x.dtype in _FLOATS and x.flags.c_contiguous


def _scalar(x, dtype):
    """``x`` as a scalar of ``dtype`` when numpy would compute ``array op x`` in ``dtype`` with that value,
    else None."""
    if type(x) is float or type(x) is int:
        if type(x) is int and abs(x) > 2 ** 53:
            return None
        value = dtype.type(x)
        return None if math.isinf(value) and not math.isinf(x) else value  # an overflowing cast: numpy's path
    if type(x) is np.ndarray and x.ndim == 0 and x.dtype == dtype:
        return x[()]
    return None


def _broadcast_blocks(big, small):
    """(outer, middle, inner) sizes when ``small`` (C-contiguous) broadcasts to ``big`` along one run of
    its dims, with ``big``'s dims before it ``outer`` and after it ``inner``; else None."""
    if small.ndim > big.ndim or not small.flags.c_contiguous:
        return None
    shape = (1,) * (big.ndim - small.ndim) + small.shape
    kept = [i for i, s in enumerate(shape) if s != 1]
    first, last = kept[0], kept[-1]
    if shape[first:last + 1] != big.shape[first:last + 1]:
        return None
    return math.prod(big.shape[:first]), small.size, math.prod(big.shape[last + 1:])


def _arithmetic(op, a, b, reverse, threads):
    """``a op b`` (``b op a`` when ``reverse``) for the large array ``a`` on ``threads`` threads, or None where
    no loop takes it."""
    out = np.empty(a.shape, a.dtype)
    flat = out.reshape(-1)
    if type(b) is np.ndarray and b.shape == a.shape:
        if b.dtype != a.dtype or not b.flags.c_contiguous:
            return None
        pair = (b, a) if reverse else (a, b)
        done = _run("same_shape", threads, op, pair[0].reshape(-1), pair[1].reshape(-1), flat)
        return out if done else None
    scalar = _scalar(b, a.dtype)
    if scalar is not None:
        if type(b) is np.ndarray and b.ndim > a.ndim:
            return None
        return out if _run("with_scalar", threads, op, a.reshape(-1), scalar, reverse, flat) else None
    if type(b) is not np.ndarray or b.dtype != a.dtype:
        return None
    if b.size == 1 and b.ndim <= a.ndim:
        return out if _run("with_scalar", threads, op, a.reshape(-1), b.reshape(-1)[0], reverse, flat) else None
    blocks = _broadcast_blocks(a, b)
    if blocks is None:
        return None
    outer, middle, inner = blocks
    if inner == 1:
        rows = (a.size // middle, middle)
        done = _run("with_row", threads, op, a.reshape(rows), b.reshape(-1), reverse, out.reshape(rows))
    else:
        blocks = (outer, middle, inner)
        done = _run("with_channels", threads, op, a.reshape(blocks), b.reshape(-1), reverse, out.reshape(blocks))
    return out if done else None


# The kernels of the four arithmetic primitives. Every small add of a program comes through one of them: a
# type check and a size comparison (~30 ns of the ~850 ns of an ``a + b``), then numpy's operator written
# out, as in the primitive's forward. Larger operands go to :func:`_not_small`.

def _add(xp, a, b, _ndarray=ndarray, _grain=GRAIN):
    if type(a) is _ndarray and a.size < _grain:
        return a + b
    return _not_small(ADD, xp, a, b)


def _sub(xp, a, b, _ndarray=ndarray, _grain=GRAIN):
    if type(a) is _ndarray and a.size < _grain:
        return a - b
    return _not_small(SUB, xp, a, b)


def _mul(xp, a, b, _ndarray=ndarray, _grain=GRAIN):
    if type(a) is _ndarray and a.size < _grain:
        return a * b
    return _not_small(MUL, xp, a, b)


def _div(xp, a, b, _ndarray=ndarray, _grain=GRAIN):
    if type(a) is _ndarray and a.size < _grain:
        return a / b
    return _not_small(DIV, xp, a, b)


_KERNELS = {ADD: _add, SUB: _sub, MUL: _mul, DIV: _div}
for _kernel in _KERNELS.values():  # below the grain they are numpy's operator: core's operator calls the forward
    _kernel.min_numel = GRAIN
_references = {}  # op code -> the primitive's own forward, set when the kernel is made


def _not_small(op, xp, a, b):
    """A loop for a large float first operand, or a large one after a number (``bias + x`` stays on numpy:
    a small array first is not looked past); the primitive's forward for everything else."""
    out = None
    if type(a) is ndarray:
        out = _large_binary(op, xp, a, b)
    elif type(b) is ndarray and b.size >= GRAIN:
        out = _large_binary(op, xp, b, a, True)
    return _references[op](xp, a, b) if out is None else out


def binary_kernel(reference, op):
    """The CPU kernel of an arithmetic primitive (``op``: a value of :data:`ARITHMETIC`) whose numpy forward is
    ``reference``: the loops for large float operands, numpy for everything else."""
    _references[op] = reference
    return _KERNELS[op]


def _large_binary(op, xp, a, b, reverse=False):
    if xp is not np or not openmp.usable() or not _large(a):
        return None
    threads = _threads(a.size)
    return _arithmetic(op, a, b, reverse, threads) if threads > 1 else None


def relu_kernel(reference):
    """The CPU kernel of the Relu primitive: one loop for a large float array, ``reference`` otherwise."""
    def kernel(xp, x):
        if (type(x) is ndarray and x.size >= GRAIN and xp is np and openmp.usable() and _large(x)
                and (threads := _threads(x.size)) > 1):
            out = np.empty(x.shape, x.dtype)
            if _run("relu", threads, x.reshape(-1), x.dtype.type(0), out.reshape(-1)):
                return out
        return reference(xp, x)
    kernel.__name__ = kernel.__qualname__ = "threaded_relu"
    kernel.__doc__ = f"{reference.__qualname__}, on the thread policy's threads for a large float array."
    return kernel


def relu_backward_kernel(reference):
    """The CPU kernel of relu's backward (``grad * (output > 0)``): one loop where the gradient and the
    output are large float arrays of one shape and dtype, ``reference`` otherwise."""
    def kernel(xp, g, out):
        if (type(g) is ndarray and g.size >= GRAIN and xp is np and openmp.usable() and _large(g)
                and type(out) is ndarray and out.shape == g.shape and out.dtype == g.dtype and out.flags.c_contiguous):
            grad = np.empty(g.shape, g.dtype)
            zero = g.dtype.type(0)
            if _run("relu_backward", _threads(g.size), g.reshape(-1), out.reshape(-1), zero, grad.reshape(-1)):
                return grad
        return reference(xp, g, out)
    kernel.__name__ = kernel.__qualname__ = "threaded_relu_backward"
    kernel.__doc__ = f"{reference.__qualname__}, in one pass on the thread policy's threads for large arrays."
    return kernel


def sum_to_size_kernel(reference):
    """The CPU kernel of ``sum_to_size`` (the gradient of a broadcast operand): the column-sum loop where
    the leading dims of a large float array are summed away (a bias's gradient), ``reference`` otherwise.
    Summed row after row as numpy does, so bitwise numpy's result."""
    def kernel(xp, x, shape):
        if type(x) is ndarray and x.size >= GRAIN and xp is np and openmp.usable() and _large(x):
            rows = _leading_rows(x.shape, tuple(shape))
            if rows:
                out = np.empty(x.size // rows, x.dtype)
                if _run("column_sums", _threads(x.size), x.reshape(rows, -1), out):
                    return out.reshape(shape)
        return reference(xp, x, shape)
    kernel.__name__ = kernel.__qualname__ = "threaded_sum_to_size"
    kernel.__doc__ = f"{reference.__qualname__}, as threaded column sums where it sums leading dims."
    return kernel


def _leading_rows(have, want) -> int:
    """How many rows are summed when reducing ``have`` to ``want`` sums a leading run of dims and keeps at
    least two elements of the rest unchanged (0 otherwise)."""
    lead = len(have) - len(want)
    if lead < 0:
        return 0
    padded = (1,) * lead + want
    first_kept = 0
    while first_kept < len(have) and padded[first_kept] == 1 and have[first_kept] != 1:
        first_kept += 1
    if not first_kept or padded[first_kept:] != have[first_kept:] or math.prod(have[first_kept:]) < 2:
        return 0  # one column is numpy's pairwise sum of a contiguous run, not a row-by-row one
    return math.prod(have[:first_kept])


# The primitives these loops replace: (module that declares it, class there, primitive name) -> kernel factory.
# Looked up, not imported by name, so a renamed or moved primitive is skipped instead of breaking the plugin.
PRIMITIVES = {
    ("ember_ops.arithmetic", "Add", "add"): lambda forward: binary_kernel(forward, ADD),
    ("ember_ops.arithmetic", "Sub", "sub"): lambda forward: binary_kernel(forward, SUB),
    ("ember_ops.arithmetic", "Mul", "mul"): lambda forward: binary_kernel(forward, MUL),
    ("ember_ops.arithmetic", "Div", "div"): lambda forward: binary_kernel(forward, DIV),
    ("ember_ops.activation", "Relu", "relu"): relu_kernel,
    ("ember_ops.activation", "ReluBackward", "relu_backward"): relu_backward_kernel,
    ("ember_ops.shape", "SumToSize", "sum_to_size"): sum_to_size_kernel,
}


def _primitive(module: str, name: str):
    """The primitive class ``name`` of ``module``, or None where this installation lacks it."""
    import importlib
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def primitives():
    """The primitives these loops have kernels for, as present in this installation."""
    found = (_primitive(module, name) for module, name, _ in PRIMITIVES)
    return [prim for prim in found if prim is not None]


def register(registry) -> None:
    """Register the loops' kernels with the device registry (``ember_register_devices``): by primitive name,
    each made from its primitive's forward when ember first imports the op's module, where the registry
    takes kernel factories; else from the primitives imported now."""
    for (module, name, primitive), make in PRIMITIVES.items():
        try:
            registry.register_kernel(primitive, "cpu", factory=_from_forward(make))
        except TypeError:  # a registry without factories
            prim = _primitive(module, name)
            if prim is not None:
                registry.register_kernel(prim, "cpu", make(prim.forward))


def _from_forward(make):
    def factory(primitive):
        return make(primitive.forward)
    factory.__name__ = f"{getattr(make, '__name__', 'kernel')}_factory"
    return factory
