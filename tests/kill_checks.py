"""What a training killed with SIGKILL must leave behind, checked the same way wherever it dies.

Used by the store's test (a killed `python -m mnist_core train`) and the browser test
(a killed Streamlit server).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from mnist_core.model import load_model
from mnist_core.runs.stored import HISTORY_CSV, HISTORY_JSON, MODEL_FILE, RUN_FILE, WEIGHTS_FILE


def history_csv_epochs(run_dir: Path) -> list[int]:
    with open(run_dir / HISTORY_CSV, newline="") as file:
        return [int(row["epoch"]) for row in csv.DictReader(file)]


def check_files_as_killed(run_dir: Path, *, planned_epochs: int, params: int,
                          min_epochs: int = 2) -> list[dict]:
    """Every file the kill left reads back whole, and the run still says "running".

    Returns the saved history.
    """
    for path in run_dir.glob("*.json"):
        json.loads(path.read_text())
    history = json.loads((run_dir / HISTORY_JSON).read_text())
    n = len(history)
    assert n >= min_epochs and [row["epoch"] for row in history] == list(range(1, n + 1))
    assert all(math.isfinite(row["loss"]) and 0 <= row["accuracy"] <= 1 for row in history)
    # The table is written just after the JSON, so the kill may have come between them.
    assert history_csv_epochs(run_dir) in (list(range(1, n + 1)), list(range(1, n)))
    meta = json.loads((run_dir / RUN_FILE).read_text())
    assert meta["status"] == "running" and meta["epochs"] == planned_epochs
    model = load_model(str(run_dir / MODEL_FILE))
    assert model.count_params() == params
    if (run_dir / WEIGHTS_FILE).exists():  # short epochs skip the full save, not this one
        with np.load(run_dir / WEIGHTS_FILE, allow_pickle=False) as weights:
            # Saved just before the history: at most one epoch ahead of it.
            assert 1 <= int(weights["epoch"]) <= n + 1
            shapes = [weights[name].shape for name in sorted(weights.files) if name != "epoch"]
        assert shapes == [array.shape for array in model.get_weights()]
    return history


def check_recovered(run_dir: Path, history: list[dict]) -> None:
    """After the restart: the saved epochs are untouched and the table agrees with them."""
    assert json.loads((run_dir / HISTORY_JSON).read_text()) == history
    assert history_csv_epochs(run_dir) == [row["epoch"] for row in history]
