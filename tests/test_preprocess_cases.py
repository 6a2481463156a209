"""mnist_core.preprocess on awkward inputs: inverted and tinted pictures, grey paper,
specks, degenerate sizes, scribbles, non-square pictures, thin and fat pens.

No model is needed: every check is about the 28×28 input the preparation produces.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from mnist_core.drawings import DrawingStyle, draw_digit, draw_scribble, drawn_test_set
from mnist_core.preprocess import (
    DIGIT_BOX,
    IMAGE_SIZE,
    MNIST_STROKE_WIDTH,
    WORK_SIZE,
    PreprocessSteps,
    fit_in_box,
    naive_resize,
    preprocess_canvas,
    preprocess_steps,
    resize_longer_side,
    stroke_width,
)

CANVAS = 280


# --- Helpers ----------------------------------------------------------------------------


def seven() -> np.ndarray:
    """Ink layer (uint8, 255 = full ink) of a hand-drawn-like 7, off-centre on 280×280."""
    image = Image.new("L", (CANVAS, CANVAS), 0)
    draw = ImageDraw.Draw(image)
    draw.line((150, 60, 250, 60), fill=255, width=14)
    draw.line((250, 60, 180, 240), fill=255, width=14)
    return np.asarray(image)


def on_paper(ink: np.ndarray, paper: float, pen: float) -> np.ndarray:
    """The strokes in grey level `pen` on paper of grey level `paper`, anti-aliasing kept."""
    strength = ink.astype(np.float64) / 255  # never uint8 arithmetic: it overflows
    return np.round(paper + (pen - paper) * strength).astype(np.uint8)


def clean(ink: np.ndarray) -> np.ndarray:
    """The reference: black ink on white paper, an ordinary scan."""
    x = preprocess_canvas(on_paper(ink, 255, 0))
    assert x is not None
    return x


def assert_valid_input(x) -> None:
    """What the model expects: a 28×28 float32 image in [0, 1] with something drawn in it."""
    assert x is not None
    assert x.shape == (IMAGE_SIZE, IMAGE_SIZE) and x.dtype == np.float32
    assert np.isfinite(x).all()
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert x.max() > 0.9


def bbox_sides(x: np.ndarray, threshold: float = 0.1) -> tuple[int, int]:
    rows = np.flatnonzero(x.max(axis=1) > threshold)
    cols = np.flatnonzero(x.max(axis=0) > threshold)
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def best_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation allowing a shift of up to one pixel either way.

    Centring rounds the centre of mass to whole pixels: when it sits near .5 a tiny
    change in the ink can move the digit by one pixel, which is not a different input.
    """
    return max(
        correlation(np.roll(a, (dy, dx), axis=(0, 1)), b)
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    )


def sprinkle_specks(ink: np.ndarray, count: int, rng, keep_clear: np.ndarray | None = None):
    """`count` dots of 1–3 px at random places (away from `keep_clear`, dilated by 6 px)."""
    speckled = ink.copy()
    forbidden = (
        np.zeros(ink.shape, bool)
        if keep_clear is None
        else ndimage.binary_dilation(keep_clear, iterations=6)
    )
    placed = 0
    while placed < count:
        size = int(rng.integers(1, 4))
        row, col = (int(v) for v in rng.integers(0, CANVAS - size, 2))
        if forbidden[max(row - 1, 0) : row + size + 1, max(col - 1, 0) : col + size + 1].any():
            continue
        speckled[row : row + size, col : col + size] = 255
        placed += 1
    return speckled


# --- Light ink on dark, tinted paper, grey paper ---------------------------------------


def test_white_ink_on_black_greyscale_reads_like_a_scan():
    """A white-on-black picture (MNIST's own look) gives the same input as black on white."""
    ink = seven()
    np.testing.assert_allclose(preprocess_canvas(ink), clean(ink), atol=1e-6)


def test_white_ink_on_black_rgb_reads_like_a_scan():
    ink = seven()
    rgb = np.repeat(ink[..., None], 3, axis=2)
    np.testing.assert_allclose(preprocess_canvas(rgb), clean(ink), atol=1e-6)


