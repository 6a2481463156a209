"""Runs outlive the server: a link to a run trained before a restart shows it again."""

from __future__ import annotations

import numpy as np
from apptest_helpers import app_with_run, job_of, train_on_train_page


def restart_server() -> None:
    """A new server process starts with an empty registry over the same runs folder."""
    import ui

    ui.runs().shutdown()
    ui.runs.clear()
    ui._model_at.clear()


def test_a_run_is_back_after_a_restart_with_its_history_and_weights():
    job = job_of(train_on_train_page(train_size=5_000, epochs=2))
    progress = job.progress()
    assert progress.status.value == "finished", progress.error
    run_id, weights = job.run_id, job.latest_snapshot().weights

    restart_server()
    import ui

    assert ui.runs().get(run_id) is None  # not in the new server's memory...
    reloaded = app_with_run("train", run_id)
    assert not reloaded.exception
    assert reloaded.session_state["run_id"] == run_id  # ...but the link finds it on disk
    back = ui.runs().get(run_id)
    assert [r.loss for r in back.progress().history] == [r.loss for r in progress.history]
    assert back.progress().test_accuracy == progress.test_accuracy
    for saved, original in zip(back.latest_snapshot().weights, weights):
        np.testing.assert_array_equal(saved, original)
    assert any("Training finished" in s.value for s in reloaded.success)
    metrics = {m.label: m.value for m in reloaded.metric}
    assert metrics["Epochs done"] == "2/2"

