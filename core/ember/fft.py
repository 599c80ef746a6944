"""``ember.fft``: the real-valued parts of ``torch.fft``: ``fftfreq``, ``rfftfreq``, ``fftshift``,
``ifftshift``.

The transforms themselves (``fft``, ``rfft``, ``ifft``, ``irfft``, ``fft2``, ``fftn``, ...) return or take
complex tensors in PyTorch, and ember has no complex dtypes yet; they raise NotImplementedError naming
that, rather than return something that is not PyTorch's answer (docs/api-coverage.md).
"""

from __future__ import annotations

__all__ = ["fftfreq", "rfftfreq", "fftshift", "ifftshift", "fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2",
           "irfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfft", "ihfft"]


def fftfreq(n: int, d: float = 1.0, *, dtype=None, device=None, requires_grad=False):
    """The sample frequencies of an n-point FFT with spacing ``d``: [0, 1, ..., -1] / (d n)."""
    from .creation import arange
    positive = (n - 1) // 2 + 1
    idx = arange(n, dtype=dtype, device=device)
    freqs = (idx - (idx >= positive).to(idx.dtype) * n) / (d * n)
    return freqs.requires_grad_(requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, dtype=None, device=None, requires_grad=False):
    """The non-negative sample frequencies of an n-point real FFT: [0, ..., n // 2] / (d n)."""
    from .creation import arange
    return (arange(n // 2 + 1, dtype=dtype, device=device) / (d * n)).requires_grad_(requires_grad)


def _dims(input, dim):
    if dim is None:
        return tuple(range(input.dim()))
    return (dim,) if isinstance(dim, int) else tuple(dim)


def fftshift(input, dim=None):
    """Move the zero frequency to the middle: a roll by n // 2 along ``dim`` (all dims by default)."""
    dims = _dims(input, dim)
    return input.roll(tuple(input.shape[d] // 2 for d in dims), dims)


def ifftshift(input, dim=None):
    """The inverse of :func:`fftshift`: a roll by -(n // 2)."""
    dims = _dims(input, dim)
    return input.roll(tuple(-(input.shape[d] // 2) for d in dims), dims)


def _needs_complex(name):
    def transform(*args, **kwargs):
        raise NotImplementedError(f"ember.fft.{name}: the result (or input) of this transform is complex in PyTorch, "
                                  f"and ember has no complex dtypes yet")
    transform.__name__ = name
    transform.__doc__ = f"``torch.fft.{name}``: needs complex tensors, which ember does not have; raises."
    return transform


for _name in ("fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn",
              "hfft", "ihfft"):
    globals()[_name] = _needs_complex(_name)
