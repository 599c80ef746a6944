"""Reading the images ``ember predict`` classifies: .npy arrays, and image files (PNG, JPEG, ...) via Pillow.

An image file becomes float32 luminance in [0, 1]: 8-bit and 16-bit grayscale are scaled by their
maximum, colour is turned into luminance with ITU-R 601 weights (0.299 R + 0.587 G + 0.114 B, the
weights Pillow's own "L" conversion uses) before any rounding, and alpha is ignored. ``write_png``
writes 8-bit grayscale, for tests and for exporting samples.
"""

from __future__ import annotations

import os

import numpy as np

from .config import TrainError

__all__ = ["read_images", "read_png", "read_image", "write_png"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
_LUMINANCE = np.array([0.299, 0.587, 0.114], np.float32)


def read_images(path: str, size: tuple, pixel_max: float) -> np.ndarray:
    """float32 (N, 1, H, W) in [0, 1] from a .npy or image file; TrainError if unreadable or the wrong size."""
    if not os.path.isfile(path):
        raise TrainError(f"image file {path!r} does not exist")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise TrainError(f"{path} is not a readable .npy array ({exc})") from None
        if array.dtype.kind in "iub":
            array = array.astype(np.float32) / np.float32(pixel_max)
        elif array.dtype.kind == "f":
            array = array.astype(np.float32)
        else:
            raise TrainError(f"{path}: expected a numeric array, got dtype {array.dtype}")
    elif ext in IMAGE_EXTENSIONS:
        array = read_image(path)
    else:
        raise TrainError(f"{path}: unsupported image type {ext or '(no extension)'}; give .npy or image files "
                         f"({', '.join(IMAGE_EXTENSIONS)})")
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 3 or tuple(array.shape[1:]) != tuple(size):
        raise TrainError(f"{path}: expected an image of {size[0]}x{size[1]} pixels (or a stack N x {size[0]} x "
                         f"{size[1]}), as the model was trained on; got shape {tuple(array.shape)}")
    return np.ascontiguousarray(array[:, None], dtype=np.float32)


def read_image(path: str) -> np.ndarray:
    """An image file (anything Pillow reads) as float32 (H, W) luminance in [0, 1]; TrainError if unreadable."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise TrainError(f"{path}: reading image files needs Pillow (pip install Pillow)") from None
    try:
        with Image.open(path) as image:
            image.load()
            return _luminance(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise TrainError(f"{path} is not a readable image file ({exc})") from None


read_png = read_image  # the name this module's PNG-only reader had


def _luminance(image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit grayscale
        return np.asarray(image, dtype=np.float32) / np.float32(65535.0)
    if image.mode not in ("L", "LA", "RGB", "RGBA"):  # palette, 1-bit, CMYK, ...
        image = image.convert("RGBA" if "transparency" in image.info or image.mode == "PA" else "RGB")
    pixels = np.asarray(image, dtype=np.float32) / np.float32(255.0)
    if image.mode in ("RGB", "RGBA"):
        return pixels[..., :3] @ _LUMINANCE
    return pixels if pixels.ndim == 2 else pixels[..., 0]


def write_png(path: str, image: np.ndarray) -> None:
    """Write a uint8 (H, W) array as an 8-bit grayscale PNG."""
    from PIL import Image
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8), mode="L").save(path, format="PNG")
