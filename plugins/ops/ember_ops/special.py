"""Gamma-family special functions: ``lgamma``, ``digamma``, ``polygamma`` (``torch.lgamma`` ...), the
log-densities of the Gamma, Beta and Dirichlet distributions are made of them.

numpy has no gamma-family ufuncs, so the kernels are written here with the backend's ``xp``: Lanczos'
approximation (g = 7, nine terms) for log|Gamma|, the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 6
and then the asymptotic series for digamma and polygamma, and the reflection formulas below 0.5.
Each op's derivative is the next one of the family, so every derivative order works.
"""

from __future__ import annotations

import math

from ember.ops import OpTable, Primitive, Sample, apply, check_tensor

from .elementwise_factories import unary_op
from .samples import unary_samples

ops = OpTable()

_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
            1.5056327351493116e-7)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _lgamma_kernel(xp, x):
    x64 = x.astype(xp.float64)
    reflect = x64 < 0.5
    z = xp.where(reflect, 1.0 - x64, x64) - 1.0
    series = xp.full_like(z, _LANCZOS[0])
    for i, c in enumerate(_LANCZOS[1:], start=1):
        series = series + c / (z + i)
    t = z + 7.5
    log_gamma = _HALF_LOG_2PI + (z + 0.5) * xp.log(t) - t + xp.log(series)
    with_reflection = math.log(math.pi) - xp.log(xp.abs(xp.sin(math.pi * x64))) - log_gamma
    out = xp.where(reflect, with_reflection, log_gamma)
    out = xp.where((x64 <= 0) & (x64 == xp.floor(x64)), xp.inf, out)  # poles
    return out.astype(x.dtype)


def _digamma_kernel(xp, x):
    x64 = x.astype(xp.float64)
    reflect = x64 < 0.5
    z = xp.where(reflect, 1.0 - x64, x64)
    acc = xp.zeros_like(z)
    for _ in range(6):  # bring z to >= 6 where the series is accurate to double precision
        small = z < 6
        acc = acc - xp.where(small, 1.0 / z, 0.0)
        z = xp.where(small, z + 1.0, z)
    inv2 = 1.0 / (z * z)
    series = xp.log(z) - 0.5 / z - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
    out = acc + series
    with_reflection = out - math.pi / xp.tan(math.pi * x64)
    out = xp.where(reflect, with_reflection, out)
    out = xp.where((x64 < 0) & (x64 == xp.floor(x64)), xp.nan, out)
    out = xp.where(x64 == 0, xp.copysign(xp.inf, -x64), out)  # the pole at 0 is -inf from the right, as PyTorch
    return out.astype(x.dtype)


_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)


def _polygamma_kernel(xp, x, n):
    """psi^(n)(x) for n >= 1: shift x up by the recurrence (negative x too), then the asymptotic series."""
    x64 = x.astype(xp.float64)
    sign = 1.0 if n % 2 else -1.0
    fact = math.factorial(n)
    z = x64.copy()
    acc = xp.zeros_like(z)
    for _ in range(30):
        small = z < 20
        acc = acc + xp.where(small, fact / z ** (n + 1), 0.0)
        z = xp.where(small, z + 1.0, z)
    series = math.factorial(n - 1) / z ** n + fact / (2 * z ** (n + 1))
    for k, b in enumerate(_BERNOULLI, start=1):
        series = series + b * math.factorial(2 * k + n - 1) / (math.factorial(2 * k) * z ** (2 * k + n))
    out = sign * (acc + series)
    out = xp.where((x64 <= 0) & (x64 == xp.floor(x64)), sign * xp.inf, out)  # poles: PyTorch's zeta is +inf there
    return out.astype(x.dtype)


def _positive_samples(make):
    yield from unary_samples(make, low=0.3, high=4.0)


def _all_samples(make):
    yield from _positive_samples(make)
    yield Sample((make(5, low=-2.7, high=-0.3),), name="negative, between poles")


lgamma = unary_op("lgamma", _lgamma_kernel, lambda ctx, g: g * digamma(ctx.inputs[0]), samples=_all_samples, table=ops,
                  doc="log|Gamma(input)| (``torch.lgamma``); +inf at the poles 0, -1, -2, ...")
digamma = unary_op("digamma", _digamma_kernel, lambda ctx, g: g * polygamma(1, ctx.inputs[0]), samples=_all_samples, table=ops,
                   doc="psi(input) = d/dx log Gamma(x) (``torch.digamma``); -inf at 0 (+inf at -0), NaN at the negative integers.")


def _polygamma_samples(make):
    for n in (1, 2, 3):
        yield Sample((n, make(2, 3, low=0.3, high=4.0)), name=f"n={n}")
    yield Sample((1, make(4, low=25.0, high=40.0)), name="large x")


class Polygamma(Primitive):
    """The n-th derivative of digamma, n >= 1 an attribute, as ATen's polygamma."""

    save_inputs = True

    @staticmethod
    def forward(xp, x, n):
        return _polygamma_kernel(xp, x, n)

    @staticmethod
    def backward(ctx, g, n):
        return g * polygamma(n + 1, ctx.inputs[0])


@ops.op(primitive=Polygamma, namespaces=("ember",), samples=_polygamma_samples)
def polygamma(n, input):
    """The n-th derivative of digamma (``torch.polygamma``); n = 0 is digamma. Accurate for input > -10.

    Shape:
        - n: ``(*)``, any number of dimensions; any dtype.
        - output: ``(*)``, the shape of ``n``; floating inputs keep their dtype, integer and bool ones give the
          default float dtype.

    Raises:
        RuntimeError: ``n`` is negative.
        TypeError: ``input`` is not a Tensor.

    PyTorch: ``torch.polygamma``."""
    check_tensor("polygamma", "input", input)
    if not isinstance(n, int) or n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got n={n}")
    if not input._dtype.is_floating_point:
        from ember import dtypes
        input = input.to(dtypes.get_default_dtype())
    if n == 0:
        return digamma(input)
    return apply(Polygamma, input, n=n)


def _erfinv_kernel(xp, y):
    """Giles' single-precision approximation, refined by two Newton steps on erf (double accuracy)."""
    from .erf_kernel import erf
    y64 = y.astype(xp.float64)
    w = -xp.log((1.0 - y64) * (1.0 + y64))
    small = w < 5.0
    ws = w - 2.5
    p_small = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164,
              0.246640727, 1.50140941):
        p_small = c + p_small * ws
    wl = xp.sqrt(xp.where(small, 5.0, w)) - 3.0
    p_large = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
              1.00167406, 2.83297682):
        p_large = c + p_large * wl
    x = xp.where(small, p_small, p_large) * y64
    for _ in range(2):
        x = x - (erf(xp, x) - y64) / (2.0 / math.sqrt(math.pi) * xp.exp(-x * x))
    x = xp.where(xp.abs(y64) == 1, xp.copysign(xp.inf, y64), x)
    x = xp.where(xp.abs(y64) > 1, xp.nan, x)
    return x.astype(y.dtype)


erfinv = unary_op("erfinv", _erfinv_kernel,
                  lambda ctx, g: g * (math.sqrt(math.pi) / 2) * (ctx.output * ctx.output).exp(), save="output",
                  samples=lambda make: unary_samples(make, low=-0.9, high=0.9), table=ops,
                  doc="The inverse of erf on (-1, 1); +-inf at +-1, NaN outside (``torch.erfinv``).")
