"""A model file that cannot be used: one short message per case, in the user's words.

Each case builds the real file. The message names the file (by the name given, else
its path) and says what is wrong with it; Keras' own text is kept in `detail`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from mnist_core.model import ModelFileError, load_model

NOT_A_MODEL = "is not a Keras model file (a .keras file saved by Keras 3)."


def small_dense(*middle: keras.layers.Layer) -> keras.Sequential:
    return keras.Sequential([keras.Input(shape=(784,)), *middle,
                             keras.layers.Dense(10, activation="softmax")])


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("good") / "good.keras"
    small_dense().save(path)
    return path


def refused(path: Path, name: str | None = None) -> ModelFileError:
    with pytest.raises(ModelFileError) as error:
        load_model(str(path), name=name)
    return error.value


def rezipped(good: Path, target: Path, drop: str = "", **replace: bytes) -> Path:
    """`good`'s archive without the member `drop` and with members replaced."""
    with zipfile.ZipFile(good) as archive:
        files = {name: archive.read(name) for name in archive.namelist() if name != drop}
    files.update({name.replace("__", "."): data for name, data in replace.items()})
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return target


def test_a_good_file_loads(good):
    assert load_model(str(good)).output_shape == (None, 10)


def test_no_such_file(tmp_path):
    path = tmp_path / "missing.keras"
    error = refused(path)
    assert str(error) == f"{path} does not exist."
    assert error.detail is None


def test_a_folder(tmp_path):
    error = refused(tmp_path)
    assert str(error) == f"{tmp_path} is a folder, not a model file: give a .keras file."
    assert error.detail is None


def _png(path: Path) -> Path:
    Image.fromarray(np.full((28, 28), 255, np.uint8)).save(path)
    return path


def _npz(path: Path) -> Path:
    with open(path, "wb") as file:  # a zip archive too, of other things
        np.savez(file, x=np.zeros(3))
    return path


@pytest.mark.parametrize("name, make", [
    ("noise.keras", lambda p: p.write_bytes(np.random.default_rng(0).bytes(4096)) and p),
    ("empty.keras", lambda p: p.write_bytes(b"") or p),
    ("digit.png", _png),
    ("notes.txt", lambda p: p.write_text("not a model\n") and p),
    ("arrays.keras", _npz),
], ids=["random-bytes", "empty", "png", "text", "zip-of-other-things"])
def test_a_file_that_is_no_keras_model_at_all(tmp_path, name, make):
    """Keras said "File not found" for bytes that are there, and TFSMLayer advice for a PNG."""
    path = tmp_path / name
    make(path)
    error = refused(path)
    assert str(error) == f"{path} {NOT_A_MODEL}"
    assert error.detail  # Keras' text, for who asks


class Doubler(keras.layers.Layer):
    """A custom layer, registered nowhere: its code is not in the file."""

    def call(self, x):
        return x * 2


def test_a_layer_the_app_does_not_know(tmp_path):
    path = tmp_path / "custom.keras"
    small_dense(Doubler()).save(path)
    error = refused(path)
    assert str(error) == f"{path} was made with a layer this app does not know: Doubler."
    assert "register_keras_serializable" not in str(error)
    assert error.detail and "Doubler" in error.detail


def test_a_layer_inside_a_nested_model(tmp_path):
    """A Functional model holding a Sequential that holds the custom layer."""
    inputs = keras.Input(shape=(784,))
    outputs = small_dense(Doubler())(inputs)
    path = tmp_path / "nested.keras"
    keras.Model(inputs, outputs).save(path)
    assert str(refused(path)).endswith("a layer this app does not know: Doubler.")


def test_a_config_naming_code_outside_keras(good, tmp_path):
    """A layer entry naming os.system: never imported, named as the unknown layer."""
    with zipfile.ZipFile(good) as archive:
        config = json.loads(archive.read("config.json"))
    config["config"]["layers"][1] = {"module": "os", "class_name": "system",
                                     "registered_name": None, "config": {"command": "true"}}
    path = rezipped(good, tmp_path / "hostile.keras", config__json=json.dumps(config).encode())
    assert str(refused(path)) == f"{path} was made with a layer this app does not know: system."


def test_a_lambda_layer(tmp_path):
    path = tmp_path / "lambda.keras"
    small_dense(keras.layers.Lambda(lambda t: t * 2.0)).save(path)
    error = refused(path)
    assert str(error) == (f"{path} contains Python code (a Lambda layer), which is never "
                          "loaded for safety.")
    assert error.detail and "safe_mode" in error.detail


@pytest.mark.parametrize("drop, replace, words", [
    ("model.weights.h5", {}, "its weights are missing."),
    ("", {"model__weights__h5": b"not HDF5"}, "it could not be read."),
    ("", {"config__json": b"{not json"}, "it could not be read."),
], ids=["weights-missing", "weights-garbage", "config-garbage"])
def test_a_damaged_keras_file(good, tmp_path, drop, replace, words):
    path = rezipped(good, tmp_path / "damaged.keras", drop, **replace)
    error = refused(path)
    assert str(error) == f"{path} is a damaged Keras model file: {words}"
    assert error.detail


def test_a_keras_file_under_another_name(good, tmp_path):
    """Keras opens a .keras zip only by its name: say so instead of its format advice."""
    path = tmp_path / "model.bin"
    shutil.copy(good, path)
    assert str(refused(path)) == (f"{path} is a Keras model file, but Keras opens it only "
                                  "under a name ending in .keras: rename it.")


@pytest.mark.parametrize("inputs, outputs, words", [
    ((32 * 32,), 10, "expects inputs of shape (1024,), not 28×28 digits."),
    ((784,), 5, "has outputs of shape (5,), not 10 digit classes."),
])
def test_wrong_shapes(tmp_path, inputs, outputs, words):
    path = tmp_path / "shape.keras"
    keras.Sequential([keras.Input(shape=inputs),
                      keras.layers.Dense(outputs, activation="softmax")]).save(path)
    error = refused(path, name="mine.keras")
    assert str(error) == f"mine.keras {words}"
    assert error.detail is None


@pytest.mark.parametrize("make", [
    lambda p: p.write_bytes(b"junk") and p,
    lambda p: small_dense(Doubler()).save(p) or p,
], ids=["junk", "custom-layer"])
def test_the_display_name_replaces_the_path(tmp_path, make):
    """The app loads an upload from a temporary path; the user knows it by its own name."""
    path = make(tmp_path / "upload.keras")
    message = str(refused(path, name="my model.keras"))
    assert message.startswith("my model.keras ") and str(tmp_path) not in message


def test_the_error_type_imports_without_keras():
    """The command line catches ModelFileError before (or without) loading TensorFlow."""
    code = ("import sys; from mnist_core.model_file import ModelFileError; "
            "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
