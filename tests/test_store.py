"""mnist_core.runs.store: runs saved on disk as they train, atomically, and read back safely.

Trainings here are tiny (a 16-unit network, 1,000 digits, 1–3 epochs, 300 test
digits), except the one killed with SIGKILL, which runs the real command line.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from job_helpers import TIMEOUT, wait_until
from kill_checks import check_files_as_killed, check_recovered

import mnist_core.runs.liveness as liveness
import mnist_core.runs.store as store_module
from mnist_core.atomic import TEMP_PREFIX, atomic_save_model, atomic_write, atomic_write_json
from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.data import MnistData
from mnist_core.predict import predict_proba
from mnist_core.runs.errors import InvalidRunId, RunActive, RunNotFound, StoreError
from mnist_core.runs.owners import Owner
from mnist_core.runs.records import JobStatus
from mnist_core.runs.registry import RunRegistry
from mnist_core.runs.store import RunStore
from mnist_core.runs.stored import HISTORY_FIELDS
from mnist_core.runs.train import TrainingJob

ROOT = Path(__file__).resolve().parents[1]
SMALL = ModelConfig(hidden_units=(16,))


@pytest.fixture(scope="module")
def data(mnist):
    return MnistData(
        mnist.x_train[:2000], mnist.y_train[:2000], mnist.x_test[:300], mnist.y_test[:300],
        source=mnist.source,
    )


@pytest.fixture(scope="module")
def images(mnist):
    return mnist.x_test[:64].astype(np.float32) / 255


def tiny_job(data, store, epochs=1, callbacks=(), **train) -> TrainingJob:
    settings = {"epochs": epochs, "train_size": 1000, "batch_size": 64, **train}
    return TrainingJob(data, SMALL, TrainConfig(**settings), callbacks=list(callbacks),
                       store=store)


def temp_files(directory: Path) -> list[Path]:
    return sorted(directory.rglob(f"{TEMP_PREFIX}*"))


def fake_run(root: Path, run_id: str, status: str, process: dict) -> None:
    """A run as a process that trained it would have left it, with no epoch done yet."""
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    atomic_write_json(run_dir / "config.json",
                      {"model": SMALL.to_dict(), "train": TrainConfig().to_dict()})
    atomic_write_json(run_dir / "history.json", [])
    atomic_write_json(run_dir / "run.json", {
        "id": run_id, "status": status, "created": time.time() - 60, "process": process,
    })


# --- 1. Atomic writes ----------------------------------------------------------------------


def test_atomic_write_replaces_the_whole_file_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "run.json"
    atomic_write_json(path, {"status": "running", "epochs": 1})
    atomic_write_json(path, {"status": "finished", "epochs": 2})
    assert json.loads(path.read_text()) == {"status": "finished", "epochs": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_a_failure_mid_write_keeps_the_old_file_intact(tmp_path):
    """Half the new bytes are written, then the writer dies: the old file is untouched, no debris."""
    path = tmp_path / "history.json"
    atomic_write_json(path, [{"epoch": 1}])
    before = path.read_bytes()

    def dies_half_way(file):
        file.write(b'[{"epoch": 1}, {"epo')
        file.flush()
        raise OSError("disk full (simulated)")

    with pytest.raises(OSError, match="simulated"):
        atomic_write(path, dies_half_way)
    assert path.read_bytes() == before
    assert json.loads(path.read_text()) == [{"epoch": 1}]
    assert temp_files(tmp_path) == [] and [p.name for p in tmp_path.iterdir()] == ["history.json"]


def test_a_failed_rename_keeps_the_old_file_intact(tmp_path, monkeypatch):
    """Even when the very last step (the rename) fails, the old file stays and the temp file goes."""
    path = tmp_path / "run.json"
    atomic_write_json(path, {"status": "running"})

    def no_rename(src, dst):
        raise OSError("rename refused (simulated)")

    monkeypatch.setattr(store_module.os, "replace", no_rename)
    with pytest.raises(OSError, match="simulated"):
        atomic_write_json(path, {"status": "finished"})
    assert json.loads(path.read_text()) == {"status": "running"}
    assert temp_files(tmp_path) == []


def test_a_model_save_that_dies_keeps_the_old_model(tmp_path):
    """Keras writing half a .keras file and failing leaves the previous model file as it was."""
    path = tmp_path / "model.keras"
    path.write_bytes(b"the old model")

    class Dying:
        def save(self, filepath):
            Path(filepath).write_bytes(b"PK\x03\x04 half a zip")
            raise RuntimeError("killed mid-save (simulated)")

    with pytest.raises(RuntimeError, match="simulated"):
        atomic_save_model(Dying(), path)
    assert path.read_bytes() == b"the old model"
    assert temp_files(tmp_path) == []


def test_json_never_holds_nan(tmp_path):
    """NaN is not JSON: refused outright, and the old file stays."""
    path = tmp_path / "run.json"
    atomic_write_json(path, {"test_loss": 0.5})
    with pytest.raises(ValueError):
        atomic_write_json(path, {"test_loss": float("nan")})
    assert json.loads(path.read_text()) == {"test_loss": 0.5}
    assert temp_files(tmp_path) == []


# --- 2. A saved run, read back ----------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(data, tmp_path_factory):
    """A finished 2-epoch run saved in a fresh store: (store, job)."""
    store = RunStore(tmp_path_factory.mktemp("runs"))
    job = tiny_job(data, store, epochs=2)
    job.run()
    assert job.progress().status == JobStatus.FINISHED, job.progress().error
    return store, job


def test_a_finished_run_has_every_file(saved):
    store, job = saved
    run_dir = store.root / job.run_id
    assert sorted(p.name for p in run_dir.iterdir()) == [
        ".lock", "config.json", "history.csv", "history.json", "model.keras", "run.json",
    ]
    assert json.loads((run_dir / "config.json").read_text()) == {
        "model": job.model_config.to_dict() | {"hidden_units": [16], "conv_filters": [32, 64]},
        "train": job.train_config.to_dict(),
    }
    progress = job.progress()
    history = json.loads((run_dir / "history.json").read_text())
    assert history == progress.history_rows()
    with open(run_dir / "history.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == list(HISTORY_FIELDS)
    assert [int(row["epoch"]) for row in rows] == [1, 2]
    for row, record in zip(rows, progress.history):
        for key in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds"):
            assert float(row[key]) == getattr(record, key)

    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["id"] == job.run_id and meta["status"] == "finished"
    assert meta["test_loss"] == progress.test_loss
    assert meta["test_accuracy"] == progress.test_accuracy
    assert meta["epochs"] == 2 and meta["epochs_completed"] == 2 and meta["model_epoch"] == 2
    assert meta["created"] == job.created_at and meta["ended"] >= meta["created"]
    assert meta["elapsed_seconds"] > 0 and meta["seconds_per_epoch"] > 0
    assert meta["data_source"] == job.data.source and meta["train_images"] == 1000
    assert set(meta["versions"]) == {"tensorflow", "keras", "numpy", "python"}
    assert meta["versions"]["keras"] == keras.__version__
    assert meta["versions"]["numpy"] == np.__version__
    assert meta["versions"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert meta["versions"]["tensorflow"]
    assert progress.save_error is None


def test_round_trip_gives_identical_predictions(saved, images):
    """The loaded model (safe mode, shape-checked) predicts exactly what the trained one does."""
    store, job = saved
    loaded = store.load_model(job.run_id)
    np.testing.assert_array_equal(predict_proba(loaded, images), predict_proba(job.model, images))
    for saved_weights, trained in zip(loaded.get_weights(), job.model.get_weights()):
        np.testing.assert_array_equal(saved_weights, trained)


def test_a_deeper_cnn_run_comes_back_with_its_schedule_and_normalisation(data, tmp_path, images):
    """Batch normalisation's running statistics are weights too: saved, they read the same."""
    store = RunStore(tmp_path)
    job = TrainingJob(data, ModelConfig(architecture="deep_cnn", conv_filters=(4, 8), dropout=0.5),
                      TrainConfig(epochs=2, train_size=256, batch_size=64, lr_schedule="cosine"),
                      store=store)
    job.run()
    assert job.progress().status == JobStatus.FINISHED, job.progress().error
    run = store.load(job.run_id)
    assert (run.model_config, run.train_config) == (job.model_config, job.train_config)
    loaded = store.load_model(job.run_id)
    np.testing.assert_array_equal(predict_proba(loaded, images), predict_proba(job.model, images))
    summary = next(s for s in store.list_runs() if s.run_id == job.run_id)
    assert summary.hyperparameters["conv filters"] == "4 8"
    assert summary.hyperparameters["lr schedule"] == "cosine"