def test_dark_ink_on_light_grey_eee_background():
    """#eee paper (RGB 238,238,238) with dark-grey ink: the contrast stretch makes it a scan."""
    ink = seven()
    grey = on_paper(ink, paper=238, pen=30)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    assert tuple(rgb[0, 0]) == (238, 238, 238)
    x = preprocess_canvas(rgb)
    assert_valid_input(x)
    assert correlation(x, clean(ink)) > 0.99
    np.testing.assert_allclose(x, clean(ink), atol=0.05)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grey_paper_photo_reads_like_the_clean_drawing(seed):
    """A dim photo: paper ~170, ink ~60, mild sensor noise (σ = 4 grey levels).

    Without the contrast stretch the strokes would be at ~0.43 strength on a 0.33 floor;
    with it the input matches the clean drawing's.
    """
    ink = seven()
    rng = np.random.default_rng(seed)
    photo = on_paper(ink, paper=170, pen=60).astype(np.float64)
    photo = np.clip(photo + rng.normal(0, 4, photo.shape), 0, 255).astype(np.uint8)
    steps = preprocess_steps(photo)
    assert steps is not None
    reference = preprocess_steps(on_paper(ink, 255, 0))
    # The background is gone and the strongest ink is full strength.
    assert np.median(steps.ink) == 0.0
    assert steps.ink.max() == pytest.approx(1.0)
    assert steps.crop.shape == reference.crop.shape
    assert_valid_input(steps.centred)
    assert best_correlation(steps.centred, reference.centred) > 0.95


def test_grey_paper_without_noise_matches_the_clean_drawing_exactly_enough():
    ink = seven()
    x = preprocess_canvas(on_paper(ink, paper=170, pen=60))
    assert correlation(x, clean(ink)) > 0.99


# --- Specks -----------------------------------------------------------------------------


@pytest.mark.parametrize("paper", ["white-grey", "transparent-rgba"])
def test_specks_around_a_digit_do_not_change_it(paper):
    """Thirty 1–3 px dots scattered around (not touching) the digit are dropped."""
    ink = seven()
    speckled = sprinkle_specks(ink, 30, np.random.default_rng(7), keep_clear=ink > 0)
    assert (speckled != ink).sum() >= 30
    if paper == "white-grey":
        image, reference = 255 - speckled, 255 - ink
    else:
        image = np.zeros((CANVAS, CANVAS, 4), np.uint8)
        image[..., 3] = speckled
        reference = np.zeros_like(image)
        reference[..., 3] = ink
    x, expected = preprocess_canvas(image), preprocess_canvas(reference)
    assert_valid_input(x)
    assert correlation(x, expected) > 0.99
    np.testing.assert_allclose(x, expected, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_specks_alone_are_nothing_drawn(seed):
    specks = sprinkle_specks(np.zeros((CANVAS, CANVAS), np.uint8), 30, np.random.default_rng(seed))
    assert preprocess_canvas(255 - specks) is None
    assert preprocess_steps(specks) is None


# --- Degenerate pictures ----------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        pytest.param(np.full((CANVAS, CANVAS), 255, np.uint8), id="white-grey"),
        pytest.param(np.full((CANVAS, CANVAS, 3), 238, np.uint8), id="eee-rgb"),
        pytest.param(np.full((CANVAS, CANVAS), 170, np.uint8), id="grey-paper"),
        pytest.param(np.zeros((CANVAS, CANVAS, 4), np.uint8), id="transparent"),
        pytest.param(np.full((CANVAS, CANVAS, 4), 255, np.uint8), id="opaque-white-rgba"),
        pytest.param(
            np.clip(np.random.default_rng(0).normal(200, 3, (CANVAS, CANVAS)), 0, 255).astype(
                np.uint8
            ),
            id="noisy-paper",
        ),
    ],
)
def test_blank_pictures_give_none(image):
    assert preprocess_canvas(image) is None
    assert preprocess_steps(image) is None


@pytest.mark.parametrize(
    "image",
    [
        pytest.param(np.zeros((1, 1), np.uint8), id="black-grey"),
        pytest.param(np.full((1, 1), 255, np.uint8), id="white-grey"),
        pytest.param(np.zeros((1, 1, 3), np.uint8), id="black-rgb"),
        pytest.param(np.array([[[0, 0, 0, 255]]], np.uint8), id="opaque-rgba"),
        pytest.param(np.zeros((1, 1, 4), np.uint8), id="transparent-rgba"),
    ],
)
def test_a_one_pixel_image_is_nothing_drawn(image):
    """A 1×1 picture is all border, hence all background: None, not a crash."""
    assert preprocess_canvas(image) is None


@pytest.mark.parametrize("ink_value", [255, 128])
def test_a_single_drawn_pixel_on_the_canvas_is_a_speck(ink_value):
    """One pixel of ink on a 280×280 canvas is far below the speck size: None."""
    canvas = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    canvas[140, 140, 3] = ink_value
    assert preprocess_canvas(canvas) is None
    paper = np.full((CANVAS, CANVAS), 255, np.uint8)
    paper[3, 277] = 0  # near a corner
    assert preprocess_canvas(paper) is None


def test_an_all_ink_canvas_is_nothing_drawn():
    """A canvas filled with ink edge to edge has no background left to tell a digit from."""
    full = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    full[..., 3] = 255
    assert preprocess_canvas(full) is None


