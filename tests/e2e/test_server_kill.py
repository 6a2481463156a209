"""A server killed with SIGKILL mid-training: on restart the run is interrupted, nothing lost.

Issue #8: kill the server during a training, restart it, and the run is marked
interrupted, its saved epochs are intact, and no file is corrupt. The test starts its
own Streamlit servers on a runs directory of its own (the session's shared server must
survive), starts a training in Chromium, kills the server once two epochs are on disk,
checks every file as the kill left it, then restarts the server and reads the run
back, in the browser and on disk.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from kill_checks import check_files_as_killed, check_recovered
from playwright.sync_api import Page, expect

from mnist_core.atomic import TEMP_PREFIX
from mnist_core.runs.errors import StoreError
from mnist_core.runs.store import RunStore

from .conftest import _log_tail, app_server, close_page, new_page
from .test_browser import exceptions, open_app, start_training, table_rows

EPOCHS = 50  # far more than are trained before the kill
UNITS = 64
PARAMS = 784 * UNITS + UNITS + UNITS * 10 + 10
# A small, slow-enough training: 1,000 images in batches of 32 (29 steps per epoch).
SETUP = f"epochs={EPOCHS}&train_size=1000&batch_size=32&units={UNITS}"
EPOCHS_BEFORE_KILL = 2
SAVED_EPOCHS_TIMEOUT_S = 180
RUN_IN_URL = re.compile(r"[?&]run=([A-Za-z0-9_-]{8})")


def wait_for_saved_epochs(process: subprocess.Popen, store: RunStore, run_id: str,
                          log_path: Path) -> list[dict]:
    """The run's history once it holds EPOCHS_BEFORE_KILL epochs, read as the store reads it.

    Polled while the server writes: a half-written file would fail `store.load`.
    """
    deadline = time.monotonic() + SAVED_EPOCHS_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server died on its own:\n{_log_tail(log_path)}"
        if store.exists(run_id):
            try:
                run = store.load(run_id)
            except StoreError as error:
                pytest.fail(f"a file of the running run was unreadable: {error}")
            assert run.status == "running", f"the run is {run.status} before the kill"
            if len(run.history) >= EPOCHS_BEFORE_KILL:
                return list(run.history)
        time.sleep(0.05)
    pytest.fail(f"{EPOCHS_BEFORE_KILL} epochs were not saved in {SAVED_EPOCHS_TIMEOUT_S} s")


def runs_table_row(page: Page, run_id: str) -> dict[str, str]:
    """The Runs page's table row of one run, read from the table's accessible copy."""
    table = page.get_by_test_id("stDataFrame").filter(has=page.locator("th", has_text="Status"))
    expect(table).to_be_visible()
    rows = [row for row in table_rows(table) if row.get("Run") == run_id]
    assert len(rows) == 1, table_rows(table)
    return rows[0]


def test_a_server_killed_mid_training_restarts_with_the_run_interrupted_and_intact(
    browser, artifacts, tmp_path
):
    """SIGKILL the server after two saved epochs: every file is whole, and the restarted
    server marks the run interrupted and shows it, with its epochs, on the Runs and Train pages."""
    runs_dir = tmp_path / "runs"
    store = RunStore(runs_dir, recover=False)  # reads only: marking is the server's job
    before_log = artifacts / "streamlit-server-kill-before.log"
    with app_server(before_log, MNIST_RUNS_DIR=str(runs_dir)) as (process, url):
        page = new_page(browser)
        try:
            open_app(page, url, f"train?{SETUP}", "Train the network")
            start_training(page)
            expect(page).to_have_url(RUN_IN_URL)
            run_id = RUN_IN_URL.search(page.url).group(1)
            wait_for_saved_epochs(process, store, run_id, before_log)
            os.kill(process.pid, signal.SIGKILL)
            assert process.wait(timeout=30) == -signal.SIGKILL
        finally:
            page.context.close()  # no close_page: there is no server left to stop a training

    run_dir = store.run_dir(run_id)
    history = check_files_as_killed(run_dir, planned_epochs=EPOCHS, params=PARAMS,
                                    min_epochs=EPOCHS_BEFORE_KILL)
    n = len(history)

    with app_server(artifacts / "streamlit-server-kill-after.log",
                    MNIST_RUNS_DIR=str(runs_dir)) as (_, url):
        page = new_page(browser)
        try:
            open_app(page, url, "runs", "Runs")
            row = runs_table_row(page, run_id)
            assert row["Status"] == "interrupted" and row["Epochs"] == f"{n}/{EPOCHS}", row

            run = store.load(run_id)  # as the restarted server marked it
            assert run.status == "interrupted" and run.meta["interrupted_from"] == "running"
            assert list(run.history) == history  # the saved epochs, untouched
            check_recovered(run_dir, history)
            assert sorted(run_dir.glob(f"{TEMP_PREFIX}*")) == []  # debris of cut writes cleared

            open_app(page, url, f"train?run={run_id}", "Train the network")
            expect(page.get_by_text(
                f"This run was interrupted when the server stopped, after {n} complete "
                "epoch(s); those are kept.")).to_be_visible()
            expect(exceptions(page)).to_have_count(0)
            assert store.load_model(run_id).count_params() == PARAMS
        finally:
            close_page(page)