def test_load_gives_config_history_and_metrics(saved):
    store, job = saved
    run = store.load(job.run_id)
    progress = job.progress()
    assert run.run_id == job.run_id and run.status == "finished" and run.name is None
    assert run.model_config == job.model_config and run.train_config == job.train_config
    assert list(run.history) == progress.history_rows()
    assert run.epoch_records() == progress.history
    assert run.test_accuracy == progress.test_accuracy and run.test_loss == progress.test_loss
    assert run.seconds_per_epoch == pytest.approx(progress.seconds_per_epoch)
    as_progress = run.progress()  # the shape the live views take
    assert as_progress.status == JobStatus.FINISHED and as_progress.history == progress.history
    assert as_progress.test_accuracy == progress.test_accuracy


def test_list_rename_export_delete(saved, data, tmp_path):
    """The runs table, newest first; a name that survives later saves; an export; a deletion."""
    store, job = saved
    later = tiny_job(data, store)
    later.stop()  # cancelled while queued: saved as stopped, never trained
    summaries = store.list_runs()
    assert [s.run_id for s in summaries][:2] == [later.run_id, job.run_id]
    first = next(s for s in summaries if s.run_id == job.run_id)
    progress = job.progress()
    assert first.status == "finished" and first.architecture == "dense"
    assert first.epochs == 2 and first.epochs_completed == 2
    assert first.train_accuracy == progress.history[-1].accuracy
    assert first.val_accuracy == progress.history[-1].val_accuracy
    assert first.test_accuracy == progress.test_accuracy
    assert first.seconds_per_epoch == pytest.approx(progress.seconds_per_epoch)
    assert first.hyperparameters["hidden units"] == "16"
    assert first.hyperparameters["optimizer"] == "rmsprop"
    assert first.hyperparameters["batch size"] == 64
    row = first.as_row()
    assert row["id"] == job.run_id and row["epochs"] == "2/2" and row["test accuracy"]
    cancelled = next(s for s in summaries if s.run_id == later.run_id)
    assert cancelled.status == "stopped" and cancelled.epochs_completed == 0
    assert cancelled.test_accuracy is None

    store.rename(job.run_id, "  first\ttry  ")
    assert store.load(job.run_id).name == "first try"
    store.save_progress(job)  # a later save by the training side keeps the name
    assert store.load(job.run_id).name == "first try"
    assert next(s for s in store.list_runs() if s.run_id == job.run_id).name == "first try"
    with pytest.raises(StoreError, match="at most"):
        store.rename(job.run_id, "x" * 101)
    store.rename(job.run_id, "")
    assert store.load(job.run_id).name is None

    dest = tmp_path / "exported" / "here"
    copied = store.export(job.run_id, dest)
    assert sorted(p.name for p in copied) == ["config.json", "history.csv", "model.keras"]
    assert sorted(p.name for p in dest.iterdir()) == ["config.json", "history.csv", "model.keras"]
    for name in ("config.json", "history.csv", "model.keras"):
        assert (dest / name).read_bytes() == (store.root / job.run_id / name).read_bytes()
    with pytest.raises(StoreError, match="no saved model"):
        store.export(later.run_id, tmp_path / "nothing")

    store.delete(later.run_id)
    assert later.run_id not in [s.run_id for s in store.list_runs()]
    assert not (store.root / later.run_id).exists()
    with pytest.raises(RunNotFound):
        store.load(later.run_id)
    with pytest.raises(RunNotFound):
        store.delete(later.run_id)
    assert temp_files(store.root) == []
    assert store.load(job.run_id).status == "finished"  # the other run is untouched


