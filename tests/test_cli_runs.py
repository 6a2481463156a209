"""`python -m mnist_core runs …` and `evaluate`: the saved runs from the command line.

One tiny `train` (1 epoch, 1,000 digits, 32 hidden units) run in this interpreter
through `cli.main`, then list, show, export, rename, delete and evaluate on it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import stat
import sys

import keras
import numpy as np
import pytest

from mnist_core.cli import main
from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.data import prepare_images
from mnist_core.evaluate import evaluate
from mnist_core.model import load_model
from mnist_core.predict import predict_proba

TRAIN = ["train", "--epochs", "1", "--train-size", "1000", "--hidden-units", "32", "--batch-size", "32"]


def cli(*args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `python -m mnist_core ARGS`, run in this interpreter."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run saved by `train --runs-dir`: (runs dir, run id, run.json, the --out model file)."""
    base = tmp_path_factory.mktemp("cli-runs")
    runs, out = base / "runs", base / "model.keras"
    code, stdout, stderr = cli(*TRAIN, "--runs-dir", str(runs), "--out", str(out))
    assert code == 0, stderr
    run_id = re.search(r"^Run (\S{8}): saved as it trains in ", stdout, re.MULTILINE).group(1)
    assert f"Saved run {run_id} in {runs.resolve() / run_id}" in stdout
    meta = json.loads((runs / run_id / "run.json").read_text())
    return runs, run_id, meta, out


def test_train_saves_into_the_runs_directory(trained):
    runs, run_id, meta, _ = trained
    assert [p.name for p in runs.iterdir()] == [run_id]
    assert meta["status"] == "finished" and meta["epochs_completed"] == 1
    assert meta["test_accuracy"] > 0.5


def test_train_prints_the_numbers_of_images_it_uses(monkeypatch, tmp_path):
    """`--train-size 5000` printed "60,000 training … images"; Keras holds out the last 10%."""
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = cli("train", "--epochs", "1", "--train-size", "5000",
                               "--hidden-units", "8", "--no-save")
    assert code == 0, stderr
    assert "Images: 4,500 to train on, 500 held out for validation, 10,000 to test\n" in stdout
    assert re.search(r"^36/36 - ", stdout, re.MULTILINE)  # ceil(4,500 / 128) batches


def test_train_without_out_writes_only_the_run(tmp_path, monkeypatch):
    """--out is optional: no mnist_model.keras appears in the current folder; the run's
    folder holds the model, and the output says where."""
    here, runs = tmp_path / "here", tmp_path / "runs"
    here.mkdir()
    monkeypatch.chdir(here)
    code, stdout, stderr = cli("train", "--epochs", "1", "--train-size", "200",
                               "--hidden-units", "8", "--runs-dir", str(runs))
    assert code == 0, stderr
    (run_dir,) = runs.resolve().iterdir()
    assert stdout.splitlines()[-1] == (f"Saved run {run_dir.name} in {run_dir} "
                                       f"(its model: {run_dir / 'model.keras'})")
    assert list(here.iterdir()) == [] and "Saved the model" not in stdout
    assert load_model(str(run_dir / "model.keras")).output_shape == (None, 10)


def test_train_uses_MNIST_RUNS_DIR_and_no_save_saves_nothing(tmp_path, monkeypatch):
    """Without --runs-dir the run goes to $MNIST_RUNS_DIR; with --no-save only --out, if
    given; with neither, nothing at all, and the first line says so."""
    monkeypatch.setenv("MNIST_RUNS_DIR", str(tmp_path / "env-runs"))
    monkeypatch.chdir(tmp_path)
    tiny = ["train", "--epochs", "1", "--train-size", "200", "--hidden-units", "8"]
    code, stdout, stderr = cli(*tiny, "--no-save")
    assert code == 0, stderr
    assert stdout.startswith("Nothing will be saved: --no-save without --out.\n")
    assert list(tmp_path.iterdir()) == []
    code, stdout, stderr = cli(*tiny, "--no-save", "--out", str(tmp_path / "a.keras"))
    assert code == 0, stderr
    assert "Nothing will be saved" not in stdout and "saved as it trains" not in stdout
    assert [p.name for p in tmp_path.iterdir()] == ["a.keras"]
    code, stdout, stderr = cli(*tiny, "--out", str(tmp_path / "b.keras"))
    assert code == 0, stderr
    (run_dir,) = (tmp_path / "env-runs").iterdir()
    assert f"Saved run {run_dir.name}" in stdout
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"


def test_runs_list(trained):
    runs, run_id, meta, _ = trained
    code, stdout, stderr = cli("runs", "list", "--runs-dir", str(runs))
    assert code == 0, stderr
    header, line, count = stdout.splitlines()
    assert header.split()[:5] == ["ID", "CREATED", "STATUS", "EPOCHS", "TRAIN"]
    assert line.startswith(run_id) and " finished " in line and " 1/1 " in line
    assert f"{meta['test_accuracy']:.4f}" in line
    assert "dense 32 relu" in line and "rmsprop 0.001" in line and "bs 32" in line
    assert count == f"1 run(s) in {runs.resolve()}"


