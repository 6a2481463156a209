"""mnist_core.codegen: the configuration as plain Keras code that runs and builds the same network.

Each generated script is executed for real in a fresh namespace, on a small slice of
the real MNIST (the data-loading line swapped for one that reads `MNIST_DATA`), with
one epoch: it must build a model with exactly `build_model`'s parameter count and
layers, train, and print a test accuracy.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from mnist_core.codegen import LOAD_DATA_LINE, STYLES, keras_code
from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.model import build_model

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).parent / "ruff"
# Whole batches of 128 everywhere (1,152 train + 128 validation; 512 test), so each Keras
# step function is traced and compiled once, not again for a smaller last batch.
N_TRAIN, N_TEST = 1_280, 512

CONFIGS = {
    "default dense": ModelConfig(),
    "two tanh layers, dropout, adam 0.003": ModelConfig(
        hidden_units=(256, 128), activation="tanh", dropout=0.2, optimizer="adam",
        learning_rate=0.003,
    ),
    "cnn": ModelConfig(architecture="cnn", dropout=0.5, optimizer="adam"),
    "cnn with augmentation": ModelConfig(
        architecture="cnn", augment=True, dropout=0.5, optimizer="adam"
    ),
    "deeper cnn, cosine decay": ModelConfig(architecture="deep_cnn", dropout=0.5, optimizer="adam"),
}
# Tiny runs: one epoch; the "cnn" one also limits the training images, as the sidebar can.
TRAIN_CONFIGS = {name: TrainConfig(epochs=1, batch_size=128, validation_split=0.1) for name in CONFIGS}
TRAIN_CONFIGS["cnn"] = TrainConfig(epochs=1, batch_size=128, validation_split=0.2, train_size=640)
# Two epochs, so that the cosine decay has lowered the learning rate once: to half of it.
# Batches of 32 (still whole ones): 64 steps let batch normalisation's running statistics
# catch up with the data; after 8 steps of 128 the test accuracy was sometimes at chance.
TRAIN_CONFIGS["deeper cnn, cosine decay"] = TrainConfig(
    epochs=2, batch_size=32, validation_split=0.2, lr_schedule="cosine")
# More shapes, only generated and linted (not trained): edge cases of the templates.
EXTRA_CONFIGS = {
    "no hidden layer": ModelConfig(hidden_units=()),
    "dense with augmentation": ModelConfig(augment=True, hidden_units=(64,), dropout=0.3),
    "three conv blocks, sgd": ModelConfig(
        architecture="cnn", conv_filters=(16, 32, 64), activation="sigmoid", optimizer="sgd",
        learning_rate=1e-5,
    ),
    "four wide layers": ModelConfig(hidden_units=(4096,) * 4, dropout=0.123456789),
    "deeper cnn, three blocks, sigmoid, no dropout": ModelConfig(
        architecture="deep_cnn", conv_filters=(8, 16, 32), activation="sigmoid"),
}


@functools.cache
def load_small_mnist():
    """The first 1,280 training and 512 test images of the real MNIST, as Keras returns them."""
    with np.load(os.environ["MNIST_DATA"], allow_pickle=False) as npz:
        return (
            (npz["x_train"][:N_TRAIN], npz["y_train"][:N_TRAIN]),
            (npz["x_test"][:N_TEST], npz["y_test"][:N_TEST]),
        )


def run_snippet(code: str) -> tuple[dict, str]:
    """Execute a generated script in a fresh namespace on small MNIST; its globals and output."""
    assert code.count(LOAD_DATA_LINE) == 1, "the data must be loaded on exactly one known line"
    small = code.replace(
        LOAD_DATA_LINE, "(x_train, y_train), (x_test, y_test) = load_small_mnist()"
    )
    namespace = {"__name__": "__snippet__", "load_small_mnist": load_small_mnist}
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(small, "<snippet>", "exec"), namespace)
    return namespace, output.getvalue()


def layer_names(model: keras.Model) -> list[str]:
    """Layer names, leaving out what only the app needs: its 784 → 28×28×1 reshape."""
    return [
        layer.name for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer) and layer.name != "as_image"
    ]


def ruff(*args: str, code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RUFF), *args, "--line-length", "88", "--stdin-filename", "snippet.py", "-"],
        input=code, capture_output=True, text=True, cwd=ROOT, timeout=60,
    )


# --- Running the generated code ---------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("name", list(CONFIGS))
def test_generated_code_builds_the_same_network_and_trains(name, style):
    """Executed on 1,280 real MNIST images for one epoch, the script builds build_model's network (same parameter count — 407,050 for the default — and the same layer names in order), trains with the configured optimizer and learning rate, and prints a test accuracy."""
    model_config, train_config = CONFIGS[name], TRAIN_CONFIGS[name]
    code = keras_code(model_config, train_config, style)

    namespace, output = run_snippet(code)

    model, expected = namespace["model"], build_model(model_config)
    assert model.count_params() == expected.count_params()
    if model_config == ModelConfig():
        assert model.count_params() == 407_050  # the classic tutorial's network
    assert layer_names(model) == layer_names(expected)
    assert type(model.optimizer) is type(expected.optimizer)
    decay = 0.5 if train_config.lr_schedule == "cosine" else 1.0  # cos(π · 1/2) = 0
    assert float(model.optimizer.learning_rate) == pytest.approx(
        model_config.learning_rate * decay)
    assert float(namespace["test_accuracy"]) > 0.1  # better than chance after one epoch
    printed = re.search(r"^Test accuracy: ([0-9.]+)$", output, re.MULTILINE)
    assert printed, output[-2000:]
    assert float(printed.group(1)) == pytest.approx(float(namespace["test_accuracy"]))
    limit = train_config.train_size or N_TRAIN
    assert len(namespace["x_train"]) == limit


