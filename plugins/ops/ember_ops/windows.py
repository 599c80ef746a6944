"""Window functions for spectral analysis (``torch.hann_window``, ``hamming_window``, ``blackman_window``,
``bartlett_window``, ``kaiser_window``): periodic by default (one sample longer, last dropped), as PyTorch."""

from __future__ import annotations

import math

import numpy as np

from ember.ops import OpTable, Sample

ops = OpTable()


def _window(n, periodic, fn, dtype, device, requires_grad):
    from ember import dtypes as _dt
    from ember.creation import tensor
    if n < 0:
        raise RuntimeError(f"window_length must be non-negative, got {n}")
    if n == 0:
        values = np.zeros(0)
    elif n == 1:
        values = np.ones(1)
    else:
        length = n + 1 if periodic else n
        values = fn(np.arange(length), length)[:n]
    dtype = dtype if dtype is not None else _dt.get_default_dtype()
    return tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)


def _samples(**extra):
    return lambda make: [Sample((5,), {"dtype": make.dtype, **extra}),
                         Sample((6, False), {"dtype": make.dtype, **extra}), Sample((1,), {"dtype": make.dtype, **extra})]


def _cosine(*coefs):
    def fn(k, length):
        return sum(c * (-1) ** i * np.cos(2 * math.pi * i * k / (length - 1)) for i, c in enumerate(coefs))
    return fn


@ops.op(namespaces=("ember",), differentiable=False, samples=_samples())
def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """0.5 - 0.5 cos(2 pi k / (N - 1)) (``torch.hann_window``).

    Shape:
        - window_length: a non-negative int.
        - output: ``(window_length,)``, ``dtype`` (the default float dtype unless given).

    Raises:
        RuntimeError: ``window_length`` is negative.

    PyTorch: ``torch.hann_window``."""
    return _window(window_length, periodic, _cosine(0.5, 0.5), dtype, device, requires_grad)


@ops.op(namespaces=("ember",), differentiable=False, samples=_samples())
def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False):
    """alpha - beta cos(2 pi k / (N - 1)) (``torch.hamming_window``).

    Shape:
        - window_length: a non-negative int.
        - output: ``(window_length,)``, ``dtype`` (the default float dtype unless given).

    Raises:
        RuntimeError: ``window_length`` is negative.

    PyTorch: ``torch.hamming_window``."""
    return _window(window_length, periodic, _cosine(alpha, beta), dtype, device, requires_grad)


@ops.op(namespaces=("ember",), differentiable=False, samples=_samples())
def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """0.42 - 0.5 cos(2 pi k / (N - 1)) + 0.08 cos(4 pi k / (N - 1)) (``torch.blackman_window``).

    Shape:
        - window_length: a non-negative int.
        - output: ``(window_length,)``, ``dtype`` (the default float dtype unless given).

    Raises:
        RuntimeError: ``window_length`` is negative.

    PyTorch: ``torch.blackman_window``."""
    return _window(window_length, periodic, _cosine(0.42, 0.5, 0.08), dtype, device, requires_grad)


@ops.op(namespaces=("ember",), differentiable=False, samples=_samples())
def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The triangular window 1 - |2k / (N - 1) - 1| (``torch.bartlett_window``).

    Shape:
        - window_length: a non-negative int.
        - output: ``(window_length,)``, ``dtype`` (the default float dtype unless given).

    Raises:
        RuntimeError: ``window_length`` is negative.

    PyTorch: ``torch.bartlett_window``."""
    return _window(window_length, periodic, lambda k, length: 1 - np.abs(2 * k / (length - 1) - 1), dtype, device,
                   requires_grad)


@ops.op(namespaces=("ember",), differentiable=False, samples=lambda make: [
    Sample((5, True, 8.0), {"dtype": make.dtype}), Sample((6, False, 12.0), {"dtype": make.dtype})])
def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False):
    """I0(beta sqrt(1 - (2k / (N - 1) - 1)^2)) / I0(beta) (``torch.kaiser_window``).

    Shape:
        - window_length: a non-negative int.
        - output: ``(window_length,)``, ``dtype`` (the default float dtype unless given).

    Raises:
        RuntimeError: ``window_length`` is negative.

    PyTorch: ``torch.kaiser_window``."""
    return _window(window_length, periodic,
                   lambda k, length: np.i0(beta * np.sqrt(np.clip(1 - (2 * k / (length - 1) - 1) ** 2, 0, None)))
                   / np.i0(beta), dtype, device, requires_grad)
