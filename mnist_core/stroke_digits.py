"""Digits as a person draws them with a mouse: strokes, not MNIST's scanned pen strokes.

Each digit is a function of the square it is drawn in, `(x, y, size)` in canvas
pixels, that returns its strokes: polylines of (x, y) points, in the order a hand
draws them. Where people draw a digit differently, each way is its own function: a
1 with or without its flag (and with a base), a 7 with or without a cross bar, a 4
with an open or a closed top, a 9 with a straight or a curved tail, a 2 with or
without a loop, and so on (`STYLES` lists them all).

The browser tests draw these with the mouse (tests/e2e/test_browser.py); `render`
draws them as the canvas would, and `hand_drawn_set` makes a few hundred drawings
of every style, sized, placed, slanted and penned differently. They are not made
by `mnist_core.drawings`' MNIST-skeleton simulator, so they check that a reader
tuned to that simulator has not just learnt its quirks.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from mnist_core.drawings import CANVAS_SIZE, _pen

Point = tuple[float, float]
Stroke = list[Point]
Digit = Callable[[float, float, float], list[Stroke]]

SET_SIZES = (0.3, 0.9)  # the digit's height, as a share of the canvas
SET_PEN_WIDTHS = (10.0, 30.0)  # pixels
SET_SLANT_DEGREES = 10.0  # each drawing turned by up to this much, either way
SET_WIDTH_SCALES = (0.8, 1.15)  # and made this much narrower or wider
SET_DRAWINGS_PER_STYLE = 14


# --- helpers: shapes in the unit square, mapped onto (x, y, size) ---------------------


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float,
         points: int = 24) -> Stroke:
    """Points on an ellipse from angle `start` to `end` (degrees; 0 at the top, 90 at
    the right: clockwise on screen, counter-clockwise when `end` < `start`)."""
    angles = np.radians(np.linspace(start, end, points + 1))
    return [(cx + rx * math.sin(a), cy - ry * math.cos(a)) for a in angles]


def _smooth(points: list[Point], per_segment: int = 8) -> Stroke:
    """A Catmull-Rom curve through `points`: the rounded line a hand draws through them."""
    p = np.asarray(points, float)
    padded = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    curve = [tuple(p[0])]
    t = np.linspace(0, 1, per_segment + 1)[1:, None]
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1 : i + 3]
        segment = 0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                         + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3)
        curve.extend(map(tuple, segment))
    return [(float(u), float(v)) for u, v in curve]


def _placed(strokes: list[Stroke], x: float, y: float, size: float) -> list[Stroke]:
    """Unit-square strokes moved into the square at (x, y) of side `size`."""
    return [[(x + u * size, y + v * size) for u, v in stroke] for stroke in strokes]


# --- the digits -----------------------------------------------------------------------
# one, one_with_flag, seven, zero and four are the browser tests' shapes, unchanged.


def zero(x: float, y: float, size: float, points: int = 24) -> list[Stroke]:
    """A 0: one closed ellipse, taller than wide, started at the top."""
    cx, cy, rx, ry = x + size / 2, y + size / 2, 0.32 * size, 0.47 * size
    return [[(cx + rx * math.sin(2 * math.pi * i / points),
              cy - ry * math.cos(2 * math.pi * i / points)) for i in range(points + 1)]]


def zero_slanted(x: float, y: float, size: float) -> list[Stroke]:
    """A 0 leaning right, drawn counter-clockwise from the top right, its end overlapping
    its start."""
    turn = math.radians(12)
    oval = _arc(0, 0, 0.3, 0.46, 30, -345, points=32)
    rotated = [(0.5 + u * math.cos(turn) - v * math.sin(turn),
                0.5 + u * math.sin(turn) + v * math.cos(turn)) for u, v in oval]
    return _placed([rotated], x, y, size)


def one(x: float, y: float, size: float) -> list[Stroke]:
    """A 1: a straight vertical line, top to bottom."""
    return [[(x + 0.5 * size, y), (x + 0.5 * size, y + 0.5 * size), (x + 0.5 * size, y + size)]]


def one_with_flag(x: float, y: float, size: float) -> list[Stroke]:
    """A 1 with a small flag: up to the top, then straight down, in one stroke."""
    return [[(x + 0.4 * size, y + 0.12 * size), (x + 0.55 * size, y),
             (x + 0.55 * size, y + 0.5 * size), (x + 0.55 * size, y + size)]]


def one_with_base(x: float, y: float, size: float) -> list[Stroke]:
    """A 1 with a long flag and a foot: the flag and the stem, then the base across."""
    return _placed([[(0.25, 0.25), (0.55, 0.0), (0.55, 0.5), (0.55, 1.0)],
                    [(0.3, 1.0), (0.55, 1.0), (0.8, 1.0)]], x, y, size)


def two(x: float, y: float, size: float) -> list[Stroke]:
    """A 2: a hook over the top, the diagonal down to the left, a flat base; one stroke."""
    top = _arc(0.5, 0.3, 0.3, 0.25, -65, 120, points=20)
    return _placed([top + [(0.12, 0.95), (0.5, 0.95), (0.9, 0.95)]], x, y, size)


def two_with_loop(x: float, y: float, size: float) -> list[Stroke]:
    """A 2 with a curl at the bottom left where the diagonal turns into the base."""
    top = _arc(0.5, 0.3, 0.3, 0.25, -65, 120, points=20)
    curl = _smooth([top[-1], (0.4, 0.7), (0.2, 0.9), (0.1, 0.85), (0.2, 0.78),
                    (0.35, 0.88), (0.6, 0.95), (0.9, 0.93)])
    return _placed([top + curl[1:]], x, y, size)


def three(x: float, y: float, size: float) -> list[Stroke]:
    """A 3 of two round bumps, drawn in one stroke from the top left."""
    upper = _arc(0.5, 0.27, 0.28, 0.22, -70, 190, points=20)
    lower = _arc(0.5, 0.72, 0.32, 0.25, -10, 235, points=22)
    return _placed([upper + lower], x, y, size)


def three_flat_top(x: float, y: float, size: float) -> list[Stroke]:
    """A 3 with a flat top: a bar, a diagonal back to the middle, then one round bump."""
    lower = _arc(0.5, 0.68, 0.33, 0.27, -30, 235, points=22)
    return _placed([[(0.15, 0.05), (0.5, 0.05), (0.8, 0.05), (0.4, 0.42)] + lower], x, y, size)


def four(x: float, y: float, size: float) -> list[Stroke]:
    """A 4 in two strokes: down-left and across, then the long vertical."""
    return [
        [(x + 0.45 * size, y), (x + 0.25 * size, y + 0.35 * size),
         (x + 0.05 * size, y + 0.62 * size), (x + 0.5 * size, y + 0.62 * size),
         (x + 0.9 * size, y + 0.62 * size)],
        [(x + 0.7 * size, y + 0.15 * size), (x + 0.7 * size, y + 0.6 * size),
         (x + 0.7 * size, y + size)],
    ]


def four_closed(x: float, y: float, size: float) -> list[Stroke]:
    """A 4 with a closed top, as printed: from the top of the stem down-left, across, and
    the stem from the same top point."""
    return _placed([[(0.68, 0.0), (0.35, 0.33), (0.05, 0.65), (0.5, 0.65), (0.92, 0.65)],
                    [(0.68, 0.0), (0.68, 0.5), (0.68, 1.0)]], x, y, size)


def five(x: float, y: float, size: float) -> list[Stroke]:
    """A 5 in two strokes: down the back and round the belly, then the top bar."""
    belly = _arc(0.48, 0.68, 0.32, 0.27, -40, 235, points=22)
    return _placed([[(0.3, 0.05), (0.27, 0.45)] + belly, [(0.3, 0.05), (0.55, 0.05), (0.82, 0.05)]],
                   x, y, size)


def five_one_stroke(x: float, y: float, size: float) -> list[Stroke]:
    """A 5 in one stroke: the top bar right to left, down the back, round the belly."""
    belly = _arc(0.48, 0.68, 0.32, 0.27, -40, 235, points=22)
    return _placed([[(0.82, 0.05), (0.55, 0.05), (0.3, 0.05), (0.27, 0.45)] + belly], x, y, size)


def six(x: float, y: float, size: float) -> list[Stroke]:
    """A 6: a curve down from the top right into a loop at the bottom, one stroke."""
    stem = _smooth([(0.7, 0.03), (0.45, 0.18), (0.28, 0.45), (0.25, 0.72)])
    loop = _arc(0.5, 0.73, 0.25, 0.23, 270, -75, points=26)
    return _placed([stem + loop[1:]], x, y, size)


def six_straight(x: float, y: float, size: float) -> list[Stroke]:
    """A 6 with a straight, slanted back and a small loop."""
    loop = _arc(0.47, 0.78, 0.22, 0.2, 270, -80, points=26)
    return _placed([[(0.55, 0.0), (0.4, 0.4), (0.25, 0.78)] + loop[1:]], x, y, size)


def seven(x: float, y: float, size: float) -> list[Stroke]:
    """A 7: the top bar left to right, then the diagonal down to the bottom left."""
    return [[(x + 0.1 * size, y + 0.05 * size), (x + 0.5 * size, y + 0.05 * size),
             (x + 0.9 * size, y + 0.05 * size), (x + 0.65 * size, y + 0.5 * size),
             (x + 0.4 * size, y + size)]]


def seven_crossed(x: float, y: float, size: float) -> list[Stroke]:
    """A 7 with a bar across its middle, as much of Europe writes it."""
    return seven(x, y, size) + _placed([[(0.42, 0.52), (0.85, 0.52)]], x, y, size)


def eight(x: float, y: float, size: float) -> list[Stroke]:
    """An 8 in one stroke: an S down from the top right and back up to where it began."""
    path = [(0.72, 0.15), (0.5, 0.04), (0.28, 0.15), (0.3, 0.33), (0.5, 0.47), (0.72, 0.62),
            (0.75, 0.82), (0.5, 0.96), (0.25, 0.82), (0.28, 0.62), (0.5, 0.47), (0.7, 0.33),
            (0.72, 0.15)]
    return _placed([_smooth(path)], x, y, size)


def eight_two_loops(x: float, y: float, size: float) -> list[Stroke]:
    """An 8 of two circles, a smaller one on a bigger one."""
    return _placed([_arc(0.5, 0.25, 0.2, 0.22, 0, 360), _arc(0.5, 0.71, 0.26, 0.25, 0, 360)],
                   x, y, size)


def nine(x: float, y: float, size: float) -> list[Stroke]:
    """A 9: a loop drawn counter-clockwise from its right side, then a straight tail down."""
    loop = _arc(0.5, 0.28, 0.26, 0.25, 90, -270, points=28)
    return _placed([loop + [(0.75, 0.6), (0.73, 1.0)]], x, y, size)


def nine_curved(x: float, y: float, size: float) -> list[Stroke]:
    """A 9 whose tail curves down and round to the left."""
    loop = _arc(0.5, 0.28, 0.26, 0.25, 90, -270, points=28)
    tail = _smooth([loop[-1], (0.74, 0.62), (0.62, 0.88), (0.4, 0.98), (0.2, 0.9)])
    return _placed([loop + tail[1:]], x, y, size)


STYLES: dict[str, tuple[int, Digit]] = {  # name: (the digit, how it is drawn)
    "zero": (0, zero), "zero_slanted": (0, zero_slanted),
    "one": (1, one), "one_with_flag": (1, one_with_flag), "one_with_base": (1, one_with_base),
    "two": (2, two), "two_with_loop": (2, two_with_loop),
    "three": (3, three), "three_flat_top": (3, three_flat_top),
    "four": (4, four), "four_closed": (4, four_closed),
    "five": (5, five), "five_one_stroke": (5, five_one_stroke),
    "six": (6, six), "six_straight": (6, six_straight),
    "seven": (7, seven), "seven_crossed": (7, seven_crossed),
    "eight": (8, eight), "eight_two_loops": (8, eight_two_loops),
    "nine": (9, nine), "nine_curved": (9, nine_curved),
}


# --- drawing them on a canvas ---------------------------------------------------------


def render(strokes: list[Stroke], pen_width: float, size: int = CANVAS_SIZE) -> np.ndarray:
    """The strokes traced by a round pen on a transparent size×size RGBA canvas (uint8,
    ink in alpha, as `mnist_core.drawings` and the app's canvas make them).

    Each polyline is filled in at least two points per pixel of length, so the centre
    line has no gaps; points off the canvas are dropped, as the canvas drops them.
    """
    centre_line = np.zeros((size, size), bool)
    for stroke in strokes:
        points = np.asarray(stroke, float).reshape(-1, 2)
        if not len(points):
            continue
        xs, ys = [points[:1, 0]], [points[:1, 1]]
        for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
            steps = int(math.ceil(2 * math.hypot(x1 - x0, y1 - y0))) + 1
            xs.append(np.linspace(x0, x1, steps))
            ys.append(np.linspace(y0, y1, steps))
        cols = np.round(np.concatenate(xs)).astype(int)
        rows = np.round(np.concatenate(ys)).astype(int)
        inside = (rows >= 0) & (rows < size) & (cols >= 0) & (cols < size)
        centre_line[rows[inside], cols[inside]] = True
    return _pen(centre_line, pen_width)


def _shaped(strokes: list[Stroke], degrees: float, width_scale: float) -> list[Stroke]:
    """Strokes made narrower or wider and turned about their box's centre."""
    points = np.concatenate([np.asarray(s, float) for s in strokes])
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    turn = math.radians(degrees)
    matrix = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    matrix = matrix @ np.diag([width_scale, 1.0])
    return [[tuple(p) for p in (np.asarray(s, float) - centre) @ matrix.T + centre]
            for s in strokes]


def hand_drawn_set(seed: int = 0, per_style: int = SET_DRAWINGS_PER_STYLE,
                   size: int = CANVAS_SIZE) -> tuple[list[np.ndarray], np.ndarray]:
    """(canvases, labels): every style of every digit drawn `per_style` times.

    The heights are spread evenly over 30–90% of the canvas, the pen widths over
    10–30 px (each in its own order), each drawing turned by up to ±10°, made up to
    a fifth narrower or a seventh wider, and put anywhere it fits. The same seed
    always gives the same drawings.
    """
    rng = np.random.default_rng(seed)
    canvases, labels = [], []
    for digit, draw in STYLES.values():
        heights = np.linspace(*SET_SIZES, per_style)
        pens = rng.permutation(np.linspace(*SET_PEN_WIDTHS, per_style))
        for height, pen in zip(heights, pens):
            strokes = _shaped(draw(0.0, 0.0, float(height * size - pen)),
                              rng.uniform(-SET_SLANT_DEGREES, SET_SLANT_DEGREES),
                              rng.uniform(*SET_WIDTH_SCALES))
            points = np.concatenate([np.asarray(s, float) for s in strokes])
            low, high = points.min(axis=0), points.max(axis=0)
            margin = pen / 2 + 2  # the pen's reach, its soft edge and rounding to pixels
            room = size - 1 - 2 * margin  # between the first and the last pixel's margins
            # A turned tall digit may no longer fit with its pen: shrink it until it does.
            fit = min(1.0, room / max(*(high - low), 1.0))
            free = room - fit * (high - low)
            corner = margin + rng.uniform(0, 1, 2) * free
            canvases.append(render([[tuple(p) for p in (np.asarray(s) - low) * fit + corner]
                                    for s in strokes], pen, size))
            labels.append(digit)
    return canvases, np.array(labels)
