"""Uploads: a photo or scan of a digit goes through load_image and preprocess to the model;
anything that is not a readable picture gives an ImageError naming the file, never a crash.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from mnist_core import images
from mnist_core.images import ImageError, load_image
from mnist_core.predict import predict_proba
from mnist_core.preprocess import preprocess_canvas

NAME = "my_digit.png"


def encode(image: Image.Image | np.ndarray, fmt: str, **options) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo_of(digit: np.ndarray, size: tuple[int, int], box: tuple[int, int, int], seed: int = 0,
             paper: float = 200, pen: float = 40, noise: float = 4) -> np.ndarray:
    """A photo-like picture (H×W grey uint8): the MNIST digit scaled up, dark ink on grey
    paper with a little Gaussian noise. `box` = (top, left, side) of the scaled digit."""
    top, left, side = box
    big = np.asarray(
        Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR), np.float64
    )
    strength = np.zeros(size)
    strength[top : top + side, left : left + side] = big / 255
    picture = paper + (pen - paper) * strength
    picture += np.random.default_rng(seed).normal(0, noise, size)
    return np.clip(np.round(picture), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def read_right(mnist, trained_model):
    """Indices of the first test digits the model reads right, as 28×28 originals."""
    x = mnist.x_test[:40] / 255.0
    right = predict_proba(trained_model, x).argmax(axis=1) == mnist.y_test[:40]
    return [int(i) for i in np.flatnonzero(right)[:8]]


def read(model, picture: np.ndarray) -> int:
    x = preprocess_canvas(picture)
    assert x is not None, "the upload should contain a digit"
    return int(predict_proba(model, x).argmax())


# --- Photos and scans that should be read ------------------------------------------------


def test_a_jpeg_photo_of_a_digit_on_grey_paper_is_read_right(mnist, trained_model, read_right):
    """×10 digits, inverted onto grey (200) paper with noise, saved as JPEG, read back."""
    wrong = []
    for index in read_right:
        photo = photo_of(mnist.x_test[index], (280, 280), (0, 0, 280), seed=index)
        data = encode(photo, "JPEG", quality=85)
        loaded = load_image(data, name="photo.jpg")
        assert loaded.dtype == np.uint8 and loaded.shape == (280, 280)
        if read(trained_model, loaded) != mnist.y_test[index]:
            wrong.append(index)
    assert not wrong, f"misread uploads of test digits {wrong}"


def test_an_off_centre_photo_in_landscape_is_read_right(mnist, trained_model, read_right):
    """The digit small and to one side of a 4:3 photo, as a phone would take it."""
    index = read_right[0]
    photo = photo_of(mnist.x_test[index], (300, 400), (150, 40, 120), seed=1)
    loaded = load_image(encode(photo, "JPEG", quality=80), name="phone.jpg")
    assert loaded.shape == (300, 400)
    assert read(trained_model, loaded) == mnist.y_test[index]


def test_a_png_scan_with_transparency_is_read_right(mnist, trained_model, read_right):
    """A transparent PNG with black ink in alpha: what a drawing app exports."""
    index = read_right[1]
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = np.asarray(Image.fromarray(mnist.x_test[index]).resize((280, 280)))
    loaded = load_image(encode(rgba, "PNG"), name=NAME)
    assert loaded.shape == (280, 280, 4)
    assert read(trained_model, loaded) == mnist.y_test[index]


def test_a_large_jpeg_is_shrunk_and_still_read_right(mnist, trained_model, read_right):
    """A 4000×3000 photo comes back with its longer side at most MAX_SIDE, aspect kept."""
    index = read_right[2]
    photo = photo_of(mnist.x_test[index], (3000, 4000), (500, 1200, 2000), seed=2, noise=6)
    data = encode(photo, "JPEG", quality=90)
    loaded = load_image(data, name="huge.jpg")
    assert max(loaded.shape) <= images.MAX_SIDE
    assert max(loaded.shape) >= images.MAX_SIDE // 2  # shrunk, not to a thumbnail
    assert loaded.shape[1] / loaded.shape[0] == pytest.approx(4 / 3, rel=0.02)
    assert read(trained_model, loaded) == mnist.y_test[index]


def test_a_large_png_is_shrunk_too():
    """PNGs have no reduced decoding like JPEG's draft mode, but are shrunk all the same."""
    picture = np.full((1500, 2400), 230, np.uint8)
    picture[500:1000, 1000:1100] = 20
    loaded = load_image(encode(picture, "PNG"), name="scan.png")
    assert max(loaded.shape) <= images.MAX_SIDE
    assert loaded.shape[1] / loaded.shape[0] == pytest.approx(2400 / 1500, rel=0.02)


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "WEBP"])
def test_other_formats_pillow_reads_load_without_a_crash(mnist, fmt):
    picture = photo_of(mnist.x_test[0], (120, 90), (10, 5, 80), noise=0)
    loaded = load_image(encode(picture, fmt), name=f"digit.{fmt.lower()}")
    assert loaded.dtype == np.uint8
    assert loaded.shape[:2] == (120, 90)
    assert preprocess_canvas(loaded) is not None