# --- What the code says -----------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("name", [*CONFIGS, *EXTRA_CONFIGS])
def test_generated_code_compiles_and_passes_ruff(name, style):
    """Every script is valid Python, passes `ruff check` (the project's rules plus pycodestyle warnings, 88 columns) and is already formatted as `ruff format` would format it."""
    model_config = {**CONFIGS, **EXTRA_CONFIGS}[name]
    code = keras_code(model_config, TrainConfig(train_size=30_000), style)

    compile(code, "<snippet>", "exec")
    check = ruff("check", "--extend-select", "W,N", code=code)
    assert check.returncode == 0, check.stdout + check.stderr
    formatted = ruff("format", "--diff", code=code)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


@pytest.mark.parametrize("style", STYLES)
def test_code_carries_the_training_settings(style):
    """Epochs, batch size, validation split, the training-image limit, the optimizer class and learning rate, and the data preparation all appear as plain code."""
    model_config = ModelConfig(optimizer="sgd", learning_rate=0.05)
    train_config = TrainConfig(epochs=7, batch_size=64, validation_split=0.2, train_size=12_345)
    code = keras_code(model_config, train_config, style)

    assert "\nepochs = 7\n" in code and "\nbatch_size = 64\n" in code
    assert "validation_split=0.2" in code
    assert "x_train = x_train[:12345]" in code and "y_train = y_train[:12345]" in code
    assert "keras.optimizers.SGD(learning_rate=0.05)" in code
    assert 'loss="categorical_crossentropy"' in code and 'metrics=["accuracy"]' in code
    assert 'x_train.reshape(-1, 784).astype("float32") / 255' in code
    assert "keras.utils.to_categorical(y_train, 10)" in code
    assert "model.evaluate(x_test, y_test" in code and 'print("Test accuracy:"' in code


def test_only_a_cosine_schedule_adds_the_scheduler_and_its_import():
    constant = keras_code(ModelConfig(), TrainConfig(), "Sequential")
    cosine = keras_code(ModelConfig(), TrainConfig(lr_schedule="cosine"), "Sequential")
    assert "LearningRateScheduler" not in constant and "import math" not in constant
    assert "callbacks=[keras.callbacks.LearningRateScheduler(cosine_decay)]" in cosine
    assert cosine.startswith(constant.split("import keras")[0])  # same docstring
    assert "\nimport math\n\nimport keras\n" in cosine


def test_image_models_take_28x28x1_images_and_augment_with_constant_fill():
    """A convnet or augmentation reads 28×28×1 images; the random layers fill with background (fill_mode="constant") like the app's."""
    code = keras_code(ModelConfig(architecture="cnn", augment=True), TrainConfig(), "Functional")

    assert 'x_train.reshape(-1, 28, 28, 1).astype("float32") / 255' in code
    assert "keras.Input(shape=(28, 28, 1))" in code
    for layer in ("RandomTranslation", "RandomRotation", "RandomZoom"):
        assert re.search(rf'layers\.{layer}\([^)]*fill_mode="constant"', code), layer
    assert "train_size" not in code and "x_train[:" not in code  # no limit: all images


def test_styles_differ_in_the_way_they_build_the_model():
    """Sequential lists the layers, Functional calls them on tensors, Subclassing defines a keras.Model class with call()."""
    codes = {style: keras_code(ModelConfig(), TrainConfig(), style) for style in STYLES}

    assert "keras.Sequential(" in codes["Sequential"]
    assert "outputs = layers.Dense(10" in codes["Functional"]
    assert "keras.Model(inputs=inputs, outputs=outputs)" in codes["Functional"]
    assert "class MnistModel(keras.Model):" in codes["Subclassing"]
    assert "def call(self, inputs, training=False):" in codes["Subclassing"]


def test_numpy_numbers_become_plain_literals():
    """Settings that arrive as NumPy numbers (from widgets or sliders) still give plain Python literals, never `np.float64(0.5)`."""
    model_config = ModelConfig(dropout=np.float64(0.25), learning_rate=np.float32(0.5))
    train_config = TrainConfig(epochs=np.int64(3), validation_split=np.float64(0.1))
    code = keras_code(model_config, train_config, "Sequential")

    assert "np." not in code
    assert "layers.Dropout(0.25," in code and "RMSprop(learning_rate=0.5)" in code
    assert "\nepochs = 3\n" in code and "validation_split=0.1" in code


def test_unknown_style_is_refused():
    with pytest.raises(ValueError, match="Sequential, Functional, Subclassing"):
        keras_code(ModelConfig(), TrainConfig(), "Pipeline")
