"""The Data explorer's numbers and figures: browse MNIST by digit and see what it is made of.

Everything here works on the uint8 arrays of `MnistData` (images N×28×28, labels N), so
the Data page only chooses a set and places what these functions return.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from mnist_core.data import INPUT_DIM, NUM_CLASSES, MnistData, prepare_images
from mnist_core.figures import (
    BAR_COLOUR,
    compact,
    image_figure,
    image_grid_figure,
    vector_strip_figure,
)

PAGE_SIZE = 48
GRID_COLUMNS = 12
PIXEL_LEVELS = 256  # uint8: 0 (background) to 255 (full ink)
SETS = {"train": "training", "test": "test"}


def images_and_labels(data: MnistData, set_name: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of the "train" or "test" set."""
    if set_name not in SETS:
        raise ValueError(f"Unknown set {set_name!r}: expected one of {', '.join(SETS)}.")
    return getattr(data, f"x_{set_name}"), getattr(data, f"y_{set_name}")


def class_counts(y: np.ndarray) -> np.ndarray:
    """Images per digit, 0–9: MNIST is nearly, not exactly, balanced."""
    return np.bincount(y, minlength=NUM_CLASSES)


def mean_images(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The average image of each digit (10×28×28, 0–255): the typical shape of a class."""
    return np.stack([x[y == digit].mean(axis=0) for digit in range(NUM_CLASSES)])


def pixel_histogram(x: np.ndarray) -> np.ndarray:
    """How many pixels have each value 0–255.

    About four pixels in five are background (0), so only the ink is counted value by
    value and the zeros are the rest: much faster than counting all 47 million pixels
    of the training set (docs/benchmarks.md, "Evaluating").
    """
    ink = x[x > 0]
    counts = np.bincount(ink, minlength=PIXEL_LEVELS)
    counts[0] = x.size - ink.size
    return counts


def class_indices(y: np.ndarray, digit: int | None) -> np.ndarray:
    """Indices of the images of one digit, in dataset order; all of them for None."""
    return np.arange(len(y)) if digit is None else np.flatnonzero(y == digit)


def page_count(indices: np.ndarray, page_size: int = PAGE_SIZE) -> int:
    """Pages needed to show `indices`; at least one, so the page control always has a range."""
    return max(1, -(-len(indices) // page_size))


def page_of(indices: np.ndarray, page: int, page_size: int = PAGE_SIZE) -> np.ndarray:
    """The indices on `page`, counted from 1 as the page control shows it."""
    start = (page - 1) * page_size
    return indices[start:start + page_size]


def one_hot_label(label: int) -> np.ndarray:
    """The label as the network's target: a 1 at position `label`, zeros elsewhere."""
    return (np.arange(NUM_CLASSES) == label).astype(np.float32)


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
