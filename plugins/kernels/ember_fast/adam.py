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

import numpy as np

__all__ = ["fused_adam"]

_loop = None


def _compile():
    global _loop
    import numba

    @numba.njit(cache=True, nogil=True)
    def adam_loop(param, grad, exp_avg, exp_avg_sq, max_sq, lr, beta1, beta2, eps, weight_decay, decoupled,
                  amsgrad, bias_correction1, bias_correction2_sqrt):
        one = param.dtype.type(1)
        step_size = lr / bias_correction1
        for i in range(param.size):
            g = grad[i]
            if weight_decay != 0:
                if decoupled:
                    param[i] *= one - lr * weight_decay
                else:
                    g = g + weight_decay * param[i]
            m = exp_avg[i] + (g - exp_avg[i]) * (one - beta1)
            v = exp_avg_sq[i] * beta2 + (one - beta2) * g * g
            exp_avg[i] = m
            exp_avg_sq[i] = v
            if amsgrad:
                if v > max_sq[i]:
                    max_sq[i] = v
                v = max_sq[i]
            param[i] -= step_size * (m / (np.sqrt(v) / bias_correction2_sqrt + eps))

    _loop = adam_loop
    return _loop


def _takes(param, *others):
    return param.dtype.char in "fd" and all(
        x is not None and x.dtype == param.dtype and x.flags.c_contiguous and x.shape == param.shape
        for x in (param,) + others)


def fused_adam(xp, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, lr, beta1, beta2, eps,
               weight_decay, amsgrad, decoupled):
    """``_fused_adam_``'s CPU kernel: the numpy reference's update, one compiled loop per parameter."""
    from ember_optim.adam import FusedAdam
    loop = _loop or _compile()
    for param, grad, exp_avg, exp_avg_sq, max_sq, step in zip(params, grads, exp_avgs, exp_avg_sqs,
                                                              max_exp_avg_sqs, steps):
        grad = np.ascontiguousarray(grad)
        if xp is not np or not _takes(param, grad, exp_avg, exp_avg_sq, *((max_sq,) if amsgrad else ())):
            FusedAdam.forward(xp, [param], [grad], [exp_avg], [exp_avg_sq], [max_sq], [step], lr=lr, beta1=beta1,
                              beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, decoupled=decoupled)
            continue
        real = param.dtype.type  # the reference's scalars meet float32 arrays as float32: so do these
        flat = param.reshape(-1)
        loop(flat, grad.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1),
             (max_sq if amsgrad else exp_avg_sq).reshape(-1), real(lr), real(beta1), real(beta2), real(eps),
             real(weight_decay), bool(decoupled), bool(amsgrad), real(1 - beta1 ** step),
             real((1 - beta2 ** step) ** 0.5))
