"""Digits as images: grids with titles, one image, a strip of numbers, tiles for st.image."""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from mnist_core.data import IMAGE_SIZE
from mnist_core.figures.style import (
    compact,
)

GAP = 2  # transparent pixels between two images of a grid
TITLE_BAND = 9  # transparent pixels above each image of a grid, for its title


def tile_images(images: np.ndarray, columns: int) -> np.ndarray:
    """Images N×28×28 (uint8) as one grey-and-alpha mosaic, row by row.

    Each image sits under a transparent band for its title, with transparent gaps
    between images: the page's own background shows through.
    """
    rows = -(-len(images) // columns)
    height, width = images.shape[1:]
    mosaic = np.zeros((rows * (TITLE_BAND + height + GAP), columns * (width + GAP), 2), np.uint8)
    for position, image in enumerate(images):
        top, left = tile_origin(position, columns, height, width)
        mosaic[top:top + height, left:left + width] = np.stack(
            [image, np.full_like(image, 255)], axis=-1)
    return mosaic


def tile_origin(position: int, columns: int, height: int = IMAGE_SIZE,
                width: int = IMAGE_SIZE) -> tuple[int, int]:
    """Top-left pixel of the image at `position` in the mosaic of `tile_images`."""
    row, column = divmod(position, columns)
    return row * (TITLE_BAND + height + GAP) + TITLE_BAND, column * (width + GAP)


def image_grid_figure(images: np.ndarray, titles: list[str],
                      columns: int = 12) -> go.Figure:
    """Images in a grid with a title over each, as one PNG in one image trace.

    Plotly's time grows with every subplot, so a subplot per image is slow for a page
    of digits; one mosaic costs the same whatever the count (docs/benchmarks.md,
    "Evaluating"). Images are uint8 (0–255) or floats in [0, 1].
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = np.round(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(tile_images(images, columns)).save(buffer, format="PNG")
    source = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    height, width = images.shape[1:]
    annotations = []
    for position, caption in enumerate(titles):
        top, left = tile_origin(position, columns, height, width)
        annotations.append(dict(
            x=left + (width - 1) / 2, y=top - TITLE_BAND / 2, text=caption,
            showarrow=False, font=dict(size=11),
        ))
    fig = go.Figure(go.Image(source=source, hoverinfo="skip"))
    rows = -(-len(images) // columns)
    fig.update_layout(annotations=annotations, height=110 * rows + 20,
                      margin=dict(l=0, r=0, t=5, b=5))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def image_figure(image: np.ndarray, title: str, zmax: float = 1.0) -> go.Figure:
    """One greyscale image with a pixel-value colour bar."""
    fig = go.Figure(go.Heatmap(z=np.asarray(image), colorscale="gray", zmin=0, zmax=zmax,
                               hovertemplate="row %{y}, column %{x}: %{z}<extra></extra>"))
    fig.update_layout(title=title)
    fig.update_xaxes(showticklabels=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, autorange="reversed", scaleanchor="x")
    return compact(fig, 280)


def vector_strip_figure(vector: np.ndarray, title: str) -> go.Figure:
    """A flat pixel vector as one long strip: what the Dense layer receives."""
    fig = go.Figure(go.Heatmap(z=np.asarray(vector).reshape(1, -1), colorscale="gray",
                               hovertemplate="pixel %{x}: %{z}<extra></extra>"))
    fig.update_layout(title=title)
    fig.update_yaxes(showticklabels=False)
    fig.update_xaxes(title="pixel index (row × 28 + column)")
    return compact(fig, 170)


def tile(image: np.ndarray, size: int = 140, crisp: bool = False) -> np.ndarray:
    """An image of any shape in a `size`×`size` square, for a row of equal pictures.

    A tall or wide image is centred on a black square first, so a drawn 1 never
    turns into a strip a page tall. `crisp` scales up by a whole number with hard
    pixel edges (the 28×28 input, where each pixel counts: every one the same size),
    then pads to `size`; otherwise it is smoothed. Floats in [0, 1] in, uint8 out.
    """
    image = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    side = max(image.shape)
    square = _centred(image, side)
    picture = Image.fromarray(np.round(square * 255).astype(np.uint8))
    if not crisp:
        return np.asarray(picture.resize((size, size), Image.Resampling.LANCZOS))
    factor = max(1, size // side)
    scaled = np.asarray(picture.resize((side * factor,) * 2, Image.Resampling.NEAREST))
    return np.round(_centred(scaled / 255, size) * 255).astype(np.uint8)


def _centred(image: np.ndarray, side: int) -> np.ndarray:
    """`image` in the middle of a black `side`×`side` square."""
    square = np.zeros((side, side), np.float32)
    top, left = (side - image.shape[0]) // 2, (side - image.shape[1]) // 2
    square[top:top + image.shape[0], left:left + image.shape[1]] = image
    return square
