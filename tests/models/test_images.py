"""`ember predict`'s image reader (Pillow): grayscale and colour, 8 and 16 bits, JPEG, and clear errors."""

import numpy as np
import pytest

pytest.importorskip("PIL", reason="image files are read with Pillow")

from PIL import Image  # noqa: E402

from ember.train.config import TrainError  # noqa: E402
from ember.train.images import read_image, read_images, write_png  # noqa: E402


def test_write_png_then_read_gives_the_pixels_scaled_to_unit(tmp_path):
    pixels = np.arange(48, dtype=np.uint8).reshape(6, 8) * 5
    write_png(tmp_path / "g.png", pixels)
    np.testing.assert_allclose(read_image(str(tmp_path / "g.png")), pixels / np.float32(255), rtol=1e-6)


def test_colour_becomes_itu601_luminance_before_rounding(tmp_path):
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]], np.uint8)
    Image.fromarray(rgb).save(tmp_path / "c.png")
    Image.fromarray(np.dstack([rgb, np.full((1, 4), 7, np.uint8)])).save(tmp_path / "a.png")
    expected = (rgb / 255.0) @ np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(read_image(str(tmp_path / "c.png")), expected, rtol=1e-5)
    np.testing.assert_allclose(read_image(str(tmp_path / "a.png")), expected, rtol=1e-5)  # alpha ignored


def test_16_bit_grayscale_is_scaled_by_65535(tmp_path):
    pixels = np.array([[0, 1000, 65535]], np.uint16)
    Image.fromarray(pixels).save(tmp_path / "d.png")
    np.testing.assert_allclose(read_image(str(tmp_path / "d.png")), pixels / 65535.0, rtol=1e-6)


def test_jpeg_is_read_and_sized_as_a_stack(tmp_path):
    Image.fromarray(np.full((8, 8), 128, np.uint8)).save(tmp_path / "x.jpg", quality=100)
    images = read_images(str(tmp_path / "x.jpg"), (8, 8), 255.0)
    assert images.shape == (1, 1, 8, 8) and images.dtype == np.float32
    assert abs(float(images.mean()) - 128 / 255) < 2 / 255


def test_a_file_that_is_not_an_image_is_a_clear_error(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not a png at all")
    with pytest.raises(TrainError, match="bad.png is not a readable image file"):
        read_image(str(tmp_path / "bad.png"))
    with pytest.raises(TrainError, match="expected an image of 4x4 pixels"):
        write_png(tmp_path / "big.png", np.zeros((5, 5), np.uint8))
        read_images(str(tmp_path / "big.png"), (4, 4), 255.0)
