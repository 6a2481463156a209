"""The Data page's figures: the images browsed, their balance, their mean image, their
pixels, and one image's preparation step by step."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from mnist_core.data import INPUT_DIM, NUM_CLASSES, prepare_images
from mnist_core.explore import PIXEL_LEVELS
from mnist_core.figures.images import image_figure, image_grid_figure, vector_strip_figure
from mnist_core.figures.style import (
    BAR_COLOUR,
    compact,
)

GRID_COLUMNS = 12


def browse_figure(x: np.ndarray, y: np.ndarray, indices: np.ndarray) -> go.Figure:
    """The images at `indices` in a grid, each titled with its index and label."""
    return image_grid_figure(x[indices], [f"#{index}: {y[index]}" for index in indices],
                             GRID_COLUMNS)


def mean_images_figure(means: np.ndarray) -> go.Figure:
    """The ten mean images side by side, each titled with its digit."""
    # Rounded to uint8 for display only: a grey level is all the eye can see.
    shown = np.round(means).astype(np.uint8)
    return image_grid_figure(shown, [f"mean {digit}" for digit in range(NUM_CLASSES)],
                             columns=NUM_CLASSES)


def preparation_figures(image: np.ndarray, label: int,
                        index: int) -> tuple[go.Figure, go.Figure, go.Figure]:
    """One image as the classic tutorial prepares it: 28×28 pixels, 784 numbers, /255.

    Streamlit's theme draws tick marks on every axis: the image and the strips' single
    row have no scale to mark, so theirs are removed (the image stays square).
    """
    pixels = image_figure(image, f"#{index}, label {label}", zmax=255)
    pixels.update_xaxes(ticks="", showticklabels=False, showgrid=False, zeroline=False)
    pixels.update_yaxes(ticks="", showticklabels=False, showgrid=False, zeroline=False)
    strips = (
        vector_strip_figure(image.reshape(-1), f"Flattened: {INPUT_DIM} numbers"),
        vector_strip_figure(prepare_images(image[np.newaxis])[0],
                            "Scaled by /255: float32 in [0, 1]"),
    )
    for strip in strips:
        strip.update_yaxes(ticks="", showgrid=False, zeroline=False)
    return pixels, *strips


def class_counts_figure(counts: np.ndarray, set_name: str) -> go.Figure:
    """Images per digit as bars, with the count written on each."""
    fig = go.Figure(go.Bar(
        x=[str(digit) for digit in range(NUM_CLASSES)], y=counts, marker_color=BAR_COLOUR,
        text=[f"{count:,}" for count in counts], textposition="outside",
        hovertemplate="digit %{x}: %{y:,} images<extra></extra>",
    ))
    fig.update_layout(
        title=f"Images per digit ({set_name} set)", xaxis=dict(title="digit", type="category"),
        yaxis=dict(title="images", range=[0, counts.max() * 1.15], tickformat=","),
    )
    return compact(fig, 320)


def pixel_histogram_figure(counts: np.ndarray, set_name: str) -> go.Figure:
    """Pixels per value 0–255 on a log axis: the background's zeros would flatten the rest.

    The axis marks powers of ten only (dtick 1 on a log axis), written in full with
    thousands separators: Plotly's default 2s and 5s between them crowd the labels.
    """
    fig = go.Figure(go.Bar(
        x=np.arange(PIXEL_LEVELS), y=counts, marker_color=BAR_COLOUR, marker_line_width=0,
        hovertemplate="value %{x}: %{y:,} pixels<extra></extra>",
    ))
    fig.update_layout(
        title=f"Pixel values ({set_name} set, log scale)", bargap=0,
        xaxis=dict(title="pixel value (0–255)", range=[-1, 256]),
        yaxis=dict(title="pixels", type="log", dtick=1, tickformat=","),
    )
    return compact(fig, 320)
