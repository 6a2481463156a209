"""The Runs page: every saved run in a table; compare, rename, download, delete, draw with one.

The runs folder is shared by the whole test session, so other tests' runs are in the
table too: these tests only look for their own run ids. One tiny run (1,000 images,
one epoch) is trained through the Train page for the module.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from apptest_helpers import app_at, train_on_train_page, wait_for_training

import mnist_core.runs.liveness as liveness
from mnist_core.atomic import atomic_write_json
from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.runs.owners import Owner
from mnist_core.runs.stored import HISTORY_FIELDS

TABLE = "runs_table"


@pytest.fixture(scope="module")
def run_id():
    """A run trained through the Train page, as a user would."""
    return train_on_train_page(train_size=1_000, epochs=1).session_state["run_id"]


def store():
    from ui.server import runs

    return runs().store


def table(at):
    """The runs table as a DataFrame indexed by run id."""
    frames = [df.value for df in at.dataframe if "id" in df.value.columns]
    assert len(frames) == 1, "the Runs page shows one runs table"
    return frames[0].set_index("id")


def select(at, *run_ids):
    """Tick these runs' rows, as a click on their boxes in the table would."""
    ids = list(table(at).index)
    at.session_state[TABLE] = {"selection": {"rows": [ids.index(r) for r in run_ids]}}
    return at.run()


def button(at, label):
    return next(b for b in at.button if b.label == label)


def charts(at):
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def fake_run(run_id: str, status: str, process: dict) -> Path:
    """A run folder as a training process leaves it before its first epoch is done."""
    run_dir = store().root / run_id
    run_dir.mkdir()
    atomic_write_json(run_dir / "config.json", {
        "model": ModelConfig(hidden_units=(16,)).to_dict(), "train": TrainConfig().to_dict(),
    })
    atomic_write_json(run_dir / "history.json", [])
    (run_dir / "history.csv").write_text(",".join(HISTORY_FIELDS) + "\n")
    atomic_write_json(run_dir / "run.json", {
        "id": run_id, "status": status, "created": time.time(), "process": process,
    })
    return run_dir


def test_a_saved_run_is_in_the_table_with_its_results(run_id):
    at = app_at("runs")
    assert not at.exception
    row = table(at).loc[run_id]
    stored = store().load(run_id)
    assert row["status"] == "finished"
    assert row["model"] == "dense"
    # Rounded as the table shows them: float32 0.6418 (0.64179998) would read 64.17%.
    assert row["test accuracy"] == round(stored.test_accuracy, 4)
    assert row["train accuracy"] == round(stored.history[-1]["accuracy"], 4)
    assert row["val accuracy"] == round(stored.history[-1]["val_accuracy"], 4)
    assert row["s/epoch"] == pytest.approx(stored.seconds_per_epoch, abs=1e-4)
    assert row["epochs"] == "1/1"
    assert row["train size"] == "1,000"
    assert row["hidden units"] == "512" and row["optimizer"] == "rmsprop"
    # Nothing selected yet: no curves, no actions.
    assert not charts(at)
    assert not any(b.label == "Rename" for b in at.button)


def runs_table(at):
    """The runs table element itself: its column settings as the browser receives them."""
    (element,) = [df for df in at.dataframe if "id" in df.value.columns]
    return element


def test_the_table_fits_its_results_with_human_headers_and_dashes(run_id):
    """At 1,400 px the results fit: run and name pinned, one precision for every
    percentage, a dash where a value does not apply; hyperparameters on demand."""
    at = app_at("runs")
    element = runs_table(at)
    config = json.loads(element.proto.columns)
    results = ["id", "name", "created", "status", "model", "epochs", "test accuracy",
               "val accuracy", "train accuracy", "s/epoch"]
    assert list(element.proto.column_order) == results
    assert [config[column]["label"] for column in results] == [
        "Run", "Name", "Created", "Status", "Model", "Epochs", "Test accuracy",
        "Val. accuracy", "Train accuracy", "Per epoch"]
    assert config["id"]["pinned"] and config["name"]["pinned"]
    for column in ("test accuracy", "val accuracy", "train accuracy"):
        assert config[column]["type_config"] == {"type": "number", "format": "percent",
                                                 "step": 0.0001}  # 99.08%, 79.20%
    assert config["s/epoch"]["type_config"]["format"] == "%.1f s"
    assert config["learning rate"]["type_config"]["format"] == "%g"  # 0.001, not 1e-3
    assert config["created"]["type_config"]["type"] == "datetime"
    assert element.proto.placeholder == "—"  # a value that does not apply: not "None"

    at.toggle(key="runs_all_columns").set_value(True).run()
    shown = list(runs_table(at).proto.column_order)
    assert shown[:len(results)] == results
    assert {"hidden units", "optimizer", "learning rate", "batch size",
            "train size"} <= set(shown[len(results):])
    assert set(shown) == set(table(at).reset_index().columns)  # every column reachable


