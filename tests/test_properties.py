"""Property-based tests (Hypothesis): whatever arrives — any array, any bytes, any link —
the app answers with a result or a clear error of its own, never a crash.

Each test has a small example budget so the file runs in well under a minute on two
busy cores; `HYPOTHESIS_MAX_EXAMPLES=2000 python -m pytest tests/test_properties.py`
searches harder.
"""

from __future__ import annotations

import io
import os
import struct
import time
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from mnist_core import images
from mnist_core.images import ImageError, load_image
from mnist_core.preprocess import IMAGE_SIZE, naive_resize, preprocess_canvas, preprocess_steps
from mnist_core.settings import (
    ALL_IMAGES,
    BATCH_SIZES,
    DEFAULTS,
    DRAWING_EXAMPLES,
    LEARNING_RATES,
    MAX_CNN_DROPOUT,
    MAX_DROPOUT,
    MAX_VALIDATION_SPLIT,
    SETTINGS,
    TRAIN_SIZES,
    UNIT_CHOICES,
    configs,
    link_parameters,
    setup_from_link,
)

# Pillow warns as it skips the damaged EXIF blocks the fuzzing below makes: expected.
pytestmark = pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")

MAX_EXAMPLES = int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", 60))
BUDGET = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,  # two cores shared with other work: timing varies, correctness does not
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- preprocess_canvas on any array ------------------------------------------------------
#
# The contract, from mnist_core.preprocess: an H×W, H×W×3 or H×W×4 array of numbers on
# the 0–255 scale (uint8 from every canvas and picture) gives None (nothing drawn) or a
# 28×28 float32 input in [0, 1] without NaN. Anything else — another shape, an empty
# image, values that are not numbers, NaN, infinities, values beyond 16 bits — raises a
# ValueError that says which, never another exception and never a NaN input.

CLEAR_VALUE_ERRORS = ("expected an H×W", "image is empty", "pixel values", "NaN or infinite")

DTYPES = [np.uint8, np.uint16, np.int64, np.float32, np.float64, np.bool_]


def elements_for(dtype) -> st.SearchStrategy:
    dtype = np.dtype(dtype)
    if dtype.kind == "f":  # anything: NaN, ±inf, subnormals, the largest floats
        return st.one_of(
            st.floats(0, 255, width=dtype.itemsize * 8),
            st.floats(width=dtype.itemsize * 8),
        )
    if dtype.kind == "i":  # negatives, and the whole int64 range
        return st.one_of(st.integers(-300, 300), hnp.from_dtype(dtype))
    return hnp.from_dtype(dtype)


@st.composite
def small_arrays(draw) -> np.ndarray:
    """Every pixel drawn by Hypothesis (so failures shrink to a minimal picture): ≤ 16×16."""
    dtype = draw(st.sampled_from(DTYPES))
    height, width = draw(st.integers(1, 16)), draw(st.integers(1, 16))
    channels = draw(st.sampled_from([(), (1,), (3,), (4,)]))
    return draw(hnp.arrays(dtype, (height, width, *channels), elements=elements_for(dtype)))


