"""Training curves: a run's history as it grows, a drawing's reading across the epochs,
and several runs overlaid."""

from __future__ import annotations

import html
import math
from typing import Any, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from mnist_core.data import NUM_CLASSES
from mnist_core.figures.style import (
    BOTTOM_LEGEND,
    METRIC_TITLES,
    READ_COLOUR,
    TRAIN_COLOUR,
    VALIDATION_COLOUR,
    WAITING_COLOUR,
    compact,
)
from mnist_core.runs.records import BatchRecord, EpochRecord

MAX_BATCH_POINTS = 600  # per chart: enough for a smooth line, light to send every poll
EMPTY_LOSS_TOP = 2.5  # just above ln 10 ≈ 2.3, the loss of a guess among ten digits


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


RUN_COLOURS = qualitative.Plotly  # ten distinct colours, then they repeat


def run_colour(position: int) -> str:
    return RUN_COLOURS[position % len(RUN_COLOURS)]


def _value(row: Any, key: str) -> Any:
    """A field of a history row: a dict (StoredRun.history) or an EpochRecord."""
    return row.get(key) if isinstance(row, Mapping) else getattr(row, key, None)


def compare_figure(histories: Mapping[str, Sequence[Any]], metric: str) -> go.Figure:
    """`metric` per epoch for several runs, overlaid: one colour per run.

    `histories` maps each run's label (see `run_label`) to its history rows, in the
    order the runs should be listed. Training is a solid line, validation a dotted
    one in the same colour; a run trained without validation has no dotted line.
    Clicking a run's entry in the legend hides or shows both of its lines. Labels
    are escaped: Plotly reads HTML in trace names, and a run's name is the user's text.
    """
    fig = go.Figure()
    longest = 1
    for position, (label, history) in enumerate(histories.items()):
        colour = run_colour(position)
        shown = html.escape(label, quote=False)
        epochs = [_value(row, "epoch") for row in history]
        longest = max([longest, *(epoch for epoch in epochs if epoch is not None)])
        fig.add_scatter(
            x=epochs, y=[_value(row, metric) for row in history], name=f"{shown} train",
            mode="lines+markers", line=dict(color=colour), legendgroup=label,
        )
        validation = [_value(row, f"val_{metric}") for row in history]
        if any(value is not None for value in validation):
            fig.add_scatter(
                x=epochs, y=validation, name=f"{shown} validation",
                mode="lines+markers", line=dict(color=colour, dash="dot"),
                marker=dict(symbol="circle-open"), legendgroup=label,
            )
    fig.update_layout(
        title=METRIC_TITLES[metric],
        xaxis=dict(title="epoch", dtick=max(1, longest // 10), rangemode="tozero"),
        yaxis=dict(title=metric, rangemode="tozero" if metric == "loss" else "normal",
                   tickformat=".2~%" if metric == "accuracy" else None,
                   hoverformat=".2%" if metric == "accuracy" else ".4f"),
        legend=BOTTOM_LEGEND,
        height=420,
        margin=dict(l=10, r=10, t=40, b=10),
    )
    return fig