def test_an_imported_model_reads_imported_with_its_test_accuracy(mnist):
    from mnist_core.model import build_model
    from mnist_core.runs.train import TrainingJob
    from ui.server import runs

    job = TrainingJob.imported(mnist, build_model(ModelConfig(hidden_units=(16,))), "x.keras")
    runs().add(job, Owner("someone else"))
    row = table(app_at("runs")).loc[job.run_id]
    assert row["epochs"] == "imported"  # not "0/1"
    assert row["test accuracy"] == pytest.approx(job.progress().test_accuracy)
    assert row[["train accuracy", "val accuracy", "s/epoch", "batch size"]].isna().all()


def test_a_run_named_in_html_is_named_in_text_in_the_legend():
    run_dir = fake_run("HtmlName", "finished", {})
    try:
        store().rename("HtmlName", "<b>bold</b>")
        at = select(app_at("runs"), "HtmlName")
        assert not at.exception
        names = [trace["name"] for trace in charts(at)[0]["data"]]
        assert names == ["HtmlName · &lt;b&gt;bold&lt;/b&gt; train"]
    finally:
        shutil.rmtree(run_dir)


def test_selected_runs_are_overlaid_and_the_selection_follows_the_runs(run_id):
    at = app_at("runs")
    select(at, run_id)
    assert not at.exception
    loss, accuracy = charts(at)
    history = store().load(run_id).history
    for figure, metric in ((loss, "loss"), (accuracy, "accuracy")):
        train, validation = figure["data"]
        assert train["name"] == f"{run_id} train"
        assert validation["name"] == f"{run_id} validation"
        assert train["y"] == [row[metric] for row in history]
        assert validation["y"] == [row[f"val_{metric}"] for row in history]
        assert validation["line"]["dash"] == "dot"
        assert train["line"]["color"] == validation["line"]["color"]

    # A new run appears at the top (another session trained): the selection stays on ours.
    newcomer = fake_run("NewRun01", "finished", {})
    try:
        at.run()
        assert list(table(at).index)[0] == "NewRun01"
        names = [trace["name"] for trace in charts(at)[0]["data"]]
        assert names == [f"{run_id} train", f"{run_id} validation"]
        assert at.session_state[TABLE]["selection"]["rows"] == [
            list(table(at).index).index(run_id)]
        # Two runs selected: both overlaid, and a menu says which one the actions act on.
        select(at, run_id, "NewRun01")
        names = [trace["name"] for trace in charts(at)[0]["data"]]
        assert names == [f"{run_id} train", f"{run_id} validation", "NewRun01 train"]
        assert at.selectbox(key="runs_action_run").options == [run_id, "NewRun01"]
    finally:
        shutil.rmtree(newcomer)


def test_rename_shows_the_new_name(run_id):
    at = app_at("runs")
    select(at, run_id)
    at.text_input(key=f"runs_name_{run_id}").set_value("tiny  dense\trun").run()
    button(at, "Rename").click().run()
    assert not at.exception
    assert any(f"Run {run_id} renamed" in s.value for s in at.success)
    assert table(at).loc[run_id, "name"] == "tiny dense run"
    assert store().load(run_id).name == "tiny dense run"
    assert charts(at)[0]["data"][0]["name"] == f"{run_id} · tiny dense run train"


def test_downloads_are_offered_for_the_model_config_and_history(run_id):
    at = app_at("runs")
    select(at, run_id)
    labels = [b.label for b in at.download_button]
    assert labels == ["Model (.keras)", "Config (.json)", "History (.csv)"]