def test_runs_list_of_an_empty_directory(tmp_path):
    code, stdout, _ = cli("runs", "list", "--runs-dir", str(tmp_path))
    assert code == 0 and stdout.startswith("No saved runs in ")


def test_runs_show(trained):
    runs, run_id, meta, _ = trained
    code, stdout, stderr = cli("runs", "show", run_id, "--runs-dir", str(runs))
    assert code == 0, stderr
    assert stdout.startswith(f"Run {run_id}\n")
    assert "Status: finished\n" in stdout
    assert f"Test accuracy: {meta['test_accuracy']:.4f}" in stdout
    assert f"Test loss: {meta['test_loss']:.4f}" in stdout
    assert "Epochs completed: 1/1" in stdout
    assert "Training: 1 epochs, batch size 32, validation split 0.1, 1000 training images" in stdout
    assert f"Data: {meta['data_source']}" in stdout
    assert re.search(r"^Versions: tensorflow \S+, keras \S+, numpy \S+, python \S+$", stdout,
                     re.MULTILINE)
    (epoch_row,) = [line for line in stdout.splitlines() if re.match(r"\s+1 ", line)]
    history = json.loads((runs / run_id / "history.json").read_text())
    assert f"{history[0]['loss']:.4f}" in epoch_row
    assert f"{history[0]['val_accuracy']:.4f}" in epoch_row


@pytest.mark.parametrize("run_id, words", [
    ("../etc", "not a run id"), ("a/b", "not a run id"), ("abcdEFGH", "No saved run abcdEFGH"),
])
def test_runs_show_refuses_bad_and_unknown_ids(trained, run_id, words):
    """Exit 2 with one 'Error:' line, never a traceback."""
    runs = trained[0]
    code, stdout, stderr = cli("runs", "show", run_id, "--runs-dir", str(runs))
    assert code == 2 and stderr.startswith("Error:") and words in stderr
    assert "Traceback" not in stderr


def test_runs_export_refuses_to_overwrite_without_force(trained, tmp_path):
    runs, run_id, _, _ = trained
    dest = tmp_path / "export"
    dest.mkdir()
    (dest / "config.json").write_text("mine")
    (dest / "history.csv").write_text("mine too")
    code, stdout, stderr = cli("runs", "export", run_id, str(dest), "--runs-dir", str(runs))
    assert code == 2 and stdout == ""
    assert stderr == (f"Error: {dest} already holds config.json, history.csv: nothing was "
                      "exported. Add --force to overwrite them.\n")
    assert sorted(p.name for p in dest.iterdir()) == ["config.json", "history.csv"]
    assert (dest / "config.json").read_text() == "mine"
    code, stdout, stderr = cli("runs", "export", run_id, str(dest), "--force",
                               "--runs-dir", str(runs))
    assert code == 0, stderr
    assert json.loads((dest / "config.json").read_text())["model"]["hidden_units"] == [32]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_runs_export_gives_files_the_umasks_permissions(trained, tmp_path, umask, mode):
    """The store's own files are owner-only; exported ones are the user's, like any new file."""
    runs, run_id, _, _ = trained
    previous = os.umask(umask)
    try:
        code, _, stderr = cli("runs", "export", run_id, str(tmp_path), "--runs-dir", str(runs))
    finally:
        os.umask(previous)
    assert code == 0, stderr
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in tmp_path.iterdir()}
    assert modes == dict.fromkeys(["config.json", "history.csv", "model.keras"], mode)


def test_runs_export(trained, tmp_path, mnist):
    """The exported model predicts exactly what the model `train --out` saved does."""
    runs, run_id, _, out = trained
    dest = tmp_path / "export"
    code, stdout, stderr = cli("runs", "export", run_id, str(dest), "--runs-dir", str(runs))
    assert code == 0, stderr
    assert sorted(p.name for p in dest.iterdir()) == ["config.json", "history.csv", "model.keras"]
    assert stdout.count("Exported ") == 3
    x = mnist.x_test[:50] / 255.0
    np.testing.assert_array_equal(
        predict_proba(load_model(str(dest / "model.keras")), x),
        predict_proba(load_model(str(out)), x),
    )
    config = json.loads((dest / "config.json").read_text())
    assert config["model"]["hidden_units"] == [32] and config["train"]["train_size"] == 1000
    assert (dest / "history.csv").read_text().splitlines()[0].startswith("epoch,loss,accuracy")