# --- 3. Saved as it trains: per epoch, and what a kill leaves -----------------------------


class DuringTraining(keras.callbacks.Callback):
    """At each epoch's end (after the job has saved it), copy the run directory as a kill would leave it."""

    def __init__(self, store: RunStore, copies: Path) -> None:
        super().__init__()
        self.store, self.copies = store, copies
        self.job: TrainingJob | None = None
        self.seen: list[dict] = []

    def on_epoch_end(self, epoch, logs=None) -> None:
        run_dir = self.store.root / self.job.run_id
        # A second store over the same directory, as the CLI would open: the run is live here.
        assert RunStore(self.store.root).load(self.job.run_id).status == "running"
        with pytest.raises(RunActive):
            self.store.delete(self.job.run_id)
        self.seen.append({
            "epoch": epoch + 1,
            "files": sorted(p.name for p in run_dir.iterdir()),
            "history": json.loads((run_dir / "history.json").read_text()),
            "meta": json.loads((run_dir / "run.json").read_text()),
        })
        shutil.copytree(run_dir, self.copies / f"epoch{epoch + 1}" / self.job.run_id)


@pytest.mark.parametrize("budget", [1e9, 0.0], ids=["model-each-epoch", "weights-after-first"])
def test_each_epoch_is_saved_as_it_ends(data, tmp_path, monkeypatch, budget):
    """History and weights are on disk after every epoch; when a full model save costs too much
    of an epoch, epochs after the first keep weights.npz and the end writes the full model."""
    monkeypatch.setattr(store_module, "MODEL_SAVE_BUDGET", budget)
    store = RunStore(tmp_path / "runs")
    watcher = DuringTraining(store, tmp_path / "copies")
    job = tiny_job(data, store, epochs=3, callbacks=[watcher])
    watcher.job = job
    job.run()
    progress = job.progress()
    assert progress.status == JobStatus.FINISHED and progress.save_error is None

    assert [seen["epoch"] for seen in watcher.seen] == [1, 2, 3]
    for seen in watcher.seen:
        n = seen["epoch"]
        assert [row["epoch"] for row in seen["history"]] == list(range(1, n + 1))
        assert seen["meta"]["status"] == "running" and seen["meta"]["epochs_completed"] == n
        if budget or n == 1:  # the first epoch is always saved in full
            assert "model.keras" in seen["files"] and "weights.npz" not in seen["files"]
            assert seen["meta"]["model_epoch"] == n
        else:
            assert {"model.keras", "weights.npz"} <= set(seen["files"])
            assert seen["meta"]["model_epoch"] == 1 and seen["meta"]["weights_epoch"] == n
    final = sorted(p.name for p in (store.root / job.run_id).iterdir())
    assert "weights.npz" not in final and "model.keras" in final
    assert store.load(job.run_id).meta["model_epoch"] == 3

    # What a kill after epoch 2 would have left: opened later, it is interrupted, with the
    # weights of epoch 2 exactly, whichever file they were in.
    copy = RunStore(tmp_path / "copies" / "epoch2")
    run = copy.load(job.run_id)
    assert run.status == "interrupted" and run.meta["interrupted_from"] == "running"
    assert [row["epoch"] for row in run.history] == [1, 2]
    model = copy.load_model(job.run_id)
    for loaded, snapshot in zip(model.get_weights(), job.snapshots()[1].weights):
        np.testing.assert_array_equal(loaded, snapshot)


class FailAfterSecondEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("boom after epoch 2")


def test_a_failed_run_keeps_its_last_good_epoch(data, tmp_path, monkeypatch):
    """fit() dies after epoch 2, saved as weights only: the end writes epoch 2 as the model."""
    monkeypatch.setattr(store_module, "MODEL_SAVE_BUDGET", 0.0)
    store = RunStore(tmp_path / "runs")
    job = tiny_job(data, store, epochs=3, callbacks=[FailAfterSecondEpoch()])
    job.run()
    assert job.progress().status == JobStatus.FAILED
    run = store.load(job.run_id)
    assert run.status == "failed" and run.error == "RuntimeError: boom after epoch 2"
    assert [row["epoch"] for row in run.history] == [1, 2] and run.test_accuracy is None
    assert run.meta["model_epoch"] == 2
    assert not (store.root / job.run_id / "weights.npz").exists()
    for loaded, snapshot in zip(store.load_model(job.run_id).get_weights(),
                                job.snapshots()[-1].weights):
        np.testing.assert_array_equal(loaded, snapshot)


def test_a_stopped_run_is_saved_with_its_final_model(data, tmp_path, monkeypatch):
    """Stop during epoch 2 (weights-only epochs): on disk it is stopped, evaluated, and its
    model is the one the job ended with."""
    monkeypatch.setattr(store_module, "MODEL_SAVE_BUDGET", 0.0)
    store = RunStore(tmp_path / "runs")
    job = tiny_job(data, store, epochs=5, batch_size=8)
    job.start()
    wait_until(job, lambda p: (p.epoch == 2 and p.batch >= 2) or p.status.is_done)
    job.stop()
    job.join(TIMEOUT)
    progress = job.progress()
    assert progress.status == JobStatus.STOPPED and progress.epoch == 2
    run = store.load(job.run_id)
    assert run.status == "stopped" and run.test_accuracy == progress.test_accuracy
    assert [row["epoch"] for row in run.history] == [1, 2] and run.meta["model_epoch"] == 2
    assert sorted(p.name for p in run.path.iterdir()) == [
        ".lock", "config.json", "history.csv", "history.json", "model.keras", "run.json",
    ]
    for loaded, trained in zip(store.load_model(job.run_id).get_weights(),
                               job.model.get_weights()):
        np.testing.assert_array_equal(loaded, trained)


