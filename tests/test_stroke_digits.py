"""Mouse-drawn digits (mnist_core.stroke_digits): every digit, the canvas's format, a fixed set."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.drawings import CANVAS_SIZE
from mnist_core.preprocess import IMAGE_SIZE, preprocess_canvas
from mnist_core.stroke_digits import STYLES, hand_drawn_set, render


@pytest.fixture(scope="module")
def drawn_set():
    return hand_drawn_set(seed=0)


def test_every_digit_has_a_style_and_most_have_two():
    digits = [digit for digit, _ in STYLES.values()]
    assert sorted(set(digits)) == list(range(10))
    assert all(digits.count(d) >= 2 for d in range(10))


@pytest.mark.parametrize("name", list(STYLES))
def test_each_style_is_strokes_in_its_square(name):
    _, draw = STYLES[name]
    x, y, size = 40.0, 30.0, 200.0
    strokes = draw(x, y, size)
    assert strokes and all(len(stroke) >= 2 for stroke in strokes)
    points = np.concatenate([np.asarray(stroke, float) for stroke in strokes])
    assert points.shape[1] == 2
    slack = 0.1 * size  # a slanted 0 reaches a little past its square
    assert (points >= np.array([x, y]) - slack).all()
    assert (points <= np.array([x, y]) + size + slack).all()


def test_render_gives_the_canvas_format_with_ink_only_in_alpha():
    canvas = render(STYLES["seven"][1](50, 30, 220), pen_width=16)
    assert canvas.shape == (CANVAS_SIZE, CANVAS_SIZE, 4) and canvas.dtype == np.uint8
    assert not canvas[..., :3].any()
    assert canvas[..., 3].max() == 255
    # The pen reaches no further than its radius from the square's edges.
    rows, cols = np.nonzero(canvas[..., 3])
    assert rows.min() >= 30 - 9 and rows.max() <= 250 + 9
    assert cols.min() >= 50 - 9 and cols.max() <= 270 + 9


def test_render_joins_far_apart_points_into_one_stroke():
    canvas = render([[(20, 140), (260, 140)]], pen_width=10)
    ink = canvas[..., 3] > 127
    assert ink[140, 20:261].all()
    assert not ink[:, :14].any() and not ink[:, 267:].any()


def test_render_drops_what_falls_off_the_canvas():
    canvas = render([[(-50, 140), (140, 140)]], pen_width=10, size=CANVAS_SIZE)
    assert canvas.shape == (CANVAS_SIZE, CANVAS_SIZE, 4)
    assert canvas[140, 0, 3] == 255 and canvas[140, 150, 3] == 0


def test_the_set_holds_every_style_of_every_digit_inside_the_canvas(drawn_set):
    canvases, labels = drawn_set
    assert 200 <= len(canvases) <= 600 and len(canvases) == len(labels)
    assert sorted(set(labels.tolist())) == list(range(10))
    for canvas in canvases:
        assert canvas.shape == (CANVAS_SIZE, CANVAS_SIZE, 4) and canvas.dtype == np.uint8
        alpha = canvas[..., 3]
        assert alpha.max() == 255
        # Nothing cut off: the border is bare.
        assert not alpha[0].any() and not alpha[-1].any()
        assert not alpha[:, 0].any() and not alpha[:, -1].any()


def test_the_set_spreads_sizes_over_most_of_the_canvas(drawn_set):
    canvases, _ = drawn_set
    heights = [np.ptp(np.nonzero(canvas[..., 3])[0]) / CANVAS_SIZE for canvas in canvases]
    assert min(heights) < 0.4 and max(heights) > 0.8


def test_the_set_is_the_same_every_time(drawn_set):
    canvases, labels = drawn_set
    again, labels_again = hand_drawn_set(seed=0)
    np.testing.assert_array_equal(labels, labels_again)
    assert all(np.array_equal(a, b) for a, b in zip(canvases, again))
    few, other = hand_drawn_set(seed=0, per_style=2)[0], hand_drawn_set(seed=1, per_style=2)[0]
    assert not any(np.array_equal(a, b) for a, b in zip(few, other))


def test_every_drawing_prepares_to_a_digit(drawn_set):
    canvases, _ = drawn_set
    for canvas in canvases:
        prepared = preprocess_canvas(canvas)
        assert prepared is not None
        assert prepared.shape == (IMAGE_SIZE, IMAGE_SIZE)
        assert prepared.max() > 0.5
