"""Runs outlive the server: a link to a run trained before a restart shows it again."""

from __future__ import annotations

import numpy as np
from apptest_helpers import app_with_run, job_of, train_on_train_page


def restart_server() -> None:
    """A new server process starts with an empty registry over the same runs folder."""
    from ui.server import runs
    from ui.session import _model_at

    runs().shutdown()
    runs.clear()
    _model_at.clear()


def test_a_run_is_back_after_a_restart_with_its_history_and_weights():
    job = job_of(train_on_train_page(train_size=5_000, epochs=2))
    progress = job.progress()
    assert progress.status.value == "finished", progress.error
    run_id, weights = job.run_id, job.latest_snapshot().weights

    restart_server()
    from ui.server import runs

    assert runs().get(run_id) is None  # not in the new server's memory...
    reloaded = app_with_run("train", run_id)
    assert not reloaded.exception
    assert reloaded.session_state["run_id"] == run_id  # ...but the link finds it on disk
    back = runs().get(run_id)
    assert [r.loss for r in back.progress().history] == [r.loss for r in progress.history]
    assert back.progress().test_accuracy == progress.test_accuracy
    for saved, original in zip(back.latest_snapshot().weights, weights):
        np.testing.assert_array_equal(saved, original)
    assert any("Training finished" in s.value for s in reloaded.success)
    metrics = {m.label: m.value for m in reloaded.metric}
    assert metrics["Epochs done"] == "2/2"



def test_a_new_tab_opens_the_latest_finished_run_even_after_a_restart():
    """A new session with no run in its link (a new tab, the bare address) was told
    "No trained model yet" while the server held the person's finished runs: it opens
    the latest of them, and the sidebar says so."""
    from apptest_helpers import app_at

    job = job_of(train_on_train_page(train_size=1_000, epochs=1))
    assert job.progress().status.value == "finished", job.progress().error
    restart_server()

    at = app_at("draw", open_latest=True)
    assert not at.exception
    assert at.session_state["run_id"] == at.session_state["model_run_id"] == job.run_id
    assert at.query_params["run"] == job.run_id
    assert not any("No trained model yet" in w.value for w in at.warning)
    (ready,) = [s.value for s in at.sidebar.success]
    assert ready.startswith(f"**Model ready** — run `{job.run_id}`, 1 epoch, test accuracy ")
    assert any("Your latest finished run, opened for you" in c.value for c in at.sidebar.caption)

    at.run()  # later runs of the same session keep it, and say nothing new
    assert at.session_state["run_id"] == job.run_id


def test_a_link_to_a_run_wins_over_the_latest_one():
    from apptest_helpers import app_at

    older = job_of(train_on_train_page(train_size=1_000, epochs=1))
    newer = job_of(train_on_train_page(train_size=1_000, epochs=1))
    assert app_at("train", open_latest=True).session_state["run_id"] == newer.run_id
    linked = app_with_run("train", older.run_id)
    assert linked.session_state["run_id"] == older.run_id
    assert not any("Your latest finished run" in c.value for c in linked.sidebar.caption)


def test_a_link_to_a_damaged_run_says_what_is_wrong_with_it():
    """The registry used to swallow the store's reason and say "not found"."""
    from ui.server import runs

    job = job_of(train_on_train_page(train_size=1_000, epochs=1))
    restart_server()
    (runs().store.root / job.run_id / "config.json").write_text("{damaged")

    at = app_with_run("evaluate", job.run_id)
    assert not at.exception
    (toast,) = [t.value for t in at.toast]
    assert f"Run '{job.run_id}' could not be opened" in toast
    assert "config.json could not be read" in toast
    assert "run" not in at.query_params
