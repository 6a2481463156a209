"""Build the network: by default exactly the classic Keras MNIST model.

Input(784) → Dense(512, relu) → Dense(10, softmax), rmsprop,
categorical cross-entropy, accuracy: 401,920 + 5,130 = 407,050 parameters.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import keras

from mnist_core.data import INPUT_DIM, NUM_CLASSES

OPTIMIZERS = ("rmsprop", "adam", "sgd")
ACTIVATIONS = ("relu", "tanh", "sigmoid")
MAX_HIDDEN_LAYERS = 4
MAX_UNITS = 4096


@dataclass(frozen=True)
class ModelConfig:
    """What the sidebar lets a learner change about the network."""

    hidden_units: tuple[int, ...] = (512,)
    activation: str = "relu"
    dropout: float = 0.0
    optimizer: str = "rmsprop"
    learning_rate: float = 0.001  # the Keras default for rmsprop and adam

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden_units", tuple(int(u) for u in self.hidden_units))
        problems = config_problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    def to_dict(self) -> dict:
        return asdict(self)


def config_problems(config: ModelConfig) -> list[str]:
    """Every reason why this configuration cannot be trained, in words."""
    problems = []
    if len(config.hidden_units) > MAX_HIDDEN_LAYERS:
        problems.append(f"at most {MAX_HIDDEN_LAYERS} hidden layers")
    if any(not 1 <= units <= MAX_UNITS for units in config.hidden_units):
        problems.append(f"each hidden layer needs 1–{MAX_UNITS} units")
    if config.activation not in ACTIVATIONS:
        problems.append(f"activation must be one of {', '.join(ACTIVATIONS)}")
    if not 0.0 <= config.dropout < 1.0:
        problems.append("dropout must be in [0, 1)")
    if config.optimizer not in OPTIMIZERS:
        problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
    if not 0.0 < config.learning_rate <= 10.0:
        problems.append("learning rate must be in (0, 10]")
    return problems


def build_model(config: ModelConfig = ModelConfig()) -> keras.Model:
    """A compiled Sequential model for 784-pixel inputs and 10 softmax outputs."""
    layers: list[keras.layers.Layer] = [keras.Input(shape=(INPUT_DIM,))]
    for units in config.hidden_units:
        layers.append(keras.layers.Dense(units, activation=config.activation))
        if config.dropout:
            layers.append(keras.layers.Dropout(config.dropout))
    layers.append(keras.layers.Dense(NUM_CLASSES, activation="softmax"))
    model = keras.Sequential(layers)
    optimizer = keras.optimizers.get(
        {"class_name": config.optimizer, "config": {"learning_rate": config.learning_rate}}
    )
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


@dataclass(frozen=True)
class ModelSummary:
    """`model.summary()` as data, for a table in the UI and the CLI."""

    rows: list[dict] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params


def summary_rows(model: keras.Model) -> ModelSummary:
    """One row per layer (name, type, output shape, parameters) plus the totals."""
    rows = [
        {
            "Layer": layer.name,
            "Type": type(layer).__name__,
            "Output shape": str(tuple(layer.output.shape)).replace("None", "batch"),
            "Parameters": layer.count_params(),
        }
        for layer in model.layers
    ]
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    return ModelSummary(rows=rows, total_params=model.count_params(), trainable_params=trainable)


def summary_text(summary: ModelSummary) -> str:
    """The summary as a fixed-width table, for the terminal."""
    lines = [f"{'Layer (type)':<32}{'Output shape':<20}{'Param #':>10}"]
    for row in summary.rows:
        name = f"{row['Layer']} ({row['Type']})"
        lines.append(f"{name:<32}{row['Output shape']:<20}{row['Parameters']:>10,}")
    lines.append(f"Total params: {summary.total_params:,}")
    lines.append(f"Trainable params: {summary.trainable_params:,}")
    lines.append(f"Non-trainable params: {summary.non_trainable_params:,}")
    return "\n".join(lines)


class ModelFileError(ValueError):
    """A saved model could not be used; the message says why."""


def load_model(path: str) -> keras.Model:
    """Load a `.keras` file in safe mode and check it reads 28×28 digits into 10 classes."""
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many kinds for bad files
        raise ModelFileError(f"{path} is not a usable Keras model: {error}") from error
    input_shape = tuple(model.input_shape[1:])
    if input_shape not in ((INPUT_DIM,), (28, 28), (28, 28, 1)):
        raise ModelFileError(f"{path} expects inputs of shape {input_shape}, not 28×28 digits.")
    if tuple(model.output_shape[1:]) != (NUM_CLASSES,):
        raise ModelFileError(
            f"{path} has outputs of shape {model.output_shape[1:]}, not 10 digit classes."
        )
    return model
