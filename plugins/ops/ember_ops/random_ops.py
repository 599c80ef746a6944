"""Random sampling ops: the in-place initialisers (``Tensor.normal_``, ``uniform_``, ``random_``,
``bernoulli_``, ``exponential_``, ``geometric_``, ``log_normal_``, ``cauchy_``) and the samplers
``normal``, ``bernoulli``, ``poisson``, ``multinomial``.

Draws come from the device's default generator (or ``generator=``), so ``ember.manual_seed`` makes
them repeatable; the streams are ember's own, not PyTorch's. Continuous distributions are made from the
backend's uniform and normal streams by their inverse CDFs; Poisson counts and multinomial draws use a
host numpy generator seeded from the device stream. Samples are constants to autograd, except
``normal(mean, std)`` with tensor arguments, which is ``mean + std * eps`` and so differentiable
(PyTorch's reparameterised gradient). The conformance samples use degenerate parameters (std 0,
probabilities 0 and 1) where the draw is determined, so PyTorch can check the values; where PyTorch
refuses such parameters (``cauchy_``, ``log_normal_``, ``geometric_``) the statistical tests in
tests/ops/test_random_ops.py compare with PyTorch's distribution instead.
"""

from __future__ import annotations

import math

import numpy as np

from ember import dtypes as _dt
from ember.ops import ArgumentError, ErrorInput, OpTable, Sample, ShapeError, check_tensor, float_input, inplace, no_bool
from ember.random import default_generator
from ember.tensor import Tensor
from ember.ops import wrap

ops = OpTable()


def _stream(generator, tensor_or_device):
    if generator is not None:
        return generator.stream
    dev = tensor_or_device.device if isinstance(tensor_or_device, Tensor) else tensor_or_device
    return default_generator(dev).stream


def _host_rng(stream) -> np.random.Generator:
    """A numpy generator seeded from the device stream, for distributions the backend streams lack."""
    seed = stream.integers(0, 2 ** 62, (2,), np.int64)
    return np.random.default_rng([int(s) for s in np.asarray(seed).ravel()])


def _uniform(self, generator):
    return _stream(generator, self).random(self.array.shape, np.float64)


def _fill(self, values, op):
    """Write sampled ``values`` (a backend array) into ``self`` in place."""
    check_tensor(op, "self", self)
    return inplace(self, wrap(self.device.xp.asarray(values).astype(self.array.dtype), self.device), op)


def _floating(op, self):
    float_input(op, self, "self")  # a continuous distribution needs a floating point tensor


def _inplace_samples(**kwargs):
    return lambda make: [Sample((make(2, 3, requires_grad=False),), kwargs)]