def test_use_for_drawing_makes_the_run_this_sessions_model(run_id):
    at = app_at("runs")  # a new session: no run of its own
    at.number_input(key="epochs").set_value(3).run()
    select(at, run_id)
    button(at, "Use for drawing").click().run()
    assert not at.exception
    assert at.number_input(key="epochs").value == 3  # the sidebar's setup survives the switch
    assert at.session_state["model_run_id"] == run_id
    assert at.session_state["run_id"] == run_id
    assert at.query_params["run"] == run_id
    assert any(t.value == "Draw a digit" for t in at.title)  # switched to the Draw page


def test_delete_asks_first_then_removes_the_run_from_table_disk_and_memory():
    from ui.server import runs

    at = app_at("train")
    at.select_slider(key="train_size").set_value(1_000).run()
    at.number_input(key="epochs").set_value(1).run()
    button(at, "Start training").click().run()
    wait_for_training(at)
    doomed = at.session_state["run_id"]
    at.switch_page("pages/runs.py").run()
    select(at, doomed)
    button(at, "Delete…").click().run()
    assert any(f"Really delete run **{doomed}**" in w.value for w in at.warning)
    assert doomed in table(at).index and store().exists(doomed)  # not yet
    button(at, "Cancel").click().run()
    assert not any("Really delete" in w.value for w in at.warning)
    assert store().exists(doomed)

    button(at, "Delete…").click().run()
    button(at, f"Yes, delete {doomed}").click().run()
    assert not at.exception
    assert any(f"Run {doomed} deleted" in s.value for s in at.success)
    assert doomed not in table(at).index
    assert not store().exists(doomed) and not (store().root / doomed).exists()
    assert runs().get(doomed) is None
    assert "run_id" not in at.session_state  # this session followed it: not any more
    assert "run" not in at.query_params
    assert not charts(at)  # the selection went with it


def test_a_run_still_training_is_not_deleted():
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        owner = {**liveness.this_process(), "pid": alive.pid,
                 "started": liveness.process_start_time(alive.pid)}
        run_dir = fake_run("Alive002", "running", owner)
        at = app_at("runs")
        assert table(at).loc["Alive002", "status"] == "running"
        select(at, "Alive002")
        button(at, "Delete…").click().run()
        button(at, "Yes, delete Alive002").click().run()
        assert not at.exception
        assert any("still running" in e.value and "cannot be deleted" in e.value
                   for e in at.error)
        assert run_dir.is_dir()
        assert "Alive002" in table(at).index
    finally:
        alive.kill()
        alive.wait()
        shutil.rmtree(store().root / "Alive002", ignore_errors=True)


def test_a_run_left_by_a_killed_server_shows_as_interrupted():
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run_dir = fake_run("Orphan02", "running",
                       {**liveness.this_process(), "pid": dead.pid, "started": "1"})
    try:
        at = app_at("runs")
        assert not at.exception
        row = table(at).loc["Orphan02"]
        assert row["status"] == "interrupted"
        assert row["epochs"] == "0/5"
        select(at, "Orphan02")  # no epoch done: nothing to draw with or to download
        assert button(at, "Use for drawing").disabled
        assert [b.label for b in at.download_button] == ["Config (.json)", "History (.csv)"]
    finally:
        shutil.rmtree(run_dir)


def test_no_runs_yet_points_to_train(tmp_path, monkeypatch):
    from ui.server import runs

    monkeypatch.setenv("MNIST_RUNS_DIR", str(tmp_path / "empty"))
    runs.clear()  # a server over an empty runs folder
    try:
        at = app_at("runs")
        assert not at.exception
        assert any("No saved runs yet" in i.value for i in at.info)
        assert [link.value for link in at.page_link] == ["Go to Train"]
        assert not [df for df in at.dataframe if "id" in df.value.columns]
    finally:
        runs.clear()  # the next test's server uses the session's runs folder again


def test_a_rename_that_the_disk_refuses_says_so(run_id, monkeypatch):
    """The store's atomic write raises OSError (a full disk, a read-only folder): the page
    says why, and the run keeps its name."""
    from mnist_core.runs.store import RunStore

    def full_disk(self, run_id, name, *, by=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(RunStore, "rename", full_disk)
    at = app_at("runs")
    select(at, run_id)
    at.text_input(key=f"runs_name_{run_id}").set_value("never saved").run()
    button(at, "Rename").click().run()
    assert not at.exception
    assert any(f"Could not rename run {run_id}" in e.value and "No space left" in e.value
               for e in at.error)
    assert store().load(run_id).name != "never saved"
