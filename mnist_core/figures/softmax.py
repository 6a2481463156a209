"""The ten probabilities of a reading as a bar chart.

The Draw page shows one after every stroke of every visitor, so it is built from a
checked template: Plotly validates the figure once, and each reading only fills in
its ten bars (validating every figure again took several times longer than the
rest of a reading's chart; see docs/benchmarks.md, "Capacity").
"""

from __future__ import annotations

import copy
from functools import cache

import numpy as np
import plotly.graph_objects as go

from mnist_core.data import NUM_CLASSES
from mnist_core.figures.style import (
    BAR_COLOUR,
    READ_COLOUR,
    compact,
)

DIGITS = [str(digit) for digit in range(NUM_CLASSES)]


def softmax_figure(probabilities: np.ndarray | None) -> go.Figure:
    """The ten softmax outputs as bars, the most probable digit highlighted.

    With no probabilities (nothing drawn yet) the axes are drawn empty, so the
    chart is in place, and the browser ready to draw it, before the first stroke.
    """
    spec = copy.deepcopy(_template())
    bar = spec["data"][0]
    if probabilities is not None:
        probabilities = np.asarray(probabilities, dtype=float)
        top = int(probabilities.argmax())
        bar["y"] = probabilities.tolist()
        bar["marker"]["color"] = [READ_COLOUR if digit == top else BAR_COLOUR
                                  for digit in range(NUM_CLASSES)]
        bar["text"] = [f"{p:.0%}" for p in probabilities]
    # Every value set above has the type and range the template's check accepted.
    return go.Figure(spec, _validate=False)


@cache
def _template() -> dict:
    """The chart without a reading, built and validated by Plotly once, as a dict."""
    fig = go.Figure(
        go.Bar(
            x=DIGITS,
            y=[0.0] * NUM_CLASSES,
            marker_color=[BAR_COLOUR] * NUM_CLASSES,
            textposition="outside",
            hovertemplate="digit %{x}: %{y:.2%}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Softmax output",
        xaxis=dict(title="digit", type="category"),
        yaxis=dict(title="probability", range=[0, 1.12], tickformat=".0%"),
    )
    return compact(fig, 320).to_dict()