def test_a_save_that_fails_is_reported_not_fatal(data):
    """A full disk must not kill the training: it finishes, and progress says what went wrong."""

    class FullDisk:
        def save_progress(self, job, epoch_end=False):
            raise OSError(28, "No space left on device")

    job = tiny_job(data, FullDisk())
    job.run()
    progress = job.progress()
    assert progress.status == JobStatus.FINISHED and progress.test_accuracy is not None
    assert "could not be saved" in progress.save_error and "No space left" in progress.save_error


def test_the_registry_saves_its_runs_and_recovers_interrupted_ones(data, tmp_path):
    """A registry with a store: a waiting run is on disk as queued, a cancelled one as stopped,
    a finished one with its model; a run left running by a dead process is marked once, when
    the store is opened, and the registry reports it."""
    root = tmp_path / "runs"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    fake_run(root, "Orphan01", "running",
             {**liveness.this_process(), "pid": dead.pid, "started": "1"})
    assert RunStore(root, recover=False).load("Orphan01").status == "running"  # only reads
    store = RunStore(root)
    registry = RunRegistry(max_concurrent=1, store=store)
    try:
        assert registry.interrupted == ["Orphan01"]
        assert store.load("Orphan01").status == "interrupted"
        first, second = tiny_job(data, None), tiny_job(data, None)
        registry.submit(first, Owner("a"))
        registry.submit(second, Owner("a"))
        assert first.store is store and second.store is store
        assert store.load(second.run_id).status == "queued"
        registry.stop(second.run_id)
        assert store.load(second.run_id).status == "stopped"
        wait_until(first, lambda p: p.status.is_done)
        first.join(TIMEOUT)
        assert store.load(first.run_id).status == "finished"
        assert store.load_model(first.run_id).count_params() == first.model.count_params()
    finally:
        registry.shutdown(TIMEOUT)