@ops.op(namespaces=("Tensor",), torch="torch.Tensor.normal_", differentiable=False,
        samples=_inplace_samples(mean=1.5, std=0.0))
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with draws from N(mean, std^2) in place (``Tensor.normal_``).

    Shape:
        - self: ``(*)``.
        - output: ``self``, filled in place with the draws.

    Raises:
        RuntimeError: ``std`` is negative.
        DTypeError: ``self`` is not floating point (a continuous distribution).
        TypeError: ``self`` is not a Tensor.

    PyTorch: ``torch.Tensor.normal_``."""
    _floating("normal_", self)
    if std < 0:
        raise RuntimeError(f"normal_ expects std >= 0.0, but found std {std}")
    z = _stream(generator, self).normal(self.array.shape, np.float64)
    return _fill(self, z * std + mean, "normal_")


@ops.op(namespaces=("Tensor",), torch="torch.Tensor.uniform_", differentiable=False,
        samples=_inplace_samples(**{"from": -0.5, "to": -0.5}))
def uniform_(self, *args, generator=None, **kwargs):
    """Fill with draws uniform on [from, to) in place (``Tensor.uniform_(from=0, to=1)``).

    Shape:
        - self: ``(*)``.
        - output: ``self``, filled in place with the draws.

    Raises:
        RuntimeError: ``from`` > ``to``.
        DTypeError: ``self`` is not floating point (a continuous distribution).
        TypeError: ``self`` is not a Tensor.

    PyTorch: ``torch.Tensor.uniform_``."""
    names = ("from", "to")
    bounds = dict(zip(names, args))
    bounds.update(kwargs)
    low, high = bounds.get("from", 0.0), bounds.get("to", 1.0)
    _floating("uniform_", self)
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={low} > to={high}")
    return _fill(self, low + (high - low) * _uniform(self, generator), "uniform_")


def _random_range(dtype):
    if dtype is _dt.bool:
        return 0, 2
    if dtype.is_floating_point:
        mantissa = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}[dtype.name]
        return 0, 2 ** mantissa + 1
    return 0, int(np.iinfo(dtype.numpy).max) + 1


@ops.op(namespaces=("Tensor",), torch="torch.Tensor.random_", differentiable=False,
        samples=lambda make: [Sample((make(2, 3, requires_grad=False), 4, 5))])
def random_(self, *args, generator=None, **kwargs):
    """Fill with integers uniform on [from, to) in place: ``random_(to)``, ``random_(from, to)``, or with no bounds
    [0, 2^mantissa] for floats and the dtype's non-negative range for integers (``Tensor.random_``).

    Shape:
        - self: ``(*)``.
        - output: ``self``, filled in place with the draws.

    Raises:
        RuntimeError: ``from`` >= ``to``.
        TypeError: ``self`` is not a Tensor.

    PyTorch: ``torch.Tensor.random_``."""
    check_tensor("random_", "self", self)
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    else:
        low, high = kwargs.get("from", 0), kwargs.get("to")
    if high is None:
        low, high = _random_range(self.dtype)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    draws = _stream(generator, self).integers(low, high, self.array.shape, np.int64)
    return _fill(self, draws, "random_")


def _bernoulli__errors(make):
    yield ErrorInput(Sample((make(3, requires_grad=False), 1.5)), RuntimeError,
                     r"bernoulli_\(\): expected p in \[0, 1\], but got p=1\.5")
    yield ErrorInput(Sample((make(3, requires_grad=False), make.tensor([0.5, 1.5, 0.2], requires_grad=False))),
                     RuntimeError, r"bernoulli_\(\): expected every element of p in \[0, 1\].*\(3,\)")


@ops.op(namespaces=("Tensor",), torch="torch.Tensor.bernoulli_", differentiable=False, errors=_bernoulli__errors,
        samples=lambda make: [Sample((make(2, 3, requires_grad=False), 1.0)), Sample((make(2, 3, requires_grad=False), 0.0))])
def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 where a uniform draw falls below ``p`` (a number or a broadcastable tensor), else 0.

    Shape:
        - self: ``(*)``.
        - output: ``self``, filled in place with the draws.

    Raises:
        ArgumentError: ``p`` (or an element of it) is outside [0, 1].
        TypeError: ``self`` is not a Tensor.

    PyTorch: ``torch.Tensor.bernoulli_``."""
    check_tensor("bernoulli_", "self", self)
    if isinstance(p, Tensor):
        prob = p.array
        if not bool(((prob >= 0) & (prob <= 1)).all()):  # NaN fails too, as in PyTorch
            raise ArgumentError(f"bernoulli_(): expected every element of p in [0, 1], but p of shape "
                                f"{tuple(p.shape)} has values outside it")
    else:
        prob = p
        if not 0 <= prob <= 1:
            raise ArgumentError(f"bernoulli_(): expected p in [0, 1], but got p={p}")
    return _fill(self, _uniform(self, generator) < prob, "bernoulli_")


@ops.op(namespaces=("Tensor",), torch="torch.Tensor.exponential_", differentiable=False,
        samples=_inplace_samples(lambd=float("inf")))
def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with draws of density lambd * exp(-lambd x) in place (``Tensor.exponential_``).

    Shape:
        - self: ``(*)``.
        - output: ``self``, filled in place with the draws.

    Raises:
        RuntimeError: ``lambd`` is not positive.
        DTypeError: ``self`` is not floating point (a continuous distribution).
        TypeError: ``self`` is not a Tensor.

    PyTorch: ``torch.Tensor.exponential_``."""
    _floating("exponential_", self)
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill(self, -np.log1p(-_uniform(self, generator)) / lambd, "exponential_")


@ops.op(namespaces=("Tensor",), torch="torch.Tensor.geometric_", differentiable=False,
        samples=_inplace_samples(p=1 - 1e-12))  # p -> 1: every draw is 1, which PyTorch can check
def geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...) in place.

    Shape:
        - self: ``(*)``.
        - output: ``self``, filled in place with the draws.

    Raises:
        RuntimeError: ``p`` is outside (0, 1).
        DTypeError: ``self`` is a bool tensor.
        TypeError: ``self`` is not a Tensor.

    PyTorch: ``torch.Tensor.geometric_``."""
    no_bool("geometric_", self)
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    draws = np.maximum(np.ceil(np.log1p(-_uniform(self, generator)) / math.log1p(-p)), 1)
    return _fill(self, draws, "geometric_")


