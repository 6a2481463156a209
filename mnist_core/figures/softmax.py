"""The ten probabilities of a reading as a bar chart."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from mnist_core.data import NUM_CLASSES
from mnist_core.figures.style import (
    BAR_COLOUR,
    READ_COLOUR,
    compact,
)


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
