"""Comparing saved runs: the runs table's rows (the curves: figures.training.compare_figure).

No Streamlit here: the Runs page only places what these return.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from mnist_core.runs.stored import RunSummary

# The training's settings, not the model's own: an imported model has none of them.
TRAINING_SETTINGS = ("lr schedule", "batch size", "train size", "drawing examples")
IMPORTED = "imported"  # an imported run's "epochs"


def run_label(run_id: str, name: str | None = None) -> str:
    """How a run is named in legends and menus: its id, and its name if it has one."""
    return f"{run_id} · {name}" if name else run_id


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