@ops.op(namespaces=("Tensor",), torch="torch.Tensor.log_normal_", differentiable=False,
        samples=_inplace_samples(mean=0.5, std=1e-12))  # std -> 0: every draw is e^mean, which PyTorch can check
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp of N(mean, std^2) draws in place (``Tensor.log_normal_``).

    Shape:
        - self: ``(*)``.
        - output: ``self``, filled in place with the draws.

    Raises:
        RuntimeError: ``std`` is not positive.
        DTypeError: ``self`` is not floating point (a continuous distribution).
        TypeError: ``self`` is not a Tensor.

    PyTorch: ``torch.Tensor.log_normal_``."""
    _floating("log_normal_", self)
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    z = _stream(generator, self).normal(self.array.shape, np.float64)
    return _fill(self, np.exp(z * std + mean), "log_normal_")


@ops.op(namespaces=("Tensor",), torch="torch.Tensor.cauchy_", differentiable=False,
        samples=_inplace_samples(median=0.5, sigma=1e-12))  # sigma -> 0: every draw is the median
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with draws from the Cauchy distribution (location ``median``, scale ``sigma``) in place.

    Shape:
        - self: ``(*)``.
        - output: ``self``, filled in place with the draws.

    Raises:
        RuntimeError: ``sigma`` is not positive.
        DTypeError: ``self`` is not floating point (a continuous distribution).
        TypeError: ``self`` is not a Tensor.

    PyTorch: ``torch.Tensor.cauchy_``."""
    _floating("cauchy_", self)
    if sigma <= 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _fill(self, median + sigma * np.tan(np.pi * (_uniform(self, generator) - 0.5)), "cauchy_")


def _normal_samples(make):
    yield Sample((make(2, 3, requires_grad=False), make(2, 3, low=0.0, high=0.0, requires_grad=False)), name="tensors")
    yield Sample((make(3, requires_grad=False), 0.0), name="tensor mean")
    yield Sample((1.5, 0.0, (2, 2)), name="numbers and size")


@ops.op(namespaces=("ember",), differentiable=False, samples=_normal_samples, errors=lambda make: [
    ErrorInput(Sample((make(3, requires_grad=False), make(2, low=0.5, requires_grad=False))), ShapeError,
               r"normal\(\): the size of tensor a \(3\) must match the size of tensor b \(2\)")])
def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None, requires_grad=False):
    """Draws from N(mean, std^2) (``torch.normal``): ``mean``/``std`` tensors (broadcast together) or numbers with
    ``size``. With tensor arguments the result is ``mean + std * eps``, differentiable in both.

    Shape:
        - mean, std: tensors (or numbers) whose shapes broadcast; with two numbers, ``size`` is required.
        - output: the broadcast shape (or ``size``), floating point.

    Raises:
        RuntimeError: an element of ``std`` is negative.
        ShapeError: ``mean`` and ``std`` are tensors whose shapes do not broadcast.
        DTypeError: a tensor argument is not floating point.
        TypeError: two numbers without ``size``, or ``out=`` is given.
        DeviceError: the tensors are on different devices.

    PyTorch: ``torch.normal``."""
    if out is not None:
        raise TypeError("normal(): out= is not supported by ember")
    tensors = [a for a in (mean, std) if isinstance(a, Tensor)]
    for t in tensors:  # PyTorch has floating kernels only
        float_input("normal", t)
    if not tensors:
        if size is None:
            raise TypeError("normal(): with number mean and std, size= is required")
        from ember.creation import empty
        return normal_(empty(*((size,) if isinstance(size, int) else size), dtype=dtype, device=device),
                       mean, std, generator=generator).requires_grad_(requires_grad)
    if isinstance(std, (int, float)) and std < 0 or isinstance(std, Tensor) and bool((std < 0).any()):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    ref = tensors[0]
    try:
        shape = np.broadcast_shapes(*[tuple(t.shape) for t in tensors])
    except ValueError:
        from .elementwise_factories import _broadcast_error
        raise _broadcast_error("normal", mean, std) from None
    eps = wrap(_stream(generator, ref).normal(shape, ref.array.dtype), ref.device)
    return mean + std * eps


@ops.op(namespaces=("ember", "Tensor"), differentiable=False,
        samples=lambda make: [Sample((make.index([[0.0, 1.0], [1.0, 0.0]]).double(),))], errors=lambda make: [
    ErrorInput(Sample((make.tensor([1.5, 0.2], requires_grad=False),)), RuntimeError,
               r"bernoulli\(\): expected all probabilities in \[0, 1\], but input of shape \(2,\)"),
    ErrorInput(Sample((make(2, requires_grad=False), 1.5)), RuntimeError, r"bernoulli\(\): expected p in \[0, 1\], but got p=1\.5")])
