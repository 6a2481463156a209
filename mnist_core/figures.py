"""Plotly figure builders: the pages only place what these return."""

from __future__ import annotations

import base64
import io
import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from mnist_core.data import IMAGE_SIZE, NUM_CLASSES
from mnist_core.runs.records import BatchRecord, EpochRecord

TRAIN_COLOUR = "#1f77b4"
VALIDATION_COLOUR = "#ff7f0e"
BAR_COLOUR = "#9db4cc"
READ_COLOUR = "#d62728"  # the digit the network chose
BOTTOM_LEGEND = dict(orientation="h", x=0, y=-0.25, yanchor="top")
GAP = 2  # transparent pixels between two images of a grid
TITLE_BAND = 9  # transparent pixels above each image of a grid, for its title
MAX_BATCH_POINTS = 600  # per chart: enough for a smooth line, light to send every poll
EMPTY_LOSS_TOP = 2.5  # just above ln 10 ≈ 2.3, the loss of a guess among ten digits
WAITING_COLOUR = "#888888"
METRIC_TITLES = {"loss": "Loss (categorical cross-entropy)", "accuracy": "Accuracy"}


def compact(fig: go.Figure, height: int) -> go.Figure:
    """`fig` at `height` pixels, with the narrow margins every small chart here uses."""
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def history_figure(
    history: Sequence[EpochRecord],
    metric: str,
    epochs: int,
    batch_history: Sequence[BatchRecord] = (),
    batches_per_epoch: int = 0,
) -> go.Figure:
    """Train and validation `metric` per epoch, on an x axis fixed to all `epochs`.

    Within each epoch, Keras' running value after every batch is drawn as a faint
    line, so the chart moves between the epoch points too; the line breaks where an
    epoch begins, since Keras starts its running value afresh there. The y axis is
    chosen by `history_range`; before the first batch the chart says so.
    """
    fig = go.Figure()
    if batch_history and batches_per_epoch:
        step = max(1, len(batch_history) // MAX_BATCH_POINTS)
        x_batches: list[float | None] = []
        y_batches: list[float | None] = []
        for before, record in zip((None, *batch_history[::step]), batch_history[::step]):
            if before is not None and before.epoch != record.epoch:
                x_batches.append(None)  # a gap: no line from one epoch's run into the next
                y_batches.append(None)
            x_batches.append(record.epoch - 1 + record.batch / batches_per_epoch)
            y_batches.append(getattr(record, metric))
        fig.add_scatter(
            x=x_batches, y=y_batches,
            name="train (running, per batch)", mode="lines",
            line=dict(color=TRAIN_COLOUR, width=1), opacity=0.35,
        )
    x = [record.epoch for record in history]
    fig.add_scatter(
        x=x, y=[getattr(r, metric) for r in history], name="train",
        mode="lines+markers", line=dict(color=TRAIN_COLOUR),
    )
    val = [getattr(r, f"val_{metric}") for r in history]
    if any(v is not None for v in val):
        fig.add_scatter(
            x=x, y=val, name="validation",
            mode="lines+markers", line=dict(color=VALIDATION_COLOUR, dash="dot"),
        )
    percent = metric == "accuracy"
    fig.update_layout(
        title=METRIC_TITLES[metric],
        xaxis=dict(title="epoch", range=[0, max(epochs, 1) + 0.2], tickmode="linear", tick0=0,
                   dtick=epoch_tick_step(epochs)),
        yaxis=dict(title=metric, range=history_range(metric, history, batch_history),
                   tickformat=".2~%" if percent else None,
                   hoverformat=".2%" if percent else ".4f"),
        legend=BOTTOM_LEGEND,
    )
    if not history and not batch_history:
        fig.add_annotation(text="No batch trained yet", x=0.5, y=0.5, xref="paper",
                           yref="paper", showarrow=False, font=dict(size=14, color=WAITING_COLOUR))
    return compact(fig, 360)


def history_range(
    metric: str, history: Sequence[EpochRecord], batch_history: Sequence[BatchRecord] = ()
) -> list[float]:
    """The y range of `history_figure`, readable at every moment of a run.

    Keras' running value starts epoch 1 at a guess's (loss ≈ ln 10, accuracy ≈ 10%):
    were that to set the range, the epoch points would lie flat. So once an epoch is
    done, the range follows the epoch points and the later epochs' batch line, and
    epoch 1's steep start runs off the chart; until then the batch line is all there
    is, and before it, fixed axes (loss 0–2.5, accuracy 0–100%). Loss starts at 0,
    accuracy ends at 100%; the other end follows the values, with a margin.
    """
    values = [value for record in history
              for value in (getattr(record, metric), getattr(record, f"val_{metric}"))]
    values += [getattr(r, metric) for r in batch_history if not history or r.epoch > 1]
    values = [value for value in values if value is not None and math.isfinite(value)]
    if metric == "loss":
        return [0.0, max(values) * 1.1 if values and max(values) > 0 else EMPTY_LOSS_TOP]
    lowest = min(values, default=0.0)
    margin = max(0.1 * (1 - lowest), 0.01)  # at least a percentage point below
    low = max(0.0, math.floor((lowest - margin) * 100) / 100)
    return [low, 1 + 0.02 * (1 - low)]  # room above 100% for the markers


def epoch_tick_step(epochs: int) -> int:
    """Whole epochs between two ticks: every epoch up to 10, then every 2nd, then 5th."""
    return 1 if epochs <= 10 else 2 if epochs <= 20 else 5


def evolution_figure(epochs: Sequence[int], probabilities: np.ndarray) -> go.Figure:
    """How the softmax for one drawing changed from epoch to epoch: a line per digit."""
    probabilities = np.asarray(probabilities, dtype=float)
    top = int(probabilities[-1].argmax())
    fig = go.Figure()
    for digit in range(NUM_CLASSES):
        fig.add_scatter(
            x=list(epochs), y=probabilities[:, digit], name=str(digit), mode="lines+markers",
            line=dict(width=3 if digit == top else 1,
                      color=READ_COLOUR if digit == top else None),
            opacity=1.0 if digit == top else 0.45,
            hovertemplate=f"digit {digit}, epoch %{{x}}: %{{y:.1%}}<extra></extra>",
        )
    fig.update_layout(
        title="This drawing, epoch by epoch",
        xaxis=dict(title="epoch", dtick=1),
        yaxis=dict(title="probability", range=[0, 1.05], tickformat=".0%"),
        legend=dict(BOTTOM_LEGEND, title="digit"),
    )
    return compact(fig, 340)


def softmax_figure(probabilities: np.ndarray | None) -> go.Figure:
    """The ten softmax outputs as bars, the most probable digit highlighted.

    With no probabilities (nothing drawn yet) the axes are drawn empty, so the
    chart is in place, and the browser ready to draw it, before the first stroke.
    """
    empty = probabilities is None
    probabilities = np.zeros(NUM_CLASSES) if empty else np.asarray(probabilities, dtype=float)
    top = None if empty else int(probabilities.argmax())
    colours = [READ_COLOUR if digit == top else BAR_COLOUR for digit in range(NUM_CLASSES)]
    fig = go.Figure(
        go.Bar(
            x=[str(digit) for digit in range(NUM_CLASSES)],
            y=probabilities,
            marker_color=colours,
            text=None if empty else [f"{p:.0%}" for p in probabilities],
            textposition="outside",
            hovertemplate="digit %{x}: %{y:.2%}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Softmax output",
        xaxis=dict(title="digit", type="category"),
        yaxis=dict(title="probability", range=[0, 1.12], tickformat=".0%"),
    )
    return compact(fig, 320)


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