def test_runs_of_a_live_process_are_not_marked_interrupted(tmp_path):
    """A `train` running beside the server (another process) keeps its "running" status."""
    root = tmp_path / "runs"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        owner = {**liveness.this_process(), "pid": child.pid,
                 "started": liveness.process_start_time(child.pid)}
        fake_run(root, "Alive001", "running", owner)
        store = RunStore(root)
        assert store.load("Alive001").status == "running"
        with pytest.raises(RunActive):
            store.delete("Alive001")
    finally:
        child.kill()
        child.wait()
    assert store.interrupted == []
    assert RunStore(root, recover=False).list_runs()[0].status == "running"  # only reads
    # Listing, as the Runs page does, finds that its process has died since.
    assert [summary.status for summary in store.list_runs()] == ["interrupted"]
    assert store.interrupted == ["Alive001"] and store.mark_interrupted() == []
    assert store.load("Alive001").status == "interrupted"
    assert RunRegistry(store=RunStore(root)).interrupted == []  # already marked: only once
    store.delete("Alive001")  # gone, so it may go


def _wait_for_epochs(process, history: Path, epochs: int, timeout: float = 240) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"train ended before it was killed: {process.communicate()}")
        try:
            rows = json.loads(history.read_text())  # never torn: a ValueError fails the test
        except FileNotFoundError:
            rows = []
        if len(rows) >= epochs:
            return rows
        time.sleep(0.02)
    pytest.fail("no epoch was saved in time")


