"""Simulated canvas drawings of real MNIST digits, to measure what users will see.

A person draws with a round pen of fixed width, anywhere on the canvas, at any
size and a slight slant. So: take an MNIST digit's centre line (its skeleton),
scale and rotate it, and trace it with a pen of the chosen width, anti-aliased,
as black ink in the alpha channel of a transparent 280×280 RGBA canvas — exactly
what the app's canvas sends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

CANVAS_SIZE = 280


@dataclass(frozen=True)
class DrawingStyle:
    """How one simulated drawing is made."""

    height_fraction: float  # digit height / canvas height
    pen_width: float  # pixels
    rotation_degrees: float
    position: tuple[float, float]  # where the digit's box sits in the free space, 0–1 each


def random_style(rng: np.random.Generator) -> DrawingStyle:
    """The benchmark's spread: 30–90% of the canvas tall, pen 10–30 px, ±15°."""
    return DrawingStyle(
        height_fraction=rng.uniform(0.3, 0.9),
        pen_width=rng.uniform(10, 30),
        rotation_degrees=rng.uniform(-15, 15),
        position=(rng.uniform(0, 1), rng.uniform(0, 1)),
    )


def draw_digit(digit: np.ndarray, style: DrawingStyle, size: int = CANVAS_SIZE) -> np.ndarray:
    """An H×W×4 uint8 canvas with the digit traced in `style`; ink in alpha only."""
    from skimage.morphology import skeletonize

    rows, cols = np.nonzero(digit > 0)
    crop = digit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].astype(np.float32)
    # Leave room for the pen around the centre line.
    target_height = max(style.height_fraction * size - style.pen_width, 4)
    scale = target_height / crop.shape[0]
    width = max(int(round(crop.shape[1] * scale)), 1)
    big = np.asarray(
        Image.fromarray(crop).resize((width, int(round(target_height))), Image.Resampling.BILINEAR)
    )
    big = ndimage.rotate(big, style.rotation_degrees, reshape=True, order=1)
    skeleton = skeletonize(big > 0.5 * big.max())
    ys, xs = np.nonzero(skeleton)
    margin = style.pen_width / 2 + 1
    span_y, span_x = ys.max() - ys.min(), xs.max() - xs.min()
    free_y = max(size - 2 * margin - span_y, 0)
    free_x = max(size - 2 * margin - span_x, 0)
    top = margin + style.position[0] * free_y - ys.min()
    left = margin + style.position[1] * free_x - xs.min()
    centre_line = np.zeros((size, size), bool)
    ys, xs = np.round(ys + top).astype(int), np.round(xs + left).astype(int)
    inside = (ys >= 0) & (ys < size) & (xs >= 0) & (xs < size)
    centre_line[ys[inside], xs[inside]] = True
    return _pen(centre_line, style.pen_width)


def _pen(centre_line: np.ndarray, pen_width: float) -> np.ndarray:
    """A round pen of `pen_width` traced along `centre_line`, with a one-pixel soft edge.

    Ink lies within the pen's radius of the line, so the distance transform runs only
    on the line's box grown by that radius: the same canvas, a fraction of the work.
    """
    size = centre_line.shape[0]
    canvas = np.zeros((size, size, 4), np.uint8)
    rows, cols = np.nonzero(centre_line)
    if not len(rows):
        return canvas
    reach = int(np.ceil(pen_width / 2 + 0.5)) + 1
    top, left = max(rows.min() - reach, 0), max(cols.min() - reach, 0)
    bottom, right = min(rows.max() + reach + 1, size), min(cols.max() + reach + 1, size)
    distance = ndimage.distance_transform_edt(~centre_line[top:bottom, left:right])
    alpha = np.clip(pen_width / 2 + 0.5 - distance, 0.0, 1.0)
    canvas[top:bottom, left:right, 3] = np.round(alpha * 255).astype(np.uint8)
    return canvas


def drawn_test_set(
    x: np.ndarray, y: np.ndarray, count: int, seed: int = 0
) -> tuple[list[np.ndarray], np.ndarray]:
    """`count` drawings of the first `count` digits, each in its own random style."""
    rng = np.random.default_rng(seed)
    canvases = [draw_digit(x[i], random_style(rng)) for i in range(count)]
    return canvases, y[:count]


def draw_scribble(rng: np.random.Generator, size: int = CANVAS_SIZE) -> np.ndarray:
    """A random scrawl of 3–8 connected strokes: something that is not a digit."""
    points = rng.uniform(0.15 * size, 0.85 * size, size=(rng.integers(4, 10), 2))
    centre_line = np.zeros((size, size), bool)
    for (y0, x0), (y1, x1) in zip(points[:-1], points[1:]):
        steps = int(max(abs(y1 - y0), abs(x1 - x0))) + 1
        ys = np.linspace(y0, y1, steps).round().astype(int)
        xs = np.linspace(x0, x1, steps).round().astype(int)
        centre_line[ys, xs] = True
    return _pen(centre_line, rng.uniform(10, 30))
