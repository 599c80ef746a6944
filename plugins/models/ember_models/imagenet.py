"""ImageNet inputs as EfficientNet-Lite was trained and evaluated on them, and the 1000 class names.

TensorFlow's EfficientNet evaluation (``preprocessing.py``, ``_decode_and_center_crop``) takes the
central square of side ``int(224 / (224 + 32) * min(height, width))``, resizes it to 224x224 with
``tf.image.resize_bicubic`` (TF1: ``align_corners=False``, ``half_pixel_centers=False``, Keys' cubic
with a = -0.75, no antialiasing), keeps the floats unrounded, and the Lite models then take
``(pixel - 127) / 128`` per RGB channel. :func:`preprocess` does exactly that; Pillow's own bicubic
resize is a different filter (a = -0.5, antialiased) and moves the logits visibly.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

__all__ = ["preprocess", "center_crop", "resize_bicubic_tf1", "read_rgb", "class_names", "MEAN_RGB", "STDDEV_RGB"]

IMAGE_SIZE = 224
CROP_PADDING = 32
MEAN_RGB = (127.0, 127.0, 127.0)  # the Lite models' inception-style normalisation, on 0..255 pixels
STDDEV_RGB = (128.0, 128.0, 128.0)
_TABLE_SIZE = 1024  # TensorFlow samples the cubic kernel at 1/1024 steps
_A = -0.75


def read_rgb(path) -> np.ndarray:
    """A JPEG/PNG/... file as uint8 (H, W, 3) RGB, decoded by Pillow; ValueError if it is not an image."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except UnidentifiedImageError:
        raise ValueError(f"{path}: not an image Pillow can read (JPEG, PNG, ...)") from None


def center_crop(image: np.ndarray, size: int = IMAGE_SIZE, crop_padding: int = CROP_PADDING) -> np.ndarray:
    """The central square TensorFlow's eval pipeline keeps: side int(size / (size + crop_padding) * min(H, W))."""
    height, width = image.shape[:2]
    side = int(np.float32(size / (size + crop_padding)) * np.float32(min(height, width)))
    top, left = (height - side + 1) // 2, (width - side + 1) // 2
    return image[top:top + side, left:left + side]


def _keys_cubic_table() -> np.ndarray:
    x = np.arange(_TABLE_SIZE + 1, dtype=np.float64) / _TABLE_SIZE  # exact; TF evaluates in double, stores float
    table = np.empty((_TABLE_SIZE + 1, 2), np.float32)
    table[:, 0] = ((_A + 2) * x - (_A + 3)) * x * x + 1
    x = x + 1
    table[:, 1] = ((_A * x - 5 * _A) * x + 8 * _A) * x - 4 * _A
    return table


def _resize_matrix(in_size: int, out_size: int) -> np.ndarray:
    """(out_size, in_size) weights of TF1's legacy bicubic resize along one axis (edge indices clamped)."""
    table = _keys_cubic_table()
    scale = np.float32(in_size) / np.float32(out_size)
    where = np.arange(out_size, dtype=np.float32) * scale
    start = np.floor(where).astype(np.int64)
    offset = np.rint((where - start) * _TABLE_SIZE).astype(np.int64)
    weights = np.stack([table[offset, 1], table[offset, 0], table[_TABLE_SIZE - offset, 0],
                        table[_TABLE_SIZE - offset, 1]], axis=1)
    matrix = np.zeros((out_size, in_size), np.float64)
    rows = np.arange(out_size)
    for tap in range(4):
        np.add.at(matrix, (rows, np.clip(start - 1 + tap, 0, in_size - 1)), weights[:, tap])
    return matrix


def resize_bicubic_tf1(image: np.ndarray, size: int = IMAGE_SIZE) -> np.ndarray:
    """(H, W, C) -> float32 (size, size, C) as TF1's ``tf.image.resize_bicubic`` computes it."""
    rows, cols = _resize_matrix(image.shape[0], size), _resize_matrix(image.shape[1], size)
    out = np.einsum("yh,hwc,xw->yxc", rows, image.astype(np.float64), cols, optimize=True)
    return out.astype(np.float32)


def preprocess(image, size: int = IMAGE_SIZE) -> np.ndarray:
    """An image (a path, or uint8 (H, W, 3) RGB) -> the float32 (3, size, size) network input."""
    if isinstance(image, (str, os.PathLike)):
        image = read_rgb(image)
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"preprocess: expected a uint8 (H, W, 3) RGB image, got {image.dtype} of shape {image.shape}")
    pixels = resize_bicubic_tf1(center_crop(image, size), size)
    pixels = (pixels - np.float32(MEAN_RGB)) / np.float32(STDDEV_RGB)
    return np.ascontiguousarray(pixels.transpose(2, 0, 1), dtype=np.float32)


@lru_cache(maxsize=1)
def class_names() -> tuple:
    """The 1000 ImageNet-1k class names, by class index (the names PyTorch's hub examples print)."""
    path = os.path.join(os.path.dirname(__file__), "imagenet_classes.txt")
    with open(path, encoding="utf-8") as f:
        names = tuple(line.strip() for line in f if line.strip())
    if len(names) != 1000:
        raise RuntimeError(f"{path}: expected 1000 ImageNet class names, found {len(names)}")
    return names
