"""Plotly figure builders: the pages only place what these return."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np
import plotly.express as px
import plotly.graph_objects as go

if TYPE_CHECKING:  # keeps TensorFlow out of pages that only draw figures
    from mnist_core.train import BatchRecord, EpochRecord

TRAIN_COLOUR = "#1f77b4"
VALIDATION_COLOUR = "#ff7f0e"
BAR_COLOUR = "#9db4cc"
TOP_BAR_COLOUR = "#d62728"
BOTTOM_LEGEND = dict(orientation="h", x=0, y=-0.25, yanchor="top")
MAX_BATCH_POINTS = 600  # per chart: enough for a smooth line, light to send every poll
METRIC_TITLES = {"loss": "Loss (categorical cross-entropy)", "accuracy": "Accuracy"}


def _compact(fig: go.Figure, height: int) -> go.Figure:
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
    line, so the chart moves between the epoch points too.
    """
    fig = go.Figure()
    if batch_history and batches_per_epoch:
        step = max(1, len(batch_history) // MAX_BATCH_POINTS)
        shown = batch_history[::step]
        fig.add_scatter(
            x=[r.epoch - 1 + r.batch / batches_per_epoch for r in shown],
            y=[getattr(r, metric) for r in shown],
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
    fig.update_layout(
        title=METRIC_TITLES[metric],
        xaxis=dict(title="epoch", range=[0, max(epochs, 1) + 0.2], dtick=max(1, epochs // 10)),
        yaxis=dict(title=metric, rangemode="tozero" if metric == "loss" else "normal"),
        legend=BOTTOM_LEGEND,
    )
    return _compact(fig, 360)


def evolution_figure(epochs: Sequence[int], probabilities: np.ndarray) -> go.Figure:
    """How the softmax for one drawing changed from epoch to epoch: a line per digit."""
    probabilities = np.asarray(probabilities, dtype=float)
    top = int(probabilities[-1].argmax())
    fig = go.Figure()
    for digit in range(10):
        fig.add_scatter(
            x=list(epochs), y=probabilities[:, digit], name=str(digit), mode="lines+markers",
            line=dict(width=3 if digit == top else 1,
                      color=TOP_BAR_COLOUR if digit == top else None),
            opacity=1.0 if digit == top else 0.45,
            hovertemplate=f"digit {digit}, epoch %{{x}}: %{{y:.1%}}<extra></extra>",
        )
    fig.update_layout(
        title="This drawing, epoch by epoch",
        xaxis=dict(title="epoch", dtick=1),
        yaxis=dict(title="probability", range=[0, 1.05], tickformat=".0%"),
        legend=dict(BOTTOM_LEGEND, title="digit"),
    )
    return _compact(fig, 340)


def softmax_figure(probabilities: np.ndarray | None) -> go.Figure:
    """The ten softmax outputs as bars, the most probable digit highlighted.

    With no probabilities (nothing drawn yet) the axes are drawn empty, so the
    chart is in place, and the browser ready to draw it, before the first stroke.
    """
    empty = probabilities is None
    probabilities = np.zeros(10) if empty else np.asarray(probabilities, dtype=float)
    top = None if empty else int(probabilities.argmax())
    colours = [TOP_BAR_COLOUR if digit == top else BAR_COLOUR for digit in range(10)]
    fig = go.Figure(
        go.Bar(
            x=[str(digit) for digit in range(10)],
            y=probabilities,
            marker_color=colours,
            text=None if empty else [f"{p:.0%}" for p in probabilities],
            textposition="outside",
            hovertemplate="digit %{x}: %{y:.2%}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Softmax output: probability of each digit",
        xaxis=dict(title="digit", type="category"),
        yaxis=dict(title="probability", range=[0, 1.12], tickformat=".0%"),
    )
    return _compact(fig, 320)


def digit_grid_figure(images: np.ndarray, labels: Iterable[int], columns: int = 8) -> go.Figure:
    """Sample digits in a grid, each titled with its label."""
    fig = px.imshow(
        np.asarray(images), facet_col=0, facet_col_wrap=columns,
        binary_string=True, facet_col_spacing=0.01, facet_row_spacing=0.06,
    )
    labels = list(labels)
    # Facet titles come as "facet_col=i"; show the label instead.
    for annotation in fig.layout.annotations:
        index = int(annotation.text.split("=")[1])
        annotation.text = f"label {labels[index]}"
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    rows = -(-len(labels) // columns)
    return _compact(fig, 110 * rows + 30)


def image_figure(image: np.ndarray, title: str, zmax: float = 1.0) -> go.Figure:
    """One greyscale image with a pixel-value colour bar."""
    fig = px.imshow(image, color_continuous_scale="gray", zmin=0, zmax=zmax, title=title)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    return _compact(fig, 280)


def vector_strip_figure(vector: np.ndarray, title: str) -> go.Figure:
    """A flat pixel vector as one long strip: what the Dense layer receives."""
    fig = px.imshow(
        np.asarray(vector).reshape(1, -1), color_continuous_scale="gray",
        aspect="auto", title=title,
    )
    fig.update_yaxes(showticklabels=False)
    fig.update_xaxes(title="pixel index (row × 28 + column)")
    return _compact(fig, 170)


def enlarge(image: np.ndarray, factor: int = 5) -> np.ndarray:
    """A small image scaled up with hard pixel edges, for display."""
    return np.kron(np.asarray(image), np.ones((factor, factor), dtype=np.asarray(image).dtype))
