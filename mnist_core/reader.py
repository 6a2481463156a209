"""The ready reader: a network shipped with the app, so drawings are read on first open.

`models/reader.keras` is the deeper CNN trained on MNIST plus drawing-style examples;
`models/reader.json` says how it was made (the command, the data, the date, the
library versions) and how well it reads the MNIST test set and the benchmark's
simulated drawings. `python -m mnist_core reader` makes both again from scratch.
It is loaded in Keras' safe mode, like any model file the app opens.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.data import MnistData

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
READER_FILE, INFO_FILE = "reader.keras", "reader.json"
REBUILD_COMMAND = "python -m mnist_core reader"

# The deeper CNN with augmentation, Adam with its learning rate cosine-decayed, on all
# 60,000 training digits plus drawing-style examples of them (docs/recognition.md).
READER_MODEL = ModelConfig(architecture="deep_cnn", dropout=0.5, augment=True,
                           optimizer="adam")
READER_TRAINING = TrainConfig(epochs=20, validation_split=0.0, lr_schedule="cosine",
                              drawing_examples=30_000)
BENCHMARK_DRAWINGS, BENCHMARK_SEED = 1_000, 1  # bench/drawn_digits.py's drawings


@dataclass(frozen=True)
class ReaderInfo:
    """What `reader.json` says: how the reader was made and how well it reads."""

    test_accuracy: float  # on MNIST's 10,000 test digits
    test_loss: float
    drawings_accuracy: float  # on the benchmark's 1,000 simulated drawings
    made: dict[str, Any]  # command, data, date, versions, training minutes

    @property
    def summary(self) -> str:
        return (f"{self.test_accuracy:.2%} of MNIST's test digits and "
                f"{self.drawings_accuracy:.1%} of 1,000 simulated drawings")


def reader_path(models_dir: Path | None = None) -> Path:
    return Path(models_dir or MODELS_DIR) / READER_FILE


def is_shipped(models_dir: Path | None = None) -> bool:
    """Whether the reader's files are there, without loading Keras (the sidebar asks)."""
    return reader_path(models_dir).is_file() and (Path(models_dir or MODELS_DIR)
                                                  / INFO_FILE).is_file()


def read_info(models_dir: Path | None = None) -> ReaderInfo:
    """The reader's JSON; OSError, ValueError or KeyError if it is missing or unreadable."""
    info = json.loads((Path(models_dir or MODELS_DIR) / INFO_FILE).read_text())
    return ReaderInfo(float(info["test_accuracy"]), float(info["test_loss"]),
                      float(info["drawings_accuracy"]), dict(info["made"]))


def load_reader(models_dir: Path | None = None):
    """The reader as a Keras model, loaded in safe mode and checked like any import."""
    from mnist_core.model import load_model

    return load_model(str(reader_path(models_dir)), name="The ready reader")


def drawings_accuracy(model, data: MnistData) -> float:
    """Share of the benchmark's simulated drawings of test digits that `model` reads right."""
    from mnist_core.drawings import drawn_test_set
    from mnist_core.predict import predict_proba
    from mnist_core.preprocess import preprocess_canvas

    canvases, labels = drawn_test_set(data.x_test, data.y_test, BENCHMARK_DRAWINGS,
                                      seed=BENCHMARK_SEED)
    inputs = np.array([preprocess_canvas(canvas) for canvas in canvases])
    return float(np.mean(predict_proba(model, inputs).argmax(axis=1) == labels))


def build_reader(data: MnistData, models_dir: Path | None = None,
                 examples_dir: Path | None = None, verbose: int = 2) -> ReaderInfo:
    """Train the reader from scratch, measure it, and write its model file and JSON."""
    from mnist_core.quiet_keras import keras
    from mnist_core.runs.records import JobStatus
    from mnist_core.runs.train import TrainingJob

    started = time.time()
    job = TrainingJob(data, READER_MODEL, READER_TRAINING, examples_dir=examples_dir,
                      verbose=verbose)
    job.run()
    progress = job.progress()
    if (progress.status != JobStatus.FINISHED or progress.test_accuracy is None
            or progress.test_loss is None):
        raise RuntimeError(f"The reader's training did not finish: {progress.error}")
    info = ReaderInfo(
        test_accuracy=float(progress.test_accuracy),
        test_loss=float(progress.test_loss),
        drawings_accuracy=drawings_accuracy(job.model, data),
        made={
            "command": REBUILD_COMMAND,
            "data": data.source,
            "date": time.strftime("%Y-%m-%d", time.gmtime(started)),
            "model": READER_MODEL.to_dict(),
            "training": READER_TRAINING.to_dict(),
            "training_minutes": round(progress.elapsed_seconds / 60, 1),
            "versions": {"python": platform.python_version(), "keras": keras.__version__,
                         "tensorflow": _version("tensorflow"), "numpy": np.__version__},
        },
    )
    models_dir = Path(models_dir or MODELS_DIR)
    models_dir.mkdir(parents=True, exist_ok=True)
    _without_optimizer_state(job.model).save(reader_path(models_dir))
    (models_dir / INFO_FILE).write_text(json.dumps(
        {"test_accuracy": info.test_accuracy, "test_loss": info.test_loss,
         "drawings_accuracy": info.drawings_accuracy, "made": info.made}, indent=2) + "\n")
    return info


def _without_optimizer_state(model):
    """The trained network with a plain SGD compiled in, whose only state is its step
    count: Adam's two slots per weight would triple the file, and an optimizer left
    unbuilt makes Keras warn when the file is loaded."""
    from mnist_core.model import build_model

    shippable = build_model(READER_MODEL)
    shippable.set_weights(model.get_weights())
    shippable.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    shippable.optimizer.build(shippable.trainable_variables)
    return shippable


def _version(package: str) -> str:
    module = sys.modules.get(package)
    return getattr(module, "__version__", "unknown")