def test_runs_rename_and_delete(tmp_path):
    """A second tiny run: named, shown with its name in the list, then deleted."""
    runs = str(tmp_path / "runs")
    code, stdout, stderr = cli("train", "--epochs", "1", "--train-size", "200",
                               "--hidden-units", "8", "--runs-dir", runs,
                               "--out", str(tmp_path / "m.keras"))
    assert code == 0, stderr
    run_id = re.search(r"^Saved run (\S{8}) in", stdout, re.MULTILINE).group(1)
    assert cli("runs", "rename", run_id, "tiny one", "--runs-dir", runs)[0] == 0
    assert cli("runs", "list", "--runs-dir", runs)[1].splitlines()[1].endswith(" tiny one")
    assert cli("runs", "show", run_id, "--runs-dir", runs)[1].startswith(
        f"Run {run_id}: tiny one\n")
    code, stdout, _ = cli("runs", "delete", run_id, "--yes", "--runs-dir", runs)
    assert code == 0 and stdout == f"Deleted run {run_id}\n"
    assert cli("runs", "list", "--runs-dir", runs)[1].startswith("No saved runs")
    code, _, stderr = cli("runs", "delete", run_id, "-y", "--runs-dir", runs)
    assert code == 2 and "No saved run" in stderr


class Terminal(io.StringIO):
    """Standard input as a terminal, with the user's answer typed in."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def doomed(tmp_path):
    """A run to delete: (runs dir, run id), named "tiny one"."""
    runs = str(tmp_path / "runs")
    code, stdout, stderr = cli("train", "--epochs", "1", "--train-size", "200",
                               "--hidden-units", "8", "--runs-dir", runs)
    assert code == 0, stderr
    run_id = re.search(r"^Saved run (\S{8}) in", stdout, re.MULTILINE).group(1)
    assert cli("runs", "rename", run_id, "tiny one", "--runs-dir", runs)[0] == 0
    return runs, run_id


def _exists(runs: str, run_id: str) -> bool:
    return cli("runs", "show", run_id, "--runs-dir", runs)[0] == 0


@pytest.mark.parametrize("answer, deleted", [("y\n", True), ("yes\n", True), ("\n", False),
                                             ("n\n", False), ("", False)],
                         ids=["y", "yes", "enter", "n", "end-of-input"])
def test_runs_delete_asks_on_a_terminal(doomed, monkeypatch, answer, deleted):
    runs, run_id = doomed
    monkeypatch.setattr(sys, "stdin", Terminal(answer))
    code, stdout, _ = cli("runs", "delete", run_id, "--runs-dir", runs)
    assert stdout.startswith(f"Delete run {run_id} (tiny one)? Its model, configuration and "
                             "history are removed for good. [y/N] ")
    assert (code, _exists(runs, run_id)) == ((0, False) if deleted else (1, True))
    assert stdout.endswith(f"Deleted run {run_id}\n" if deleted
                           else f"Run {run_id} was not deleted.\n")


def test_runs_delete_without_a_terminal_needs_yes(doomed, monkeypatch):
    runs, run_id = doomed
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # piped: not a person answering
    code, stdout, stderr = cli("runs", "delete", run_id, "--runs-dir", runs)
    assert code == 2 and stdout == ""
    assert stderr == (f"Error: Run {run_id} was not deleted: there is no terminal to ask on; "
                      "add --yes to delete it.\n")
    assert _exists(runs, run_id)


def _report(stdout: str) -> dict[int, list[float]]:
    rows = re.findall(r"^\s+(\d)\s+(\d\.\d{4})\s+(\d\.\d{4})\s+(\d\.\d{4})\s+(\d+)$", stdout,
                      re.MULTILINE)
    return {int(d): [float(p), float(r), float(f), int(n)] for d, p, r, f, n in rows}


def test_evaluate_a_model_file(trained, mnist):
    """Test accuracy as training measured it, and per-digit precision and recall counted directly."""
    _, _, meta, out = trained
    code, stdout, stderr = cli("evaluate", "--model", str(out))
    assert code == 0, stderr
    assert f"Model: {out}" in stdout and "Test images: 10,000" in stdout
    accuracy = float(re.search(r"^Test accuracy: (\d\.\d{4})$", stdout, re.MULTILINE).group(1))
    # The same weights as Keras' evaluate; batching may round a near-tie the other way.
    assert accuracy == pytest.approx(meta["test_accuracy"], abs=2e-4)
    loss = float(re.search(r"^Test loss: (\d+\.\d{4})$", stdout, re.MULTILINE).group(1))
    assert loss == pytest.approx(meta["test_loss"], abs=2e-4)

    predicted = predict_proba(load_model(str(out)), prepare_images(mnist.x_test)).argmax(axis=1)
    report = _report(stdout)
    assert sorted(report) == list(range(10))
    for digit, (precision, recall, f1, support) in report.items():
        said_digit, is_digit = predicted == digit, mnist.y_test == digit
        assert support == is_digit.sum()
        assert recall == pytest.approx((said_digit & is_digit).sum() / is_digit.sum(), abs=1e-4)
        right = (said_digit & is_digit).sum()
        assert precision == pytest.approx(right / said_digit.sum() if said_digit.any() else 0,
                                          abs=1e-4)
        assert f1 == pytest.approx(2 * precision * recall / (precision + recall or 1), abs=2e-4)
    macro = re.search(r"^macro\s+(\d\.\d{4})\s+(\d\.\d{4})", stdout, re.MULTILINE)
    assert float(macro.group(2)) == pytest.approx(np.mean([r[1] for r in report.values()]),
                                                  abs=2e-4)


def test_evaluate_a_saved_run_gives_the_same_report(trained):
    runs, run_id, _, out = trained
    by_file = cli("evaluate", "--model", str(out))[1]
    code, by_run, stderr = cli("evaluate", "--run", run_id, "--runs-dir", str(runs))
    assert code == 0, stderr
    assert f"Model: run {run_id}" in by_run
    assert by_run.split("Test images")[1] == by_file.split("Test images")[1]


def test_evaluate_a_missing_model_exits_2(tmp_path):
    missing = tmp_path / "missing.keras"
    code, _, stderr = cli("evaluate", "--model", str(missing))
    assert code == 2 and stderr == f"Error: {missing} does not exist.\n"


def test_evaluate_a_folder_says_so_in_one_line(tmp_path):
    """`evaluate --model /tmp` passed Keras' TFSMLayer advice through."""
    code, _, stderr = cli("evaluate", "--model", str(tmp_path))
    assert code == 2
    assert stderr == f"Error: {tmp_path} is a folder, not a model file: give a .keras file.\n"


