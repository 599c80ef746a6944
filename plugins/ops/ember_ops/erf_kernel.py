"""erf and erfc on backend arrays, to full float64 accuracy, without scipy (not a dependency).

erfc(z) for z >= 0.5 is ``t * exp(-z**2 + g(y))`` with ``t = 2 / (2 + z)``, ``y = 2t - 1``, and ``g`` a
smooth function on [-1, 1] expanded in Chebyshev polynomials (as in Numerical Recipes' ``erfccheb``).
The coefficients are computed once, on first use, from the standard library's ``math.erfc`` (and the
asymptotic series where it underflows). Near zero, erf is its Taylor series, so it keeps its relative
accuracy for tiny inputs.

Where SciPy is installed (it comes with ``ember[models]`` and scikit-learn), float32/float64 numpy arrays
go to ``scipy.special.erf``/``erfc`` instead: the same accuracy (Cephes, within an ulp or two) at C
speed, which is what a transformer's exact GELU spends its time on. SciPy is imported on first use only.
"""

from __future__ import annotations

import math

_NODES = 64
_KEEP = 28
_coefficients: list | None = None
_TAYLOR = [(-1) ** n / (math.factorial(n) * (2 * n + 1)) * 2 / math.sqrt(math.pi) for n in range(16)]


def _g(y: float) -> float:
    t = (y + 1) / 2
    if t == 0:
        return math.log(0.5 / math.sqrt(math.pi))
    z = 2 / t - 2
    if z < 26:
        return math.log(math.erfc(z)) + z * z - math.log(t)
    # erfcx(z) = 1 / (z sqrt(pi)) * sum (-1)^n (2n-1)!! / (2 z^2)^n, then erfc / t * exp(z^2)
    term, total = 1.0, 1.0
    for n in range(1, 12):
        term *= -(2 * n - 1) / (2 * z * z)
        total += term
    return math.log(total / (z * math.sqrt(math.pi)) / t)


def _chebyshev() -> list:
    global _coefficients
    if _coefficients is None:
        values = [_g(math.cos(math.pi * (k + 0.5) / _NODES)) for k in range(_NODES)]
        coeffs = [2 / _NODES * sum(v * math.cos(math.pi * j * (k + 0.5) / _NODES) for k, v in enumerate(values))
                  for j in range(_NODES)]
        coeffs[0] /= 2
        _coefficients = coeffs[:_KEEP]  # the rest are below 3e-15: the rounding noise of the samples
    return _coefficients


def _erfc_positive(xp, z):
    """erfc(z) for z >= 0 (float64 arrays)."""
    coeffs = _chebyshev()
    t = 2 / (2 + z)
    y = 2 * t - 1
    b1 = b2 = 0.0
    for c in coeffs[:0:-1]:
        b1, b2 = 2 * y * b1 - b2 + c, b1
    return t * xp.exp(-z * z + (y * b1 - b2 + coeffs[0]))


_special = None


def _scipy_special(xp, x):
    """scipy.special when it is installed and ``x`` is a float32/float64 numpy array, else None."""
    global _special
    if xp.__name__ != "numpy" or x.dtype.char not in "fd":
        return None
    if _special is None:
        try:
            from scipy import special
        except ImportError:
            special = False
        _special = special
    return _special or None


def _erf_small(x):
    x2 = x * x
    acc = _TAYLOR[-1]
    for c in _TAYLOR[-2::-1]:
        acc = acc * x2 + c
    return acc * x


def erf(xp, x):
    special = _scipy_special(xp, x)
    if special is not None:
        return special.erf(x)
    dtype = x.dtype
    x = x.astype(xp.float64, copy=False)
    a = xp.abs(x)
    big = xp.sign(x) * (1 - _erfc_positive(xp, xp.maximum(a, 0.5)))
    return xp.where(a < 0.5, _erf_small(x), big).astype(dtype, copy=False)


def erfc(xp, x):
    special = _scipy_special(xp, x)
    if special is not None:
        return special.erfc(x)
    dtype = x.dtype
    x = x.astype(xp.float64, copy=False)
    a = xp.abs(x)
    tail = _erfc_positive(xp, xp.maximum(a, 0.5))
    out = xp.where(a < 0.5, 1 - _erf_small(x), xp.where(x < 0, 2 - tail, tail))
    return out.astype(dtype, copy=False)