@pytest.mark.parametrize("seed", range(5))
def test_a_full_canvas_scribble_gives_a_valid_input(seed):
    """Scribbles are not digits, but preparation still makes a proper 28×28 of them."""
    scribble = draw_scribble(np.random.default_rng(seed))
    steps = preprocess_steps(scribble)
    assert steps is not None
    assert_valid_input(steps.centred)
    assert max(steps.fitted.shape) == DIGIT_BOX


def test_tiny_pictures_of_any_shape_never_crash():
    """Every shape from 1×1 to 12×12, with one stroke in it: None or a valid input."""
    for height in range(1, 13):
        for width in range(1, 13):
            image = np.full((height, width), 255, np.uint8)
            image[height // 2, :] = 0  # a horizontal bar through the middle
            x = preprocess_canvas(image)
            if x is not None:
                assert_valid_input(x)


# --- Non-square pictures -----------------------------------------------------------------


def digit_in(shape: tuple[int, int], mnist, index: int, size: int, at: tuple[int, int]):
    """An MNIST test digit scaled to size×size, dark on white paper of `shape`."""
    digit = np.asarray(
        Image.fromarray(mnist.x_test[index]).resize((size, size), Image.Resampling.BILINEAR)
    )
    ink = np.zeros(shape, np.uint8)
    ink[at[0] : at[0] + size, at[1] : at[1] + size] = digit
    return ink


@pytest.mark.parametrize(
    "shape, at",
    [((100, 300), (10, 20)), ((100, 300), (5, 200)), ((300, 100), (200, 10)), ((300, 100), (0, 5))],
    ids=["wide-left", "wide-right", "tall-bottom", "tall-top"],
)
@pytest.mark.parametrize("index", [0, 1, 2])  # a 7, a 2, a 1
def test_non_square_pictures_are_fitted_and_centred(mnist, shape, at, index):
    ink = digit_in(shape, mnist, index, size=90, at=at)
    for image in (255 - ink, ink):  # dark on light, light on dark
        steps = preprocess_steps(image)
        assert steps is not None
        assert steps.ink.shape == shape
        x = steps.centred
        assert_valid_input(x)
        assert max(bbox_sides(x)) == DIGIT_BOX, bbox_sides(x)
        row, col = ndimage.center_of_mass(x)
        assert abs(row - 14) <= 1.0 and abs(col - 14) <= 1.0, (row, col)


# --- Stroke width -------------------------------------------------------------------------


def pen_steps(mnist, pen: float) -> PreprocessSteps:
    style = DrawingStyle(height_fraction=0.7, pen_width=pen, rotation_degrees=0.0,
                         position=(0.5, 0.5))
    steps = preprocess_steps(draw_digit(mnist.x_test[0], style))
    assert steps is not None
    return steps


def test_thin_pen_strokes_are_thickened(mnist):
    """A 4 px pen on the 280 canvas is far thinner than MNIST's strokes: it is thickened."""
    steps = pen_steps(mnist, pen=4)
    before = stroke_width(resize_longer_side(steps.crop, WORK_SIZE))
    after = stroke_width(steps.stroke)
    print(f"\n4 px pen: stroke width {before:.2f} → {after:.2f} px at working size")
    assert after > 1.5 * before
    assert steps.stroke.shape == resize_longer_side(steps.crop, WORK_SIZE).shape


def test_strokes_at_mnist_thickness_are_left_alone(mnist):
    """A 20 px pen on a digit 70% of the canvas tall is at MNIST's thickness already."""
    steps = pen_steps(mnist, pen=20)
    np.testing.assert_array_equal(steps.stroke, resize_longer_side(steps.crop, WORK_SIZE))


def test_fat_pen_strokes_are_thinned_and_the_digit_fitted_again(mnist):
    """A 28 px pen on a digit a third of the canvas tall blots it: the strokes are eroded
    toward MNIST's width, and the thinner digit fills the 20×20 box again."""
    style = DrawingStyle(height_fraction=0.3, pen_width=28, rotation_degrees=0.0,
                         position=(0.2, 0.6))
    steps = preprocess_steps(draw_digit(mnist.x_test[0], style))
    work = resize_longer_side(steps.crop, WORK_SIZE)
    target = MNIST_STROKE_WIDTH * WORK_SIZE / DIGIT_BOX
    before, after = stroke_width(work), stroke_width(steps.stroke)
    print(f"\n28 px pen, small digit: stroke width {before:.1f} → {after:.1f} px at working "
          f"size (MNIST's: {target:.1f})")
    assert before > 2 * target and abs(after - target) < 0.25 * target
    assert max(bbox_sides(steps.centred)) == DIGIT_BOX
    assert (steps.centred > 0.5).sum() < 0.6 * (fit_in_box(work) > 0.5).sum()


def test_thin_and_fat_pens_end_up_alike(mnist):
    """After thickening, the thin pen's input is close to the fat pen's."""
    thin, fat = pen_steps(mnist, pen=4), pen_steps(mnist, pen=20)
    assert best_correlation(thin.centred, fat.centred) > 0.8


# --- The thick-pen hint ---------------------------------------------------------------------


def test_a_fat_pen_on_a_small_digit_gets_the_thick_pen_hint(mnist):
    """28 px strokes on a digit a third of the canvas tall: four times MNIST's for the size."""
    style = DrawingStyle(height_fraction=0.3, pen_width=28, rotation_degrees=0.0,
                         position=(0.2, 0.6))
    steps = preprocess_steps(draw_digit(mnist.x_test[0], style))
    assert steps.thick_pen
    assert steps.stroke_width == pytest.approx(stroke_width(resize_longer_side(steps.crop,
                                                                               WORK_SIZE)))


@pytest.mark.parametrize("pen, height", [(4, 0.7), (20, 0.7), (28, 0.9)])
def test_pens_in_proportion_to_the_digit_get_no_hint(mnist, pen, height):
    style = DrawingStyle(height_fraction=height, pen_width=pen, rotation_degrees=0.0,
                         position=(0.5, 0.5))
    assert not preprocess_steps(draw_digit(mnist.x_test[0], style)).thick_pen


def test_the_same_pen_gets_the_hint_only_once_the_digit_is_small_for_it(mnist):
    """A 24 px pen: fine for a digit 80% of the canvas tall, too thick at 30%."""
    hints = [
        preprocess_steps(draw_digit(mnist.x_test[0], DrawingStyle(height, 24, 0.0, (0.5, 0.5))))
        .thick_pen
        for height in (0.8, 0.6, 0.45, 0.3)
    ]
    assert hints[0] is False and hints[-1] is True
    assert hints == sorted(hints)  # once it appears, it stays as the digit shrinks


def test_mnist_digits_themselves_hardly_ever_get_the_hint(mnist):
    """MNIST's strokes are half the hint's threshold for their size: the hint is about the
    pen, not about digits written boldly."""
    hints = [preprocess_steps(digit).thick_pen for digit in mnist.x_test[:300]]
    assert np.mean(hints) < 0.03, np.mean(hints)


# --- The steps themselves -------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: 255 - seven(), id="grey-280"),
        pytest.param(lambda: np.repeat(seven()[30:260, 130:][..., None], 3, axis=2), id="rgb-230x150"),
        pytest.param(lambda: draw_scribble(np.random.default_rng(3)), id="scribble-rgba"),
    ],
)
def test_preprocess_steps_shapes(make):
    image = make()
    steps = preprocess_steps(image)
    assert isinstance(steps, PreprocessSteps)
    assert steps.ink.shape == image.shape[:2]
    assert steps.crop.shape[0] <= image.shape[0] and steps.crop.shape[1] <= image.shape[1]
    assert max(steps.stroke.shape) == WORK_SIZE
    assert max(steps.fitted.shape) == DIGIT_BOX
    assert steps.centred.shape == (IMAGE_SIZE, IMAGE_SIZE)
    for stage in (steps.ink, steps.crop, steps.stroke, steps.fitted, steps.centred):
        assert stage.min() >= 0.0 and stage.max() <= 1.0
    np.testing.assert_array_equal(preprocess_canvas(image), steps.centred)
    # The fitted digit is placed whole, unscaled, in the 28×28 input.
    assert steps.centred.sum() == pytest.approx(steps.fitted.sum(), rel=1e-5)


