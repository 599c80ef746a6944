"""Adam/AdamW as one compiled loop per parameter: the kernel ember_fast registers for ``_fused_adam_``.

numpy's Adam makes about ten passes over each parameter, most of them writing a temporary; this loop
reads each element of the parameter, gradient and moments once and writes them back once. It computes
in the parameters' dtype with the same operations in the same order as the numpy reference
(``ember_optim.adam.FusedAdam.forward``), so float64 runs agree with it to rounding.

numba is imported, and the loop compiled (cached on disk), at the first optimizer step, not at
``import ember``. Parameters the loop does not take (non-contiguous, or not float32/float64) go through
the numpy reference.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["fused_adam"]

_loops = None


def _compile():
    """The two loops, compiled on first use (and cached on disk by numba): the common case (no weight
    decay, no amsgrad) without a branch, so that LLVM vectorises it, and the general one."""
    global _loops
    from .jit import import_numba
    numba = import_numba()

    @numba.njit(cache=True, nogil=True)
    def plain(param, grad, exp_avg, exp_avg_sq, keep1, beta2, keep2, step_size, bias_correction2_sqrt, eps):
        for i in range(param.size):
            g = grad[i]
            m = exp_avg[i] + (g - exp_avg[i]) * keep1
            v = exp_avg_sq[i] * beta2 + keep2 * g * g
            exp_avg[i] = m
            exp_avg_sq[i] = v
            param[i] -= step_size * (m / (np.sqrt(v) / bias_correction2_sqrt + eps))

    @numba.njit(cache=True, nogil=True)
    def general(param, grad, exp_avg, exp_avg_sq, max_sq, keep1, beta2, keep2, step_size, bias_correction2_sqrt,
                eps, l2, decay, amsgrad):
        for i in range(param.size):
            g = grad[i]
            param[i] *= decay
            g = g + l2 * param[i]
            m = exp_avg[i] + (g - exp_avg[i]) * keep1
            v = exp_avg_sq[i] * beta2 + keep2 * g * g
            exp_avg[i] = m
            exp_avg_sq[i] = v
            if amsgrad:
                v = max(max_sq[i], v)
                max_sq[i] = v
            param[i] -= step_size * (m / (np.sqrt(v) / bias_correction2_sqrt + eps))

    _loops = plain, general
    return _loops


def _takes(param, *others):
    return param.dtype.char in "fd" and all(
        x is not None and x.dtype == param.dtype and x.flags.c_contiguous and x.shape == param.shape
        for x in (param,) + others)


def fused_adam(xp, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, lr, beta1, beta2, eps,
               weight_decay, amsgrad, decoupled):
    """``_fused_adam_``'s CPU kernel: the numpy reference's update, one compiled loop per parameter."""
    from ember_optim.adam import FusedAdam
    try:
        plain, general = _loops or _compile()
    except ImportError as exc:  # numba installed but unusable (e.g. built for another numpy)
        warnings.warn(f"ember_fast: numba cannot be imported ({exc}); Adam runs on numpy", RuntimeWarning,
                      stacklevel=2)
        plain = general = None
    for param, grad, exp_avg, exp_avg_sq, max_sq, step in zip(params, grads, exp_avgs, exp_avg_sqs,
                                                              max_exp_avg_sqs, steps):
        grad = np.ascontiguousarray(grad)
        if plain is None or xp is not np or not _takes(param, grad, exp_avg, exp_avg_sq, *((max_sq,) if amsgrad else ())):
            FusedAdam.forward(xp, [param], [grad], [exp_avg], [exp_avg_sq], [max_sq], [step], lr=lr, beta1=beta1,
                              beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, decoupled=decoupled)
            continue
        # the reference's Python-float scalars meet the arrays rounded to their dtype: so do these
        real = param.dtype.type
        common = (real(1 - beta1), real(beta2), real(1 - beta2), real(lr / (1 - beta1 ** step)),
                  real((1 - beta2 ** step) ** 0.5), real(eps))
        arrays = (param.reshape(-1), grad.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1))
        if not weight_decay and not amsgrad:
            plain(*arrays, *common)
        else:
            l2, decay = (0.0, 1 - lr * weight_decay) if decoupled else (weight_decay, 1.0)
            general(*arrays, (max_sq if amsgrad else exp_avg_sq).reshape(-1), *common, real(l2), real(decay),
                    bool(amsgrad))
