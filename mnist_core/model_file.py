"""Why a model file cannot be used, said in the user's words; Keras' own text kept aside.

Keras words every failure in its terms: "File not found" for random bytes that are
there, advice about TFSMLayer for a folder or a picture, a paragraph about
`register_keras_serializable` for a layer it does not know. The file itself tells
which case it is: a `.keras` file is a zip with `config.json` (the layers, by class
name) and `model.weights.h5`. So the message comes from looking at the file, and
Keras' text goes to `ModelFileError.detail` for whoever wants it.

Importing this module loads no Keras: the command line catches ModelFileError
without loading TensorFlow.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Iterator

CONFIG_FILE = "config.json"
WEIGHTS_FILES = ("model.weights.h5", "model.weights.npz")  # Keras writes either
MODEL_CLASSES = ("Sequential", "Functional", "Model")


class ModelFileError(ValueError):
    """A saved model could not be used. `str(error)` says why in the user's words, naming
    the file; `detail` is the technical text behind it (Keras' own error), or None when
    there is none (no such file, a folder, a model of the wrong shape)."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


def check_path(path: str | Path, name: str) -> None:
    """Refuse a path that is not a file at all, before Keras tries it."""
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"{name} is a folder, not a model file: give a .keras file.")
    if not path.is_file():
        raise ModelFileError(f"{name} does not exist.")


def refusal(path: str | Path, name: str, error: Exception) -> ModelFileError:
    """The error for a file Keras failed to load: which case it is, read from the file."""
    detail = f"{type(error).__name__}: {error}"
    try:
        with zipfile.ZipFile(path) as archive:
            files = set(archive.namelist())
            config = archive.read(CONFIG_FILE) if CONFIG_FILE in files else None
    except (OSError, zipfile.BadZipFile):
        config = None
    if config is None:
        return ModelFileError(
            f"{name} is not a Keras model file (a .keras file saved by Keras 3).", detail)
    layers = list(_layers(_json_object(config)))
    if any(layer.get("class_name") == "Lambda" for layer in layers):
        return ModelFileError(f"{name} contains Python code (a Lambda layer), which is never "
                              "loaded for safety.", detail)
    unknown = [str(layer.get("class_name")) for layer in layers if not _known(layer)]
    if unknown:
        return ModelFileError(
            f"{name} was made with a layer this app does not know: {unknown[0]}.", detail)
    if not files.intersection(WEIGHTS_FILES):
        return ModelFileError(f"{name} is a damaged Keras model file: its weights are missing.",
                              detail)
    if not str(path).endswith(".keras"):
        return ModelFileError(f"{name} is a Keras model file, but Keras opens it only under a "
                              "name ending in .keras: rename it.", detail)
    return ModelFileError(f"{name} is a damaged Keras model file: it could not be read.", detail)


def _json_object(data: bytes) -> dict:
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _layers(entry: dict) -> Iterator[dict]:
    """The model's entry and every layer in it, nested models' layers included."""
    if "class_name" not in entry:
        return
    yield entry
    config = entry.get("config")
    if not isinstance(config, dict):
        return
    children = config.get("layers")
    for child in [*(children if isinstance(children, list) else []), config.get("layer")]:
        if isinstance(child, dict):
            yield from _layers(child)


def _known(entry: dict) -> bool:
    """Is this one of Keras' own layers or models (not a custom class, nor anything else)?"""
    import keras  # Keras has just failed on this file, so it is loaded already

    module, class_name = entry.get("module"), entry.get("class_name")
    if not isinstance(module, str) or module.split(".")[0] != "keras":
        return False
    if class_name in MODEL_CLASSES:
        return True
    layer = getattr(keras.layers, str(class_name), None)
    return isinstance(layer, type) and issubclass(layer, keras.layers.Layer)