def bernoulli(input, p=None, *, generator=None, out=None):
    """1 with probability ``input`` (or ``p``), else 0, elementwise, in ``input``'s dtype (``torch.bernoulli``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        ArgumentError: a probability (an element of ``input``, or ``p``) is outside [0, 1].
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor, or ``out=`` is given.

    PyTorch: ``torch.bernoulli``."""
    check_tensor("bernoulli", "input", input)
    if p is None:  # probabilities in input: PyTorch has floating kernels only
        float_input("bernoulli", input)
    if out is not None:
        raise TypeError("bernoulli(): out= is not supported by ember")
    prob = input.array if p is None else p
    xp = input.device.xp
    if p is None and (bool(xp.any(prob < 0)) or bool(xp.any(prob > 1))):
        raise ArgumentError(f"bernoulli(): expected all probabilities in [0, 1], but input of shape "
                            f"{tuple(input.shape)} has values outside it")
    if p is not None and not 0 <= p <= 1:
        raise ArgumentError(f"bernoulli(): expected p in [0, 1], but got p={p}")
    draws = _stream(generator, input).random(input.array.shape, np.float64) < prob
    return wrap(draws.astype(input.array.dtype), input.device)


@ops.op(namespaces=("ember",), differentiable=False,
        samples=lambda make: [Sample((make(2, 3, low=0.0, high=0.0, requires_grad=False),))])
def poisson(input, generator=None):
    """Counts drawn from Poisson(rate) for each rate in ``input``, in ``input``'s dtype (``torch.poisson``).

    Shape:
        - input: ``(*)``, any number of dimensions; floating point.
        - output: ``(*)``, the shape of ``input``; the dtype of ``input``.

    Raises:
        RuntimeError: a rate is negative.
        DTypeError: ``input`` is not floating point.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.poisson``."""
    float_input("poisson", input)
    rates = np.asarray(input)
    if (rates < 0).any():
        raise RuntimeError("poisson: expected all rates to be non-negative")
    counts = np.asarray(_host_rng(_stream(generator, input)).poisson(rates.astype(np.float64)))  # 0-d: an int
    return wrap(input.device.xp.asarray(counts.astype(rates.dtype)), input.device)


def _multinomial_samples(make):
    yield Sample((make.index([0.0, 3.0, 0.0]).double(), 2, True), name="one outcome, replacement")
    yield Sample((make.index([[0.0, 0.0, 2.0], [1.0, 0.0, 0.0]]).double(), 1), name="batched")


@ops.op(namespaces=("ember", "Tensor"), differentiable=False, samples=_multinomial_samples)
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices drawn with probability proportional to the (non-negative) weights in each row of ``input`` (1-D or
    2-D), ``num_samples`` per row, with or without replacement; int64 (``torch.multinomial``).

    Shape:
        - input: ``(k,)`` or ``(n, k)`` non-negative weights, floating point.
        - output: ``(num_samples,)`` or ``(n, num_samples)``, int64 category indices.

    Raises:
        RuntimeError: ``input`` is not 1-D or 2-D or not floating point, ``num_samples`` is not positive or exceeds
            k without replacement, or the weights are negative, non-finite or sum to 0.
        TypeError: ``input`` is not a Tensor, or ``out=`` is given.

    PyTorch: ``torch.multinomial``."""
    check_tensor("multinomial", "input", input)
    if out is not None:
        raise TypeError("multinomial(): out= is not supported by ember")
    if input.dim() not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got {input.dim()}-dim input")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {input.dtype}")
    weights = np.atleast_2d(np.asarray(input).astype(np.float64))
    n = weights.shape[1]
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample num_samples={num_samples} <= 0 samples")
    if not replacement and num_samples > n:
        raise RuntimeError(f"multinomial: cannot sample n_sample={num_samples} > prob_dist.size(-1)={n} "
                           f"samples without replacement")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    sums = weights.sum(1)
    if (sums <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _host_rng(_stream(generator, input))
    rows = []
    for w, total in zip(weights, sums):
        if replacement:
            rows.append(rng.choice(n, size=num_samples, replace=True, p=w / total))
        else:  # Gumbel top-k: sequential sampling without replacement, zero weights drawn last
            keys = np.where(w > 0, np.log(np.where(w > 0, w, 1)) - np.log(-np.log(rng.random(n))), -np.inf)
            rows.append(np.argsort(-keys, kind="stable")[:num_samples])
    result = np.stack(rows).astype(np.int64)
    if input.dim() == 1:
        result = result[0]
    return wrap(input.device.xp.asarray(result), input.device)
