"""Runs outlive the server: a link to a run trained before a restart shows it again."""

from __future__ import annotations

import numpy as np
from apptest_helpers import ROOT, TIMEOUT, app_at, job_of, wait_for_training
from streamlit.testing.v1 import AppTest


def restart_server() -> None:
    """A new server process starts with an empty registry over the same runs folder."""
    import ui

    ui.runs().shutdown()
    ui.runs.clear()
    ui._model_at.clear()


def test_a_run_is_back_after_a_restart_with_its_history_and_weights():
    at = app_at("train")
    at.select_slider(key="train_size").set_value(5_000).run()
    at.number_input(key="epochs").set_value(2).run()
    next(b for b in at.button if b.label == "Start training").click().run()
    wait_for_training(at)
    job = job_of(at)
    progress = job.progress()
    assert progress.status.value == "finished", progress.error
    run_id, weights = job.run_id, job.latest_snapshot().weights

    restart_server()
    import ui

    assert ui.runs().get(run_id) is None  # not in the new server's memory...
    reloaded = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    reloaded.query_params["run"] = run_id
    reloaded.switch_page("pages/train.py")
    reloaded.run()
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


def test_a_link_to_an_unknown_run_says_so():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["run"] = "Zz9Zz9Zz"
    at.run()
    assert not at.exception
    assert "run_id" not in at.session_state
    assert any("not found" in t.value for t in at.toast)
