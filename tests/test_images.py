"""mnist_core.images.load_image: pictures in, uint8 arrays out, clear errors otherwise."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from mnist_core.images import ImageError, load_image


def encode(array: np.ndarray, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.fixture
def grey():
    """A 40×30 greyscale picture with distinct pixel values."""
    return (np.arange(40 * 30).reshape(40, 30) % 251).astype(np.uint8)


def test_png_grey_round_trips(grey, tmp_path):
    """A greyscale PNG is returned exactly, from bytes or from a path."""
    data = encode(grey, "PNG")
    loaded = load_image(data)
    assert loaded.dtype == np.uint8 and loaded.shape == (40, 30)
    np.testing.assert_array_equal(loaded, grey)
    path = tmp_path / "digit.png"
    path.write_bytes(data)
    np.testing.assert_array_equal(load_image(path), grey)
    np.testing.assert_array_equal(load_image(str(path)), grey)


def test_png_rgba_keeps_transparency():
    """A transparent PNG keeps its alpha: that is where a canvas drawing's ink is."""
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[5:15, 10:20] = [0, 0, 0, 255]
    rgba[0, 0] = [10, 20, 30, 128]
    loaded = load_image(encode(rgba, "PNG"))
    assert loaded.shape == (20, 30, 4) and loaded.dtype == np.uint8
    np.testing.assert_array_equal(loaded, rgba)


def test_palette_png_with_transparency_becomes_rgba(grey):
    """Transparency in a palette image (tRNS) is kept too, as RGBA."""
    data = encode(np.asarray(Image.fromarray(grey).convert("P")), "PNG", transparency=0)
    loaded = load_image(data)
    assert loaded.shape == (40, 30, 4)
    assert loaded[..., 3].min() == 0 and loaded[..., 3].max() == 255


def test_rgb_png_without_alpha_becomes_grey():
    """Opaque colour pictures are returned as greyscale, the form the digit needs."""
    rgb = np.zeros((10, 12, 3), np.uint8)
    rgb[..., 0] = 200  # red
    loaded = load_image(encode(rgb, "PNG"))
    assert loaded.shape == (10, 12)
    expected = round(200 * 299 / 1000)  # ITU-R 601-2 luma, as Pillow converts
    assert abs(int(loaded[0, 0]) - expected) <= 1


def test_jpeg_is_read(grey):
    """A JPEG (lossy) loads as greyscale close to the original."""
    rgb = np.repeat(grey[..., None], 3, axis=2)
    loaded = load_image(encode(rgb, "JPEG", quality=95))
    assert loaded.shape == (40, 30) and loaded.dtype == np.uint8
    assert np.abs(loaded.astype(int) - grey.astype(int)).mean() < 8


def test_empty_bytes(grey):
    with pytest.raises(ImageError, match="empty"):
        load_image(b"")


def test_random_bytes():
    """Not an image: say so, and name the formats we read."""
    with pytest.raises(ImageError, match="not a picture this app can read") as error:
        load_image(np.random.default_rng(1).bytes(2000), name="upload.png")
    assert "upload.png" in str(error.value) and "PNG" in str(error.value)


def test_truncated_png(grey):
    """Half a PNG (an interrupted upload) is an error, not a half-black digit."""
    data = encode(grey, "PNG", compress_level=0)
    with pytest.raises(ImageError, match="could not be read") as error:
        load_image(data[: len(data) // 2], name="half.png")
    assert "half.png" in str(error.value)


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.png"
    with pytest.raises(ImageError, match="does not exist") as error:
        load_image(path)
    assert str(path) in str(error.value)


def test_text_file_named_png(tmp_path):
    """A path to a non-image names that path."""
    path = tmp_path / "notes.png"
    path.write_text("this is not a picture\n")
    with pytest.raises(ImageError, match="not a picture this app can read") as error:
        load_image(path)
    assert str(path) in str(error.value)
