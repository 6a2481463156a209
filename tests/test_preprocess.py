"""mnist_core.preprocess: a drawing becomes an MNIST-like 28×28 input the model reads right."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from mnist_core.predict import predict_proba
from mnist_core.preprocess import preprocess_canvas

CANVAS = 280  # the app's canvas is 280×280
CENTRE = 14.0  # MNIST digits have their centre of mass at the middle of 28×28
BOX = 20  # ...and fit a 20×20 box


# --- Canvas helpers ---------------------------------------------------------------------


def as_rgba(ink: np.ndarray) -> np.ndarray:
    """The drawing canvas: transparent, strokes in black with the ink in alpha."""
    canvas = np.zeros((*ink.shape, 4), np.uint8)
    canvas[..., 3] = ink
    return canvas


def as_white_rgb(ink: np.ndarray) -> np.ndarray:
    """A photo/scan-like picture: black ink on white paper."""
    return np.repeat((255 - ink)[..., None], 3, axis=2).astype(np.uint8)


def as_opaque_rgba(ink: np.ndarray) -> np.ndarray:
    """A canvas with an opaque white background (alpha 255 everywhere)."""
    canvas = np.full((*ink.shape, 4), 255, np.uint8)
    canvas[..., :3] = (255 - ink)[..., None]
    return canvas


FORMATS = {
    "rgba-transparent": as_rgba,
    "rgba-opaque-white": as_opaque_rgba,
    "rgb-white-background": as_white_rgb,
    "grey-dark-on-light": lambda ink: (255 - ink).astype(np.uint8),
    "grey-white-on-black": lambda ink: ink.astype(np.uint8),
}


def drawn(shape: str) -> np.ndarray:
    """A hand-drawn-like digit, off-centre on a 280×280 ink layer (255 = full ink)."""
    image = Image.new("L", (CANVAS, CANVAS), 0)
    draw = ImageDraw.Draw(image)
    if shape == "zero":  # taller than wide, in the upper left
        draw.ellipse((40, 30, 130, 200), outline=255, width=16)
    elif shape == "seven":  # two strokes, to the right
        draw.line((150, 60, 250, 60), fill=255, width=14)
        draw.line((250, 60, 180, 240), fill=255, width=14)
    elif shape == "lying-zero":  # wider than tall, low down
        draw.ellipse((60, 170, 260, 260), outline=255, width=14)
    return np.asarray(image)


def bbox_sides(x: np.ndarray, threshold: float = 0.1) -> tuple[int, int]:
    rows = np.flatnonzero(x.max(axis=1) > threshold)
    cols = np.flatnonzero(x.max(axis=0) > threshold)
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


# --- Nothing drawn --------------------------------------------------------------------


@pytest.mark.parametrize(
    "canvas",
    [
        pytest.param(np.zeros((CANVAS, CANVAS, 4), np.uint8), id="blank-rgba"),
        pytest.param(np.full((CANVAS, CANVAS, 3), 255, np.uint8), id="blank-white-rgb"),
        pytest.param(np.full((CANVAS, CANVAS), 255, np.uint8), id="blank-white-grey"),
        pytest.param(np.zeros((CANVAS, CANVAS), np.uint8), id="blank-black-grey"),
    ],
)
def test_blank_canvas_gives_none(canvas):
    """With nothing drawn there is nothing to predict (the UI shows a hint instead)."""
    assert preprocess_canvas(canvas) is None


SPECKS = [(10, 10), (100, 200), (250, 30), (140, 140), (270, 270)]


@pytest.mark.parametrize("fmt", ["rgba-transparent", "rgb-white-background"])
def test_only_tiny_specks_give_none(fmt):
    """A few stray 3×3 dots (a click, dust on a scan) are not a digit."""
    ink = np.zeros((CANVAS, CANVAS), np.uint8)
    for row, col in SPECKS:
        ink[row : row + 3, col : col + 3] = 255
    assert preprocess_canvas(FORMATS[fmt](ink)) is None


# --- A drawn digit, in every format ----------------------------------------------------


@pytest.mark.parametrize("shape", ["zero", "seven", "lying-zero"])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_digit_is_fitted_and_centred_like_mnist(fmt, shape):
    """Cropped, longest side 20 px, centre of mass at (14, 14), floats in [0, 1]."""
    x = preprocess_canvas(FORMATS[fmt](drawn(shape)))

    assert x is not None
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert x.max() > 0.9, "strokes should be at full strength, as in MNIST"
    row, col = ndimage.center_of_mass(x)
    assert abs(row - CENTRE) <= 1.0 and abs(col - CENTRE) <= 1.0, (row, col)
    assert max(bbox_sides(x)) == BOX, bbox_sides(x)


@pytest.mark.parametrize("shape", ["zero", "seven"])
def test_all_formats_agree(shape):
    """The same strokes give the same input however the picture encodes ink."""
    ink = drawn(shape)
    reference = preprocess_canvas(as_rgba(ink))
    for name, encode in FORMATS.items():
        np.testing.assert_allclose(
            preprocess_canvas(encode(ink)), reference, atol=1e-4, err_msg=name
        )


@pytest.mark.parametrize("fmt", ["rgba-transparent", "rgb-white-background"])
def test_far_speck_does_not_move_the_digit(fmt):
    """A stray dot in a corner must not stretch the crop and shrink the digit."""
    ink = drawn("seven")
    with_speck = ink.copy()
    with_speck[265:269, 5:9] = 255  # 4×4 dot, far bottom left
    clean = preprocess_canvas(FORMATS[fmt](ink))
    speckled = preprocess_canvas(FORMATS[fmt](with_speck))
    np.testing.assert_allclose(speckled, clean, atol=1e-6)


def test_thin_slanted_stroke_is_a_digit_not_specks():
    """A '1' drawn with a 1-px pen (e.g. an uploaded pencil drawing) is still a digit."""
    image = Image.new("L", (CANVAS, CANVAS), 255)
    ImageDraw.Draw(image).line((150, 40, 90, 240), fill=0, width=1)
    assert preprocess_canvas(np.asarray(image)) is not None


def test_opaque_picture_with_transparent_corners_reads_the_ink():
    """A few transparent pixels at the edge do not make a white picture a transparent canvas."""
    ink = drawn("seven")
    opaque = as_opaque_rgba(ink)
    rounded = opaque.copy()
    rounded[[0, 0, -1, -1], [0, -1, 0, -1], 3] = 0
    np.testing.assert_allclose(preprocess_canvas(rounded), preprocess_canvas(opaque), atol=1e-4)


# --- THE KEY TEST: real MNIST digits, redrawn on a canvas, read the same ---------------

N_DIGITS = 300


def crop(digit: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(digit.max(axis=1) > 0)
    cols = np.flatnonzero(digit.max(axis=0) > 0)
    return digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def redraw(digit: np.ndarray, height: int, rng, stroke=None) -> np.ndarray:
    """An MNIST digit scaled up to `height` px (bilinear), at a random spot on the canvas."""
    cropped = crop(digit)
    h, w = cropped.shape
    factor = min(height / h, (CANVAS - 2) / w)  # wide digits must still fit
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    big = np.asarray(Image.fromarray(cropped).resize(size, Image.Resampling.BILINEAR))
    if stroke is not None:
        big = stroke(big, factor)
    bh, bw = big.shape
    top, left = rng.integers(0, CANVAS - bh + 1), rng.integers(0, CANVAS - bw + 1)
    ink = np.zeros((CANVAS, CANVAS), np.uint8)
    ink[top : top + bh, left : left + bw] = big
    return ink


def thicker(big, factor):
    """Strokes about one MNIST pixel wider: a fat pen."""
    return ndimage.grey_dilation(big, size=max(2, round(1.2 * factor)))


def thinner(big, factor):
    """Strokes about half an MNIST pixel narrower: a fine pen."""
    return ndimage.grey_erosion(big, size=max(2, round(0.6 * factor)))


# name: (height in px drawn per digit, stroke change, canvas format, minimum agreement)
# Thresholds sit a little under the rates measured over several trained models:
# off-centre 0.987–1.000, thick 0.963–0.977, thin 0.963–0.987, tiny 0.983–0.993,
# huge 0.990–1.000, white-rgb 0.987–1.000 (naive whole-canvas resize: 0.10–0.25).
VARIANTS = {
    "off-centre": (lambda rng: rng.integers(120, 251), None, as_rgba, 0.95),
    "thick-strokes": (lambda rng: rng.integers(120, 251), thicker, as_rgba, 0.93),
    "thin-strokes": (lambda rng: rng.integers(120, 251), thinner, as_rgba, 0.93),
    "tiny": (lambda rng: 40, None, as_rgba, 0.94),
    "huge": (lambda rng: 270, None, as_rgba, 0.95),
    "white-rgb": (lambda rng: rng.integers(120, 251), None, as_white_rgb, 0.95),
}


@pytest.fixture(scope="module")
def reference(mnist, trained_model):
    """What the model says about the original 28×28 test digits."""
    x = mnist.x_test[:N_DIGITS] / 255.0
    predicted = predict_proba(trained_model, x).argmax(axis=1)
    accuracy = (predicted == mnist.y_test[:N_DIGITS]).mean()
    print(f"\nmodel accuracy on the {N_DIGITS} original digits: {accuracy:.3f}")
    return predicted


@pytest.fixture(scope="module")
def agreement(mnist, trained_model, reference):
    """Agreement rates per variant (preprocessed, naive resize), computed once each."""
    cache: dict[str, tuple[float, float]] = {}

    def rates(variant: str) -> tuple[float, float]:
        if variant not in cache:
            height, stroke, encode, _ = VARIANTS[variant]
            rng = np.random.default_rng(20240601)
            prepared, naive = [], []
            for digit in mnist.x_test[:N_DIGITS]:
                ink = redraw(digit, int(height(rng)), rng, stroke)
                x = preprocess_canvas(encode(ink))
                prepared.append(np.zeros((28, 28), np.float32) if x is None else x)
                # What a plain resize of the whole canvas would give the model.
                naive.append(
                    np.asarray(Image.fromarray(ink).resize((28, 28), Image.Resampling.BILINEAR))
                    / 255.0
                )
            agree = (predict_proba(trained_model, np.stack(prepared)).argmax(1) == reference).mean()
            plain = (predict_proba(trained_model, np.stack(naive)).argmax(1) == reference).mean()
            cache[variant] = (float(agree), float(plain))
            print(f"\n{variant}: preprocessed agreement {agree:.3f}, naive resize {plain:.3f}")
        return cache[variant]

    return rates


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_redrawn_mnist_digits_are_read_as_the_originals(agreement, variant):
    """A digit drawn big and off-centre on the canvas must be read like the MNIST original."""
    rate, _ = agreement(variant)
    minimum = VARIANTS[variant][3]
    assert rate >= minimum, (
        f"{variant}: the model agreed with itself on only {rate:.1%} of {N_DIGITS} redrawn "
        f"digits (need ≥ {minimum:.0%})"
    )


def test_naive_whole_canvas_resize_fails_on_off_centre_digits(agreement):
    """The control: skipping crop/fit/centre misreads most drawings, so the test above can fail."""
    rate, naive = agreement("off-centre")
    assert naive <= 0.5, f"naive resize agreed on {naive:.1%}; expected it to fail mostly"
    assert rate - naive >= 0.4, f"preprocessed {rate:.1%} vs naive {naive:.1%}"


@pytest.mark.parametrize("pen", [10, 18, 30])
def test_a_straight_1_measures_its_pen_and_gets_no_thick_pen_hint(pen):
    """A 1 drawn as one vertical line is as wide as its crop: measured without the
    background around it, its stroke came out as wide as the digit is tall, and every
    plain 1 was told to be drawn larger."""
    from mnist_core.preprocess import WORK_SIZE, preprocess_steps

    canvas = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).line([(150, 30), (150, 250)], fill=(0, 0, 0, 255), width=pen)
    steps = preprocess_steps(np.asarray(canvas))
    expected = pen * WORK_SIZE / steps.crop.shape[0]  # the pen at working size
    assert steps.stroke_width == pytest.approx(expected, abs=1.5)
    assert not steps.thick_pen
