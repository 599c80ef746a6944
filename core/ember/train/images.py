"""Reading the images ``ember predict`` classifies: .npy arrays and .png files (Pillow not required).

The PNG reader handles what image tools write for single images: 8/16-bit grayscale, gray+alpha, RGB
and RGBA, non-interlaced; colour is turned into luminance. ``write_png`` writes 8-bit grayscale, for
tests and for exporting samples.
"""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np

from .config import TrainError

__all__ = ["read_images", "read_png", "write_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def read_images(path: str, size: tuple, pixel_max: float) -> np.ndarray:
    """float32 (N, 1, H, W) in [0, 1] from a .npy or .png file; TrainError if unreadable or the wrong size."""
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
    elif ext == ".png":
        array = read_png(path)
    else:
        raise TrainError(f"{path}: unsupported image type {ext or '(no extension)'}; give .npy or .png files")
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 3 or tuple(array.shape[1:]) != tuple(size):
        raise TrainError(f"{path}: expected an image of {size[0]}x{size[1]} pixels (or a stack N x {size[0]} x "
                         f"{size[1]}), as the model was trained on; got shape {tuple(array.shape)}")
    return np.ascontiguousarray(array[:, None], dtype=np.float32)


def read_png(path: str) -> np.ndarray:
    """A PNG file as float32 (H, W) luminance in [0, 1]."""
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.startswith(_SIGNATURE):
        raise TrainError(f"{path} is not a PNG file (bad signature)")
    pos, header, chunks = 8, None, []
    try:
        while pos < len(raw):
            length, kind = struct.unpack(">I4s", raw[pos:pos + 8])
            body = raw[pos + 8:pos + 8 + length]
            pos += 12 + length
            if kind == b"IHDR":
                header = struct.unpack(">IIBBBBB", body)
            elif kind == b"IDAT":
                chunks.append(body)
            elif kind == b"IEND":
                break
        width, height, depth, color, _, _, interlace = header
        data = zlib.decompress(b"".join(chunks))
    except (struct.error, zlib.error, TypeError) as exc:
        raise TrainError(f"{path} is a corrupt PNG file ({exc})") from None
    if color not in _CHANNELS or depth not in (8, 16) or interlace:
        raise TrainError(f"{path}: unsupported PNG (colour type {color}, bit depth {depth}, interlace "
                         f"{interlace}); save it as 8-bit grayscale or RGB, non-interlaced")
    channels, sample = _CHANNELS[color], depth // 8
    pixels = _unfilter(data, height, width * channels * sample, channels * sample, path)
    dtype = np.dtype(">u2") if sample == 2 else np.uint8
    image = pixels.view(dtype).reshape(height, width, channels).astype(np.float32) / (65535.0 if sample == 2 else 255.0)
    if channels in (3, 4):
        return image[..., 0] * 0.299 + image[..., 1] * 0.587 + image[..., 2] * 0.114
    return image[..., 0]


def _unfilter(data: bytes, height: int, stride: int, bpp: int, path: str) -> np.ndarray:
    if len(data) != height * (stride + 1):
        raise TrainError(f"{path} is a corrupt PNG file (image data has {len(data)} bytes, expected "
                         f"{height * (stride + 1)})")
    rows = np.frombuffer(data, np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        cur = np.zeros(stride, np.int32)
        for x in range(stride):
            left = cur[x - bpp] if x >= bpp else 0
            up = prev[x]
            upleft = prev[x - bpp] if x >= bpp else 0
            if kind == 0:
                predictor = 0
            elif kind == 1:
                predictor = left
            elif kind == 2:
                predictor = up
            elif kind == 3:
                predictor = (left + up) // 2
            elif kind == 4:
                p = left + up - upleft
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upleft)
            else:
                raise TrainError(f"{path} is a corrupt PNG file (unknown filter type {kind} in row {y})")
            cur[x] = (line[x] + predictor) & 0xFF
        out[y] = cur
        prev = cur
    return out


def write_png(path: str, image: np.ndarray) -> None:
    """Write a uint8 (H, W) array as an 8-bit grayscale PNG."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    height, width = image.shape

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + image[y].tobytes() for y in range(height))
    with open(path, "wb") as f:
        f.write(_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
