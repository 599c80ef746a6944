"""``ember.transforms``: the common image transforms of ``torchvision.transforms``, on arrays and tensors.

Images are numpy arrays (H, W) or (H, W, C) before ``ToTensor`` (standing in for PIL images; a PIL
image is accepted too when Pillow is installed) and tensors (C, H, W) after. Random transforms take an
optional ``generator`` (an ember extension); without one they draw from ember's default generator, so
``ember.manual_seed`` makes them repeatable.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda", "RandomCrop", "RandomHorizontalFlip"]


class Compose:
    """Apply ``transforms`` in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return "Compose(\n" + "".join(f"    {t!r}\n" for t in self.transforms) + ")"


class ToTensor:
    """An image array (H, W[, C]) to a float32 tensor (C, H, W); uint8 values are scaled to [0, 1]."""

    def __call__(self, pic):
        from .creation import from_numpy
        from .tensor import Tensor
        if isinstance(pic, Tensor):
            raise TypeError("ToTensor: pic should be a numpy array or PIL image, got an ember Tensor "
                            "(it is already a tensor)")
        if type(pic).__module__.startswith("PIL."):
            pic = np.asarray(pic)
        if not isinstance(pic, np.ndarray):
            raise TypeError(f"ToTensor: pic should be a numpy array or PIL image, got {type(pic).__name__}")
        if pic.ndim not in (2, 3):
            raise ValueError(f"ToTensor: pic should be 2 or 3 dimensional (H, W[, C]), got {pic.ndim} dimensions")
        array = pic[:, :, None] if pic.ndim == 2 else pic
        array = np.ascontiguousarray(array.transpose(2, 0, 1))
        if array.dtype == np.uint8:
            return from_numpy(array.astype(np.float32) / np.float32(255))
        if array.dtype == np.bool_:
            array = array.astype(np.float32)
        return from_numpy(array)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """``(x - mean) / std`` per channel of a (..., C, H, W) float tensor."""

    def __init__(self, mean, std, inplace: bool = False):
        self.mean, self.std, self.inplace = list(np.atleast_1d(mean)), list(np.atleast_1d(std)), inplace
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std evaluated to zero after conversion to float, leading to "
                             f"division by zero (std={self.std})")

    def __call__(self, tensor):
        from .tensor import Tensor
        from .creation import tensor as make_tensor
        if not isinstance(tensor, Tensor) or not tensor.is_floating_point():
            raise TypeError(f"Normalize: input should be a float tensor, got "
                            f"{getattr(tensor, 'dtype', type(tensor).__name__)}")
        if tensor.ndim < 3:
            raise ValueError(f"Normalize: expected a tensor image of shape (..., C, H, W), got shape "
                             f"{tuple(tensor.shape)}")
        mean = make_tensor(self.mean, dtype=tensor.dtype, device=tensor.device).reshape(-1, 1, 1)
        std = make_tensor(self.std, dtype=tensor.dtype, device=tensor.device).reshape(-1, 1, 1)
        out = (tensor - mean) / std
        if self.inplace:
            tensor.data = out
            return tensor
        return out

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Lambda:
    """Apply a user function."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self) -> str:
        return "Lambda()"


def _as_host(img):
    """(array, is_tensor, rebuild): the image's data as numpy (H, W[, C]) or (..., C, H, W), and how to return it."""
    from .creation import from_numpy
    from .tensor import Tensor
    if isinstance(img, Tensor):
        device = img.device
        return np.asarray(img.detach()._host()), True, lambda a: from_numpy(np.ascontiguousarray(a)).to(device)
    array = np.asarray(img)
    return array, False, np.ascontiguousarray


def _uniform(generator) -> float:
    from .random import default_generator
    gen = generator if generator is not None else default_generator("cpu")
    return float(gen.stream.random((), np.float64))


def _integer(high: int, generator) -> int:
    from .random import default_generator
    gen = generator if generator is not None else default_generator("cpu")
    return int(gen.stream.integers(0, high, (), np.int64))


class RandomHorizontalFlip:
    """Mirror the image left-right with probability ``p``."""

    def __init__(self, p: float = 0.5, generator=None):
        self.p, self.generator = p, generator

    def __call__(self, img):
        if _uniform(self.generator) >= self.p:
            return img
        array, is_tensor, rebuild = _as_host(img)
        width_axis = -1 if is_tensor else 1
        return rebuild(np.flip(array, axis=width_axis))

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomCrop:
    """Crop a random ``size`` window, after optional ``padding`` (int, (lr, tb) or (l, t, r, b))."""

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0, padding_mode: str = "constant",
                 generator=None):
        self.size = (int(size), int(size)) if isinstance(size, numbers.Number) else tuple(int(s) for s in size)
        if len(self.size) != 2:
            raise ValueError(f"RandomCrop: size should be an int or a (height, width) pair, got {size!r}")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"RandomCrop: padding_mode should be constant, edge, reflect or symmetric, "
                             f"got {padding_mode!r}")
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = padding, pad_if_needed, fill, padding_mode
        self.generator = generator

    @staticmethod
    def _ltrb(padding):
        if isinstance(padding, numbers.Number):
            return (int(padding),) * 4
        padding = tuple(int(p) for p in padding)
        if len(padding) == 2:
            return (padding[0], padding[1], padding[0], padding[1])
        if len(padding) == 4:
            return padding
        raise ValueError(f"RandomCrop: padding should be an int or a 2 or 4 element sequence, got {padding!r}")

    def _pad(self, array, is_tensor, left, top, right, bottom):
        h_axis, w_axis = (array.ndim - 2, array.ndim - 1) if is_tensor else (0, 1)
        widths = [(0, 0)] * array.ndim
        widths[h_axis], widths[w_axis] = (top, bottom), (left, right)
        if self.padding_mode == "constant":
            return np.pad(array, widths, mode="constant", constant_values=self.fill)
        return np.pad(array, widths, mode=self.padding_mode)

    def __call__(self, img):
        array, is_tensor, rebuild = _as_host(img)
        h_axis, w_axis = (array.ndim - 2, array.ndim - 1) if is_tensor else (0, 1)
        if self.padding is not None:
            array = self._pad(array, is_tensor, *self._ltrb(self.padding))
        th, tw = self.size
        if self.pad_if_needed:
            dh, dw = max(th - array.shape[h_axis], 0), max(tw - array.shape[w_axis], 0)
            if dh or dw:
                array = self._pad(array, is_tensor, dw, dh, dw, dh)
        h, w = array.shape[h_axis], array.shape[w_axis]
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than the input image size {(h, w)}")
        top = _integer(h - th + 1, self.generator)
        left = _integer(w - tw + 1, self.generator)
        index = [slice(None)] * array.ndim
        index[h_axis], index[w_axis] = slice(top, top + th), slice(left, left + tw)
        return rebuild(array[tuple(index)])

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"