@pytest.mark.parametrize(
    "image",
    [
        pytest.param(255 - seven(), id="grey-280"),
        pytest.param(np.repeat(seven()[..., None], 3, axis=2), id="rgb-280"),
        pytest.param(draw_scribble(np.random.default_rng(0)), id="rgba-280"),
    ],
)
def test_naive_resize_is_28_by_28_in_unit_range(image):
    x = naive_resize(image)
    assert x.shape == (IMAGE_SIZE, IMAGE_SIZE)
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert x.max() > 0.3  # the ink survives the shrinking, faded


@pytest.mark.parametrize("shape", [(100, 300), (300, 100)], ids=["wide", "tall"])
def test_naive_resize_of_a_non_square_picture_is_28_by_28(shape):
    image = np.full(shape, 255, np.uint8)
    image[20:80, 20:80] = 0
    x = naive_resize(image)
    assert x.shape == (IMAGE_SIZE, IMAGE_SIZE)


def test_fifty_simulated_drawings_all_give_a_valid_input(mnist):
    """Drawings in the benchmark's spread of sizes, pens and slants: none is lost.

    (How fast this is belongs to bench/, not to a test.)
    """
    canvases, _ = drawn_test_set(mnist.x_test, mnist.y_test, 50, seed=11)
    for canvas in canvases:
        x = preprocess_canvas(canvas)
        assert_valid_input(x)
        assert max(bbox_sides(x)) == DIGIT_BOX
