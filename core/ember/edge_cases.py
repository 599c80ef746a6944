"""The edge cases an op declares beside its samples: inputs it must refuse (:class:`ErrorInput`), extreme
inputs where a naive formula overflows (:class:`StabilityInput`), and the checks it opts out of, each
with a reason (:data:`SKIPPABLE_CHECKS`).

As PyTorch's OpInfo keeps ``error_inputs_func`` and ``skips`` in the op's record, an :class:`ember.ops.Op`
takes ``errors=`` and ``stability=`` (functions of the sample maker ``make``, like ``samples=``, so each
case is built on every device and dtype the kit checks) and ``skips={check: reason}``. The conformance
kit (:mod:`ember.testing.op_cases`) runs them; nothing about an op's edge cases lives in another file.
"""

from __future__ import annotations

from dataclasses import dataclass

# The checks of :func:`ember.testing.check_op` an op may opt out of with ``skips={check: reason}``.
SKIPPABLE_CHECKS = ("oracle", "gradcheck", "gradgradcheck")


@dataclass(frozen=True)
class ErrorInput:
    """One call the op must refuse: ``op(*sample.args, **sample.kwargs)`` raises ``error`` (a subclass
    of it passes) with a message that ``re.search(match, message)`` finds. Where the op's PyTorch
    counterpart refuses the same call, the exception must also be an instance of PyTorch's class.

    ``error`` may be a Warning class instead: the call must then emit that warning, matching ``match``
    (PyTorch's "using a target size that is different to the input size" warnings are edge cases too).
    With ``backward=True`` the call succeeds and it is backward through the sum of its result that must
    raise (a derivative PyTorch does not implement either).
    """

    sample: object  # an ember.ops.Sample
    error: type = RuntimeError
    match: str = ""
    backward: bool = False

    def __repr__(self) -> str:
        return f"ErrorInput({self.sample!r}, {self.error.__name__}, {self.match!r})"


@dataclass(frozen=True)
class StabilityInput:
    """Extreme inputs where a naive formula overflows, underflows or cancels (``exp(1e4)``, ``1e6 +
    noise``): the op's values, and the gradients of their sum, must agree with PyTorch's counterpart
    (and with ``expected`` where given: numbers the forward must equal) within ``rtol``/``atol``.

    With ``finite`` (the default) values and gradients must also be finite; ``finite=False`` is for
    results that are rightly infinite (the CTC loss of an infeasible target, logsumexp of -inf), where
    only the forward is compared. ``dtypes`` limits the case to some of the op's dtypes (a float64-only
    accuracy claim); by default it runs in each.
    """

    sample: object  # an ember.ops.Sample
    expected: object = None
    finite: bool = True
    rtol: float = 1e-5
    atol: float = 1e-6
    dtypes: tuple | None = None

    def __repr__(self) -> str:
        return f"StabilityInput({self.sample!r})"


def check_skips(op_name: str, skips: dict) -> dict:
    """``skips`` as a dict, each key a check the kit can skip and each reason said (a ValueError otherwise)."""
    skips = dict(skips or {})
    for check, reason in skips.items():
        if check not in SKIPPABLE_CHECKS:
            raise ValueError(f"op {op_name!r}: skips= names unknown check {check!r}; expected one of "
                             f"{SKIPPABLE_CHECKS}")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"op {op_name!r}: skips={{{check!r}: ...}} needs the reason as a non-empty string, "
                             f"got {reason!r}")
    return skips
