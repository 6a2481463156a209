"""`python -m mnist_core`: train and save a model, then read a digit from a PNG with it."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
CLI_TIMEOUT = 300


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """A fresh interpreter, without TF_CPP_MIN_LOG_LEVEL: the CLI keeps TensorFlow quiet itself."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    assert env.get("MNIST_DATA"), "conftest points MNIST_DATA at the local copy"
    return subprocess.run(
        [sys.executable, "-m", "mnist_core", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
    )


def run_in_process(monkeypatch, *args: str) -> int:
    """`python -m mnist_core ...` without a new interpreter: the exit code it raises."""
    monkeypatch.setattr(sys, "argv", ["mnist_core", *args])
    monkeypatch.delitem(sys.modules, "mnist_core.__main__", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("mnist_core", run_name="__main__", alter_sys=True)
    return exit_info.value.code


@pytest.fixture(scope="module")
def trained_cli(tmp_path_factory):
    """One real `train` run: 1 epoch on 2,000 images, saved to a .keras file."""
    out = tmp_path_factory.mktemp("cli") / "model.keras"
    result = run_cli("train", "--epochs", "1", "--train-size", "2000", "--out", str(out))
    return result, out


def test_train_prints_the_tutorial_output_and_saves(trained_cli):
    """Data source, the images used, the 407,050-parameter summary, Keras' line for the
    epoch (no progress bar redrawn in a pipe), test accuracy, a file; no TensorFlow logs."""
    result, out = trained_cli
    assert result.returncode == 0, result.stderr
    stdout = result.stdout
    assert f"Data: MNIST from {os.environ['MNIST_DATA']}" in stdout
    assert "Images: 1,800 to train on, 200 held out for validation, 10,000 to test" in stdout
    assert "Total params: 407,050" in stdout
    assert "\r" not in stdout and "\x1b" not in stdout and "\b" not in stdout
    number = r"(\d+\.\d+)"
    epoch_lines = re.findall(
        rf"^15/15 - \d+s - \S+/step - accuracy: {number} - loss: {number}"
        rf" - val_accuracy: {number} - val_loss: {number}$", stdout, re.MULTILINE)
    assert len(epoch_lines) == 1, stdout
    accuracy, loss, val_accuracy, val_loss = map(float, epoch_lines[0])
    assert loss > 0 and val_loss > 0 and 0.1 < accuracy <= 1 and 0.1 < val_accuracy <= 1
    test_accuracy = re.search(r"^Test accuracy: (\d\.\d+)$", stdout, re.MULTILINE)
    assert test_accuracy and 0.1 < float(test_accuracy.group(1)) <= 1, stdout
    assert f"Saved the model to {out}" in stdout
    assert out.is_file() and out.stat().st_size > 1_000_000  # 407,050 float32 weights
    assert result.stderr == ""


def test_predict_reads_a_png_digit(trained_cli, mnist, tmp_path, monkeypatch, capsys):
    """A test digit saved as dark ink on white at 8× scale is read as its label."""
    from mnist_core.model import load_model
    from mnist_core.predict import predict_proba

    result, out = trained_cli
    assert result.returncode == 0, result.stderr
    model = load_model(str(out))
    p = predict_proba(model, mnist.x_test[:100] / 255.0)
    right = np.flatnonzero(p.argmax(axis=1) == mnist.y_test[:100])
    assert right.size, "the 1-epoch model should get some of the first 100 digits right"
    index = right[p[right].max(axis=1).argmax()]  # its most confident correct answer
    label = int(mnist.y_test[index])

    big = np.kron(mnist.x_test[index], np.ones((8, 8), np.uint8))
    png = tmp_path / f"digit-{label}.png"
    Image.fromarray(255 - big).save(png)
    # In this interpreter (Keras is loaded already); the train run covered a fresh one.
    code = run_in_process(monkeypatch, "predict", str(png), "--model", str(out))
    stdout = capsys.readouterr().out
    assert code == 0
    assert f"Prediction: {label} (" in stdout, stdout
    assert len(re.findall(r"^  \d: \d\.\d{4}$", stdout, re.MULTILINE)) == 10
    assert "Thick strokes" not in stdout  # MNIST's own strokes are in proportion


def test_predict_notes_strokes_too_thick_for_the_digit(trained_cli, mnist, tmp_path,
                                                        monkeypatch, capsys):
    """A small digit written with a fat marker: read, with the thick-pen note after it."""
    from mnist_core.drawings import DrawingStyle, draw_digit

    _, out = trained_cli
    style = DrawingStyle(height_fraction=0.3, pen_width=28, rotation_degrees=0.0,
                         position=(0.5, 0.5))
    png = tmp_path / "marker.png"
    Image.fromarray(255 - draw_digit(mnist.x_test[0], style)[..., 3]).save(png)
    code = run_in_process(monkeypatch, "predict", str(png), "--model", str(out))
    stdout = capsys.readouterr().out
    assert code == 0
    assert "Prediction: " in stdout
    assert "Note: Thick strokes for a digit this size" in stdout
    assert "Write it larger, or with a thinner pen." in stdout


def test_predict_on_a_non_image_exits_2(monkeypatch, capsys, tmp_path):
    """A file that is no picture: exit status 2 and an 'Error:' line, not a traceback."""
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello\n")
    code = run_in_process(
        monkeypatch, "predict", str(not_image), "--model", str(tmp_path / "m.keras")
    )
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("Error:") and str(not_image) in captured.err
    assert "Traceback" not in captured.err


def _one(tmp_path: Path) -> Path:
    png = tmp_path / "digit.png"
    image = np.full((84, 84), 255, np.uint8)
    image[20:64, 38:46] = 0  # a '1'
    Image.fromarray(image).save(png)
    return png


def test_predict_with_a_missing_model_exits_2(monkeypatch, capsys, tmp_path):
    """A good picture but no model file: exit 2 naming the model file."""
    missing = tmp_path / "missing.keras"
    code = run_in_process(monkeypatch, "predict", str(_one(tmp_path)), "--model", str(missing))
    captured = capsys.readouterr()
    assert code == 2 and captured.err == f"Error: {missing} does not exist.\n"


def test_predict_with_a_missing_image_exits_2(monkeypatch, capsys, tmp_path):
    missing = tmp_path / "nowhere.png"
    code = run_in_process(monkeypatch, "predict", str(missing), "--model", "any.keras")
    captured = capsys.readouterr()
    assert code == 2 and captured.err == f"Error: {missing} does not exist.\n"


@pytest.mark.parametrize("model, words", [
    ("folder", "is a folder, not a model file: give a .keras file."),
    ("picture.png", "is not a Keras model file (a .keras file saved by Keras 3)."),
], ids=["folder", "png"])
def test_predict_with_a_model_that_is_no_model_says_so_in_one_line(monkeypatch, capsys,
                                                                    tmp_path, model, words):
    """`--model /tmp` and `--model x.png` printed Keras' TFSMLayer advice."""
    png = _one(tmp_path)
    path = tmp_path / model
    if model == "folder":
        path.mkdir()
    else:
        path.write_bytes(png.read_bytes())
    code = run_in_process(monkeypatch, "predict", str(png), "--model", str(path))
    captured = capsys.readouterr()
    assert code == 2 and captured.err == f"Error: {path} {words}\n"


def test_predict_verbose_adds_keras_own_error(monkeypatch, capsys, tmp_path):
    """--verbose: the one line, then what Keras said, for who wants to dig."""
    model = tmp_path / "noise.keras"
    model.write_bytes(b"noise")
    code = run_in_process(monkeypatch, "predict", str(_one(tmp_path)), "--model", str(model),
                          "--verbose")
    err = capsys.readouterr().err
    assert code == 2
    first, second = err.splitlines()[:2]
    assert first == f"Error: {model} is not a Keras model file (a .keras file saved by Keras 3)."
    assert second.startswith("Keras' own error: ValueError: ")


def test_predict_on_a_blank_image_exits_1(monkeypatch, capsys, tmp_path):
    """An empty picture is not an error in the file, but there is nothing to read."""
    png = tmp_path / "blank.png"
    Image.fromarray(np.full((64, 64), 255, np.uint8)).save(png)
    code = run_in_process(monkeypatch, "predict", str(png), "--model", str(tmp_path / "m.keras"))
    captured = capsys.readouterr()
    assert code == 1 and "No digit found" in captured.err


def test_train_with_zero_epochs_exits_2(monkeypatch, capsys, tmp_path):
    """Bad settings are refused with a message before any data is loaded."""
    out = tmp_path / "never.keras"
    code = run_in_process(monkeypatch, "train", "--epochs", "0", "--out", str(out))
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("Error:") and "epochs" in captured.err
    assert not out.exists()


def test_train_builds_the_deeper_cnn_with_a_cosine_schedule(monkeypatch, capsys, tmp_path):
    """The deeper convnet and the schedule are chosen on the command line, like the sidebar."""
    from mnist_core.model import config_of, load_model

    out = tmp_path / "deep.keras"
    code = run_in_process(monkeypatch, "train", "--architecture", "deep_cnn", "--dropout", "0.5",
                          "--optimizer", "adam", "--lr-schedule", "cosine", "--epochs", "2",
                          "--train-size", "256", "--no-save", "--out", str(out))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Nothing will be saved" not in captured.out  # --out is saved
    assert "Total params: 871,402" in captured.out
    assert "norm_1_1 (BatchNormalization)" in captured.out
    model = load_model(str(out))
    assert config_of(model).architecture == "deep_cnn"
    # Two epochs of cosine decay leave the optimizer at half its starting rate.
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0005)