def test_a_transparent_gif_loads_as_rgba():
    frame = Image.new("P", (40, 30), 0)
    frame.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    frame.paste(1, (10, 5, 30, 25))
    loaded = load_image(encode(frame, "GIF", transparency=0), name="anim.gif")
    assert loaded.shape == (30, 40, 4)


# --- Files that are not pictures: a clear ImageError naming the file ---------------------


def png_bytes(size=(1, 1)) -> bytes:
    return encode(np.zeros(size[::-1], np.uint8), "PNG")


NOISY_PNG = encode(np.random.default_rng(1).integers(0, 256, (200, 200), dtype=np.uint8), "PNG")


def with_ihdr_size(png: bytes, width: int, height: int) -> bytes:
    """The PNG with its header claiming width×height, checksum recomputed."""
    assert png[12:16] == b"IHDR"
    chunk = b"IHDR" + struct.pack(">II", width, height) + png[24:29]
    return png[:12] + chunk + struct.pack(">I", zlib.crc32(chunk)) + png[33:]


BAD_FILES = {
    "empty": b"",
    "random-bytes": np.random.default_rng(0).bytes(4096),
    "text-renamed": b"These are my notes, not a picture.\n" * 20,
    "png-signature-only": png_bytes()[:8],
    "truncated-header": NOISY_PNG[:30],
    "truncated-data": NOISY_PNG[:100],
    "truncated-half": NOISY_PNG[: len(NOISY_PNG) // 2],
    "truncated-jpeg": encode(
        np.random.default_rng(2).integers(0, 256, (200, 200), dtype=np.uint8), "JPEG"
    )[:3000],
    "html": b"<!DOCTYPE html><html><body>404 Not Found</body></html>",
    "bomb-100000x100000": with_ihdr_size(png_bytes(), 100_000, 100_000),
    "bomb-20000x9000": with_ihdr_size(png_bytes(), 20_000, 9_000),
    "over-max-pixels-7000x7000": with_ihdr_size(png_bytes(), 7_000, 7_000),
}


@pytest.mark.parametrize("data", list(BAD_FILES.values()), ids=list(BAD_FILES))
def test_unreadable_uploads_raise_an_image_error_naming_the_file(data):
    with pytest.raises(ImageError) as error:
        load_image(data, name=NAME)
    message = str(error.value)
    assert NAME in message
    assert len(message) < 300, "one clear sentence, not a traceback"
    print(f"\n{message}")


def test_specific_messages():
    assert str(pytest.raises(ImageError, load_image, b"", name=NAME).value) == f"{NAME} is empty."
    assert "not a picture this app can read" in str(pytest.raises(ImageError, load_image, BAD_FILES["text-renamed"],
                                               name=NAME).value)
    assert "too large" in str(pytest.raises(
        ImageError, load_image, BAD_FILES["over-max-pixels-7000x7000"], name=NAME).value)
    assert "7000×7000" in str(pytest.raises(
        ImageError, load_image, BAD_FILES["over-max-pixels-7000x7000"], name=NAME).value)
    assert "too large" in str(pytest.raises(
        ImageError, load_image, BAD_FILES["bomb-100000x100000"], name=NAME).value)


def test_bytes_without_a_name_are_called_the_upload():
    with pytest.raises(ImageError, match="^the upload is empty"):
        load_image(b"")


def test_a_missing_path_is_an_image_error(tmp_path):
    path = tmp_path / "nowhere.png"
    with pytest.raises(ImageError, match="nowhere.png does not exist"):
        load_image(path)


def test_a_text_file_renamed_png_on_disk_is_an_image_error(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not a picture\n")
    with pytest.raises(ImageError, match="notes.png is not a picture"):
        load_image(path)


def test_an_error_is_also_a_value_error():
    """Callers that catch ValueError (not only ImageError) are covered too."""
    with pytest.raises(ValueError):
        load_image(b"x", name=NAME)


# --- Bugs -------------------------------------------------------------------------------


def test_exif_orientation_is_applied():
    landscape = np.full((60, 100), 255, np.uint8)  # stored sideways, as a phone saves it
    landscape[10:20, 10:90] = 0
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    loaded = load_image(encode(landscape, "JPEG", exif=exif.tobytes()), name="phone.jpg")
    assert loaded.shape == (100, 60)  # upright, as every browser shows it


def test_a_16_bit_greyscale_png_keeps_its_tones():
    picture = np.full((80, 80), 52_000, np.uint16)  # light paper
    picture[20:60, 35:45] = 8_000  # a dark stroke
    loaded = load_image(encode(Image.fromarray(picture), "PNG"), name="scan16.png")
    assert loaded[0, 0] == pytest.approx(52_000 / 257, abs=2)
    assert loaded[40, 40] == pytest.approx(8_000 / 257, abs=2)