def test_a_killed_training_leaves_a_readable_run_marked_interrupted(tmp_path, mnist):
    """SIGKILL a real `python -m mnist_core train` after two epochs: every file is whole, the
    model loads, the history has the completed epochs, and a store opened later marks it interrupted."""
    runs = tmp_path / "runs"
    env = {**os.environ, "MNIST_RUNS_DIR": str(runs), "TF_CPP_MIN_LOG_LEVEL": "2"}
    process = subprocess.Popen(
        [sys.executable, "-m", "mnist_core", "train", "--train-size", "2000", "--epochs", "50",
         "--batch-size", "32", "--hidden-units", "64", "--out", str(tmp_path / "never.keras")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not runs.is_dir() or not any(runs.iterdir()):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the run directory never appeared"
            time.sleep(0.05)
        (run_dir,) = runs.iterdir()
        _wait_for_epochs(process, run_dir / "history.json", 2)
        process.send_signal(signal.SIGKILL)
        process.wait(TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert process.returncode == -signal.SIGKILL

    history = check_files_as_killed(run_dir, planned_epochs=50, params=784 * 64 + 64 + 650)
    n = len(history)

    registry = RunRegistry(store=RunStore(runs))  # as the app opens it after a restart
    store = registry.store
    assert registry.interrupted == [run_dir.name] == store.interrupted
    run = store.load(run_dir.name)
    assert run.status == "interrupted"
    assert list(run.history) == history  # the completed epochs are intact
    check_recovered(run_dir, history)
    assert temp_files(run_dir) == []  # debris of a write cut short is cleared
    (summary,) = store.list_runs()
    assert summary.status == "interrupted" and summary.epochs_completed == n
    model = store.load_model(run.run_id)  # the newest saved epoch
    p = predict_proba(model, mnist.x_test[:200] / 255.0)
    assert np.mean(p.argmax(axis=1) == mnist.y_test[:200]) > 0.6


# --- 4. Run ids from users never leave the runs directory ------------------------------------

BAD_IDS = ["../x", "/etc", "a/b", "..", ".", "", "x" * 200, "abcdéfgh", "../../etc/passwd",
           "abc\x00defg", "abcdefg/", "/etc/pas", "..%2fetc", None, 12345678, b"abcdefgh"]


@pytest.mark.parametrize("run_id", BAD_IDS, ids=repr)
def test_malformed_run_ids_are_refused(tmp_path, run_id):
    store = RunStore(tmp_path / "runs")
    for action in (
        lambda: store.run_dir(run_id),
        lambda: store.load(run_id),
        lambda: store.load_model(run_id),
        lambda: store.rename(run_id, "x"),
        lambda: store.delete(run_id),
        lambda: store.export(run_id, tmp_path / "out"),
    ):
        with pytest.raises(InvalidRunId, match="not a run id"):
            action()
    assert not store.exists(run_id)
    assert not (tmp_path / "out").exists()


def test_an_unknown_run_id_is_not_found(tmp_path):
    store = RunStore(tmp_path / "runs")
    with pytest.raises(RunNotFound, match="No saved run abcdEFGH"):
        store.load("abcdEFGH")
    assert issubclass(RunNotFound, ValueError) and issubclass(InvalidRunId, ValueError)


def test_symlinks_out_of_the_runs_directory_are_refused(saved, tmp_path):
    """A run directory, or a file in one, that links elsewhere is never read, copied or deleted."""
    store, job = saved
    root = tmp_path / "runs"
    root.mkdir()
    outside = tmp_path / "outside"
    shutil.copytree(store.root / job.run_id, outside)
    (root / "Linked01").symlink_to(outside, target_is_directory=True)
    escape = RunStore(root)
    assert escape.list_runs() == []
    for action in (lambda: escape.load("Linked01"), lambda: escape.delete("Linked01"),
                   lambda: escape.export("Linked01", tmp_path / "out"),
                   lambda: escape.rename("Linked01", "x")):
        with pytest.raises(InvalidRunId, match="symbolic link"):
            action()
    assert sorted(p.name for p in outside.iterdir()) == sorted(
        p.name for p in (store.root / job.run_id).iterdir()
    )

    # A real run directory whose model file links to a file elsewhere.
    real = root / "RealRun1"
    shutil.copytree(store.root / job.run_id, real)
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    (real / "model.keras").unlink()
    (real / "model.keras").symlink_to(secret)
    for action in (lambda: escape.load_model("RealRun1"),
                   lambda: escape.export("RealRun1", tmp_path / "out")):
        with pytest.raises(InvalidRunId, match="symbolic link"):
            action()
    assert not (tmp_path / "out").exists()
    assert escape.load("RealRun1").status == "finished"  # the rest of it still reads


def test_a_damaged_run_is_listed_with_the_reason(tmp_path):
    """A run.json cut to garbage (by hand, not by us) shows up as unreadable, saying which file."""
    root = tmp_path / "runs"
    (root / "Broken01").mkdir(parents=True)
    (root / "Broken01" / "run.json").write_text('{"status": "runn')
    (root / "not-a-run-dir").mkdir()
    store = RunStore(root)
    (summary,) = store.list_runs()
    assert summary.run_id == "Broken01" and summary.status == "unreadable"
    assert "run.json" in summary.problem
    with pytest.raises(StoreError, match="run.json"):
        store.load("Broken01")


def test_the_runs_directory_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_RUNS_DIR", str(tmp_path / "elsewhere"))
    assert RunStore().root == (tmp_path / "elsewhere").resolve()
    monkeypatch.delenv("MNIST_RUNS_DIR")
    assert store_module.default_runs_dir() == ROOT / "runs"


def _rename_in_another_process(root: str, run_id: str, done: str) -> None:
    from mnist_core.runs.store import RunStore

    RunStore(root, recover=False).rename(run_id, "renamed elsewhere")
    Path(done).write_text(str(time.monotonic()))


def test_a_run_changes_under_a_lock_that_other_processes_wait_for(saved, tmp_path):
    """An app server's rename waits while a worker saves the same run: neither undoes
    the other's change of run.json."""
    import multiprocessing

    store, job = saved
    done = tmp_path / "renamed-at"
    other = multiprocessing.get_context("spawn").Process(
        target=_rename_in_another_process, args=(str(store.root), job.run_id, str(done)))
    with store._run_lock(job.run_id):
        other.start()
        time.sleep(3)  # the other process has started and waits for the lock
        assert not done.exists()
        released = time.monotonic()
    other.join(30)
    assert other.exitcode == 0 and float(done.read_text()) >= released
    assert store.load(job.run_id).name == "renamed elsewhere"
