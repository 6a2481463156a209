"""Colours, legend and sizes that every figure of the app shares."""

from __future__ import annotations

import plotly.graph_objects as go

TRAIN_COLOUR = "#1f77b4"
VALIDATION_COLOUR = "#ff7f0e"
BAR_COLOUR = "#9db4cc"
READ_COLOUR = "#d62728"  # the digit the network chose
BOTTOM_LEGEND = dict(orientation="h", x=0, y=-0.25, yanchor="top")
WAITING_COLOUR = "#888888"
METRIC_TITLES = {"loss": "Loss (categorical cross-entropy)", "accuracy": "Accuracy"}


def compact(fig: go.Figure, height: int) -> go.Figure:
    """`fig` at `height` pixels, with the narrow margins every small chart here uses."""
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10))
    return fig


TRUE_COLOUR = "#2ca02c"  # the right answer, when the network missed it
