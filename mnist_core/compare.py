"""Comparing saved runs: the runs table's rows and the overlaid training curves.

No Streamlit here: the Runs page only places what these return.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

import plotly.graph_objects as go
from plotly.colors import qualitative

from mnist_core.figures import BOTTOM_LEGEND, METRIC_TITLES
from mnist_core.runs.stored import RunSummary

RUN_COLOURS = qualitative.Plotly  # ten distinct colours, then they repeat
# The training's settings, not the model's own: an imported model has none of them.
TRAINING_SETTINGS = ("lr schedule", "batch size", "train size", "drawing examples")
IMPORTED = "imported"  # an imported run's "epochs"


def run_label(run_id: str, name: str | None = None) -> str:
    """How a run is named in legends and menus: its id, and its name if it has one."""
    return f"{run_id} · {name}" if name else run_id


def run_colour(position: int) -> str:
    return RUN_COLOURS[position % len(RUN_COLOURS)]


def table_rows(summaries: Iterable[RunSummary]) -> list[dict]:
    """`RunSummary.as_row()` for each run, all with the same columns, ready for a table.

    Dense and convolutional runs have different hyperparameters ("hidden units",
    "conv filters"): every row gets every column, None where it does not apply, for
    the table to show as a dash. "train size" is a number or "all", so it is text
    ("5,000"), one type per column; "created" is a datetime, to format and sort.
    An imported model was not trained here: its epochs read "imported", and the
    training settings, which are only the defaults, are None.
    """
    rows = []
    for summary in summaries:
        row = summary.as_row()
        row["created"] = (None if summary.created is None
                          else datetime.fromtimestamp(summary.created))
        if _is_imported(summary):
            row.update(dict.fromkeys(TRAINING_SETTINGS), epochs=IMPORTED)
        rows.append(row)
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    table = []
    for row in rows:
        full = {column: row.get(column) for column in columns}
        if full.get("train size") is not None:
            size = full["train size"]
            full["train size"] = f"{size:,}" if isinstance(size, int) else str(size)
        table.append(full)
    return table


def _is_imported(summary: RunSummary) -> bool:
    """An uploaded model: saved finished with no epoch trained, which no training does."""
    return summary.status == "finished" and not summary.epochs_completed


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