@st.composite
def large_arrays(draw) -> np.ndarray:
    """Pictures up to 600×600 built with numpy from a few drawn parameters: paper, a
    stroke, noise, and now and then a few special values (NaN, inf, extremes)."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    height, width = draw(st.integers(1, 600)), draw(st.integers(1, 600))
    channels = draw(st.sampled_from([(), (3,), (4,)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    paper, pen = draw(st.floats(0, 255)), draw(st.floats(0, 255))
    picture = np.full((height, width, *channels), paper)
    top, left = rng.integers(0, height), rng.integers(0, width)
    bottom = top + rng.integers(1, max(2, height // 2))
    right = left + rng.integers(1, max(2, width // 2))
    picture[top:bottom, left:right] = pen
    picture += rng.normal(0, draw(st.sampled_from([0.0, 3.0, 60.0])), picture.shape)
    if dtype.kind == "b":
        picture = picture > 127
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        picture = np.clip(np.round(picture), max(info.min, -1000), info.max)
    specials = draw(st.lists(elements_for(dtype), max_size=3))
    flat = picture.reshape(-1).astype(dtype)
    for value in specials:
        flat[rng.integers(0, flat.size)] = value
    return flat.reshape(picture.shape)


def check_preprocess_contract(image: np.ndarray) -> np.ndarray | None:
    """preprocess_canvas(image): None, a valid 28×28 input, or a clear ValueError."""
    try:
        with warnings.catch_warnings():
            # NaN arithmetic (0/0, inf − inf, overflow) warns before it poisons the input.
            warnings.simplefilter("error", RuntimeWarning)
            x = preprocess_canvas(image)
    except ValueError as error:
        message = str(error)
        assert any(words in message for words in CLEAR_VALUE_ERRORS), message
        valid_shape = image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))
        # An ordinary picture (uint8, a valid shape, not empty) is never refused.
        assert not (image.dtype == np.uint8 and valid_shape and image.size), message
        return None
    if x is not None:
        assert x.shape == (IMAGE_SIZE, IMAGE_SIZE) and x.dtype == np.float32
        assert np.isfinite(x).all()
        assert x.min() >= 0.0 and x.max() <= 1.0
    return x


@BUDGET
@given(small_arrays())
def test_preprocess_small_arrays_of_any_dtype(image):
    check_preprocess_contract(image)


@BUDGET
@given(large_arrays())
def test_preprocess_large_arrays_of_any_dtype(image):
    check_preprocess_contract(image)


@BUDGET
@given(st.data())
def test_preprocess_reads_the_same_values_the_same_in_any_numeric_dtype(data):
    """A uint8 picture and the same numbers as uint16, int64 or float64 give one input."""
    shape = data.draw(st.tuples(st.integers(1, 40), st.integers(1, 40),
                                st.sampled_from([(), (3,), (4,)])))
    image = data.draw(hnp.arrays(np.uint8, shape[:2] + shape[2], elements=st.integers(0, 255)))
    as_uint8 = check_preprocess_contract(image)
    other = image.astype(data.draw(st.sampled_from([np.uint16, np.int64, np.float64])))
    as_other = check_preprocess_contract(other)
    if as_uint8 is None:
        assert as_other is None
    else:
        np.testing.assert_allclose(as_other, as_uint8, atol=1e-6)


@BUDGET
@given(st.one_of(small_arrays(), large_arrays()))
def test_naive_resize_and_the_steps_keep_the_same_contract(image):
    """The Draw page also shows each step and the naive resize of the same picture."""
    try:
        naive = naive_resize(image)
    except ValueError as error:
        assert any(words in str(error) for words in CLEAR_VALUE_ERRORS), str(error)
        with pytest.raises(ValueError):
            preprocess_steps(image)
        return
    assert naive.shape == (IMAGE_SIZE, IMAGE_SIZE) and np.isfinite(naive).all()
    assert naive.min() >= 0.0 and naive.max() <= 1.0
    steps = preprocess_steps(image)
    if steps is not None:
        for step in (steps.ink, steps.crop, steps.stroke, steps.fitted, steps.centred):
            assert step.size and np.isfinite(step).all()
        np.testing.assert_array_equal(steps.centred, preprocess_canvas(image))


@pytest.mark.parametrize("image", [
    pytest.param(np.zeros((0, 0), np.uint8), id="0x0"),
    pytest.param(np.zeros((0, 7, 3), np.uint8), id="0x7x3"),
    pytest.param(np.full((20, 20), np.nan), id="all-nan"),
    pytest.param(np.full((20, 20, 4), np.inf, np.float32), id="all-inf-rgba"),
    pytest.param(np.full((20, 20), 1e308), id="beyond-float32"),
    pytest.param(np.full((5, 5), 1 + 2j), id="complex"),
    pytest.param(np.array([["a", "b"]]), id="strings"),
    pytest.param(np.zeros((20, 20, 1), np.uint8), id="HxWx1"),
    pytest.param(np.zeros((20, 20, 2), np.uint8), id="HxWx2"),
    pytest.param(np.zeros(20, np.uint8), id="1-d"),
])
def test_unusable_arrays_raise_a_clear_value_error(image):
    """Found by the properties above: these used to raise IndexError (empty images) or
    warn and compute with NaN (NaN, inf, values beyond float32)."""
    with pytest.raises(ValueError) as error:
        preprocess_canvas(image)
    assert any(words in str(error.value) for words in CLEAR_VALUE_ERRORS), str(error.value)


# --- load_image on huge pictures ---------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def blank_bilevel_png(width: int, height: int) -> bytes:
    """A real, complete 1-bit PNG of width×height (every row present, all black but a
    white bar): megapixels of data that compress to a few kilobytes, cheap to build."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    bar = b"\x00" + b"\xff" * ((width + 7) // 8)
    rows = row * (height // 2) + bar * max(1, height // 50)
    rows += row * (height - height // 2 - max(1, height // 50))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(rows, 9)) + png_chunk(b"IEND", b""))


def test_pillows_decompression_bomb_limit_stays_on():
    """Importing the app's modules must not switch Pillow's bomb check off or raise it."""
    import mnist_core.images  # noqa: F401
    import mnist_core.preprocess  # noqa: F401
    from ui import formats, layout, monitor, patches, reader, server, session, sidebar  # noqa: F401

    assert Image.MAX_IMAGE_PIXELS is not None
    assert Image.MAX_IMAGE_PIXELS <= 89_478_485  # Pillow's default: 1 GiB of 24-bit RGB
    assert images.MAX_PIXELS < Image.MAX_IMAGE_PIXELS


def test_a_real_10000x10000_png_is_refused_quickly():
    """100 megapixels of real data (a 1-bit PNG of ~20 kB): refused by its size before
    anything is decoded, with the file's name, in well under a second."""
    data = blank_bilevel_png(10_000, 10_000)
    assert len(data) < 100_000
    started = time.monotonic()
    with pytest.raises(ImageError, match="10000×10000") as error, \
            pytest.warns(Image.DecompressionBombWarning):  # Pillow's own check saw it too
        load_image(data, name="poster.png")
    assert time.monotonic() - started < 2.0
    assert "poster.png" in str(error.value) and "too large" in str(error.value)


def test_a_decompression_bomb_beyond_pillows_limit_is_an_image_error():
    """20000×20000 (400 megapixels, over twice Pillow's limit): Pillow's own bomb check
    refuses it when the file is opened, and the app says so in its words."""
    data = blank_bilevel_png(20_000, 20_000)
    started = time.monotonic()
    with pytest.raises(ImageError, match="far too large") as error:
        load_image(data, name="bomb.png")
    assert time.monotonic() - started < 2.0
    assert str(error.value) == ("bomb.png is far too large for a picture of a digit "
                                "(over 40 million pixels).")  # not Pillow's own text


def test_a_jpeg_that_claims_65535x65535_is_refused():
    buffer = io.BytesIO()
    Image.new("L", (16, 16), 200).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")  # baseline frame header: length, precision, height, width
    data[sof + 5 : sof + 9] = struct.pack(">HH", 65535, 65535)
    with pytest.raises(ImageError) as error:
        load_image(bytes(data), name="claims.jpg")
    assert "claims.jpg" in str(error.value) and "large" in str(error.value)


def test_a_large_picture_within_the_limit_is_shrunk_in_reasonable_time():
    """6000×6000 (36 megapixels, under MAX_PIXELS): decoded and shrunk to MAX_SIDE."""
    data = blank_bilevel_png(6_000, 6_000)
    started = time.monotonic()
    loaded = load_image(data, name="scan.png")
    assert time.monotonic() - started < 20.0
    assert loaded.dtype == np.uint8 and max(loaded.shape[:2]) <= images.MAX_SIDE
    assert loaded.max() > loaded.min()  # the white bar survived the shrinking


# --- load_image on any bytes -------------------------------------------------------------


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _samples() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    grey = Image.fromarray(rng.integers(0, 256, (19, 23), dtype=np.uint8))
    rgba = Image.fromarray(rng.integers(0, 256, (17, 13, 4), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotated, as phones write it
    exif[0x010F] = "Phone"
    palette = grey.convert("P")
    return {
        "png-grey": encoded(grey, "PNG"),
        "png-rgba": encoded(rgba, "PNG"),
        "png-palette-transparent": encoded(palette, "PNG", transparency=0),
        "png-16-bit": encoded(Image.fromarray(
            rng.integers(0, 65536, (11, 9), dtype=np.uint16)), "PNG"),
        "jpeg": encoded(grey.convert("RGB"), "JPEG", quality=90),
        "jpeg-exif-rotated": encoded(grey.convert("RGB"), "JPEG", exif=exif),
        "jpeg-progressive": encoded(grey, "JPEG", progressive=True),
        "png-exif": encoded(grey, "PNG", exif=exif),
        "gif-transparent": encoded(palette, "GIF", transparency=0),
        "bmp": encoded(grey, "BMP"),
        "tiff-exif": encoded(grey, "TIFF", exif=exif),
        "webp": encoded(grey.convert("RGB"), "WEBP"),
    }


SAMPLES = _samples()


def check_load_image_contract(data: bytes, name: str = "digit.png") -> None:
    """An image (uint8, grey or RGBA, at most MAX_SIDE) or an ImageError naming the file."""
    try:
        loaded = load_image(data, name=name)
    except ImageError as error:
        message = str(error)
        assert name in message, message
        return
    assert isinstance(loaded, np.ndarray) and loaded.dtype == np.uint8
    assert loaded.ndim == 2 or (loaded.ndim == 3 and loaded.shape[2] == 4), loaded.shape
    assert loaded.size and max(loaded.shape[:2]) <= images.MAX_SIDE
    check_preprocess_contract(loaded)  # whatever loads, preparation copes with


def test_every_sample_loads():
    """The fuzzing below starts from valid files: each of them must load."""
    for name, data in SAMPLES.items():
        assert load_image(data, name=name).dtype == np.uint8, name


@BUDGET
@given(st.binary(max_size=4096), st.sampled_from(
    [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"BM", b"II*\x00", b"P5\n"]))
def test_load_image_on_arbitrary_bytes(data, magic):
    """Random bytes, some behind a real format's signature so Pillow's parsers run."""
    check_load_image_contract(magic + data, name="upload.png")


@BUDGET
@given(st.sampled_from(sorted(SAMPLES)), st.floats(0, 1, exclude_max=True))
def test_load_image_on_truncated_files(sample, cut):
    """An interrupted upload: the file cut at any point."""
    data = SAMPLES[sample]
    check_load_image_contract(data[: int(len(data) * cut)], name=f"{sample}.cut")


@BUDGET
@given(st.sampled_from(sorted(SAMPLES)),
       st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                min_size=1, max_size=8),
       st.booleans())
def test_load_image_on_corrupted_files(sample, flips, fix_png_crcs):
    """Bytes changed at random places, in headers (sizes, modes, EXIF) as well as data.

    PNG chunks carry checksums that Pillow verifies; with `fix_png_crcs` they are
    recomputed, so the damaged values themselves reach the decoder."""
    data = bytearray(SAMPLES[sample])
    for where, value in flips:
        data[int(len(data) * where)] = value
    if fix_png_crcs and sample.startswith("png"):
        data = bytearray(recompute_png_crcs(bytes(data)))
    assume(bytes(data) != SAMPLES[sample])
    check_load_image_contract(bytes(data), name=f"{sample}.bad")


def test_a_jpeg_with_a_damaged_exif_block_still_loads_upright():
    """Found by the fuzzing above: one flipped byte turned the EXIF Make tag (text) into
    ImageWidth, a number tag holding text; ImageOps.exif_transpose then raised
    struct.error while rewriting the EXIF block, so a readable photo crashed the Draw
    page. The orientation is still applied."""
    data = bytearray(SAMPLES["jpeg-exif-rotated"])
    make_tag = data.index(b"\x01\x0f\x00\x02")  # tag 0x010F (Make), type 2 (text)
    data[make_tag + 1] = 0x00  # tag 0x0100: ImageWidth
    loaded = load_image(bytes(data), name="phone.jpg")
    assert loaded.shape == (23, 19)  # stored 23 wide × 19 high, orientation 6: turned upright


def test_a_cut_short_pgm_header_is_an_image_error():
    """Found by the fuzzing above: Pillow's PPM parser raises ValueError, which escaped
    load_image (the Draw page only catches ImageError)."""
    for data in (b"P5\n", b"P5\n\x00", b"P5\n" + b"\x00" * 11):
        with pytest.raises(ImageError, match="digit.png could not be read"):
            load_image(data, name="digit.png")


def recompute_png_crcs(data: bytes) -> bytes:
    """The PNG with every chunk's CRC made right again (stops at the first impossible length)."""
    out, at = bytearray(data[:8]), 8
    while at + 8 <= len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        end = at + 8 + length
        if end + 4 > len(data):
            break
        body = data[at + 4 : end]
        out += data[at:end] + struct.pack(">I", zlib.crc32(body))
        at = end + 4
    return bytes(out + data[at:])


# --- setup_from_link on any link ---------------------------------------------------------

NUMBERISH = st.one_of(
    st.integers().map(str),
    st.floats().map(str),
    st.floats().map(lambda f: f"{f:g}"),
    st.sampled_from(["nan", "-nan", "inf", "-inf", "1e999", "-0", "0x10", "1_000", " 7 ",
                     "٣", "²", "1" * 5000, "all", "true", "yes", "NO", "Adam", "cnn",
                     "deep_cnn", "cosine"]),
)
LINK_VALUE = st.one_of(st.text(max_size=30), NUMBERISH,
                       st.sampled_from([str(v) for v in DEFAULTS.values()]))
LINKS = st.one_of(
    st.dictionaries(st.text(max_size=12), st.text(max_size=30), max_size=8),
    st.dictionaries(st.sampled_from(sorted(SETTINGS) + ["run", "page"]), LINK_VALUE),
)


def is_step(value: float, high: float) -> bool:
    return 0.0 <= value <= high and abs(value / 0.05 - round(value / 0.05)) < 1e-9


VALID = {
    "epochs": lambda v: type(v) is int and 1 <= v <= 50,
    "batch_size": lambda v: v in BATCH_SIZES,
    "validation_split": lambda v: isinstance(v, float) and is_step(v, MAX_VALIDATION_SPLIT),
    "train_size": lambda v: v == ALL_IMAGES or v in TRAIN_SIZES,
    "architecture": lambda v: v in ("dense", "cnn", "deep_cnn"),
    "hidden_layers": lambda v: type(v) is int and 0 <= v <= 4,
    "units": lambda v: v in UNIT_CHOICES,
    "dropout": lambda v: isinstance(v, float) and is_step(v, MAX_DROPOUT),
    "cnn_dropout": lambda v: isinstance(v, float) and is_step(v, MAX_CNN_DROPOUT),
    "activation": lambda v: v in ("relu", "tanh", "sigmoid"),
    "augment": lambda v: type(v) is bool,
    "optimizer": lambda v: v in ("rmsprop", "adam", "sgd"),
    "learning_rate": lambda v: v in LEARNING_RATES,
    "lr_schedule": lambda v: v in ("constant", "cosine"),
    "drawing_examples": lambda v: type(v) is int and v in DRAWING_EXAMPLES,
}


@BUDGET
@given(LINKS)
def test_setup_from_any_link_gives_only_valid_settings(query):
    """Anyone can write a link: never an exception, only known keys with values the
    sidebar's widgets accept, one message per value changed or ignored, and the result
    builds the configs exactly as the sidebar does."""
    assert set(VALID) == set(SETTINGS)
    values, messages = setup_from_link(query)
    assert set(values) <= set(SETTINGS) & set(query)
    for key, value in values.items():
        assert VALID[key](value), (key, value, query[key])
    assert all(isinstance(m, str) and m.split(":")[0] in SETTINGS for m in messages)
    assert len(messages) <= len(set(SETTINGS) & set(query))
    for architecture in ("dense", "cnn", "deep_cnn"):
        configs({**values, "architecture": architecture})  # as the sidebar builds them
    # What the page then writes into its own link reads back as the same setup, silently.
    assert setup_from_link(link_parameters({**DEFAULTS, **values})) == (
        {k: v for k, v in values.items() if v != DEFAULTS[k]}, [])