class StopInEpoch(keras.callbacks.Callback):
    """Asks the job to stop after a few batches of the given epoch (1-based)."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch, self.job = epoch, None

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self.current = epoch + 1

    def on_train_batch_end(self, batch, logs=None) -> None:
        if self.current == self.epoch and batch == 2:
            self.job.stop()


def test_evaluate_a_stopped_run_says_which_epochs_weights_it_reads(mnist, tmp_path):
    from mnist_core.runs.records import JobStatus
    from mnist_core.runs.store import RunStore
    from mnist_core.runs.train import TrainingJob

    store = RunStore(tmp_path / "runs")
    stop = StopInEpoch(2)
    job = TrainingJob(mnist, ModelConfig(hidden_units=(8,)),
                      TrainConfig(epochs=4, train_size=500, batch_size=32),
                      callbacks=[stop], store=store)
    stop.job = job
    job.run()
    assert job.progress().status == JobStatus.STOPPED
    code, stdout, stderr = cli("evaluate", "--run", job.run_id, "--runs-dir", str(store.root))
    assert code == 0, stderr
    assert f"Model: run {job.run_id}, weights after epoch 2 of 4 (stopped)\n" in stdout


def test_evaluate_an_interrupted_run_says_which_epochs_weights_it_reads(trained, tmp_path):
    """A run whose process died while it trained: the epoch its saved weights come from."""
    import shutil
    import subprocess

    runs, run_id, meta, _ = trained
    copy = tmp_path / "runs"
    shutil.copytree(runs / run_id, copy / run_id)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    meta = {**meta, "status": "running", "epochs": 3,
            "process": {**meta["process"], "pid": int(gone.stdout)}}
    (copy / run_id / "run.json").write_text(json.dumps(meta))
    config = json.loads((copy / run_id / "config.json").read_text())
    config["train"]["epochs"] = 3
    (copy / run_id / "config.json").write_text(json.dumps(config))
    code, stdout, stderr = cli("evaluate", "--run", run_id, "--runs-dir", str(copy))
    assert code == 0, stderr
    assert f"Model: run {run_id}, weights after epoch 1 of 3 (interrupted)\n" in stdout


def test_evaluate_prints_the_evaluate_pages_numbers(trained, mnist):
    """The command and the Evaluate page share one evaluation: the same loss, accuracy and
    per-digit measures, to the printed digit."""
    _, _, _, out = trained
    code, stdout, stderr = cli("evaluate", "--model", str(out))
    assert code == 0, stderr
    evaluation = evaluate(load_model(str(out)), mnist.x_test, mnist.y_test)
    assert f"Test loss: {evaluation.loss:.4f}\n" in stdout
    assert f"Test accuracy: {evaluation.accuracy:.4f}\n" in stdout
    printed = [[float(f"{value:.4f}") for value in measure]
               for measure in zip(evaluation.precision, evaluation.recall, evaluation.f1)]
    expected = {digit: [*printed[digit], int(count)]
                for digit, count in enumerate(np.bincount(mnist.y_test))}
    assert _report(stdout) == expected
