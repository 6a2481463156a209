"""Build the network: by default exactly the classic Keras MNIST model.

Input(784) → Dense(512, relu) → Dense(10, softmax), rmsprop,
categorical cross-entropy, accuracy: 401,920 + 5,130 = 407,050 parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mnist_core.config import (
    BATCH_NORM_MOMENTUM,
    DEEP_CNN_HEAD_UNITS,
    DEFAULT_MODEL,
    OPTIMIZERS,
    ModelConfig,
)
from mnist_core.data import IMAGE_SIZE, INPUT_DIM, NUM_CLASSES
from mnist_core.model_file import ModelFileError, check_path, refusal
from mnist_core.quiet_keras import keras


def build_model(config: ModelConfig = DEFAULT_MODEL) -> keras.Model:
    """A compiled Sequential model for 784-pixel inputs and 10 softmax outputs.

    Every architecture takes the same flat 784-vectors, so data preparation and
    prediction never depend on the model: image-shaped layers reshape first.
    """
    layers: list[keras.layers.Layer] = [keras.Input(shape=(INPUT_DIM,))]
    if config.takes_images:
        layers.append(keras.layers.Reshape((IMAGE_SIZE, IMAGE_SIZE, 1), name="as_image"))
    if config.augment:
        layers += augmentation_layers()
    if config.architecture == "cnn":
        layers += _conv_layers(config)
    elif config.architecture == "deep_cnn":
        layers += _deep_conv_layers(config)
    else:
        if config.augment:
            layers.append(keras.layers.Flatten(name="flatten"))
        layers += _dense_layers(config)
    layers.append(keras.layers.Dense(NUM_CLASSES, activation="softmax", name="output"))
    model = keras.Sequential(layers)
    optimizer = keras.optimizers.get(
        {"class_name": config.optimizer, "config": {"learning_rate": config.learning_rate}}
    )
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def augmentation_layers() -> list[keras.layers.Layer]:
    """Random shifts (±10%), rotations (±15°) and zooms (±10%), in training only.

    `fill_mode="constant"` fills uncovered pixels with background instead of
    mirroring strokes into the border.
    """
    return [
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", name="random_shift"),
        keras.layers.RandomRotation(15 / 360, fill_mode="constant", name="random_rotation"),
        keras.layers.RandomZoom(0.1, fill_mode="constant", name="random_zoom"),
    ]


def _dense_layers(config: ModelConfig) -> list[keras.layers.Layer]:
    layers: list[keras.layers.Layer] = []
    for number, units in enumerate(config.hidden_units, start=1):
        hidden = keras.layers.Dense(units, activation=config.activation, name=f"hidden_{number}")
        layers.append(hidden)
        if config.dropout:
            layers.append(keras.layers.Dropout(config.dropout, name=f"dropout_{number}"))
    return layers


def _conv_layers(config: ModelConfig) -> list[keras.layers.Layer]:
    """Keras' simple MNIST convnet: conv 3×3 + max-pool 2×2 blocks, flatten, dropout."""
    layers: list[keras.layers.Layer] = []
    for number, filters in enumerate(config.conv_filters, start=1):
        layers.append(keras.layers.Conv2D(filters, kernel_size=3, activation=config.activation,
                                          name=f"conv_{number}"))
        layers.append(keras.layers.MaxPooling2D(pool_size=2, name=f"pool_{number}"))
    layers.append(keras.layers.Flatten(name="flatten"))
    if config.dropout:
        layers.append(keras.layers.Dropout(config.dropout, name="dropout"))
    return layers


def _deep_conv_layers(config: ModelConfig) -> list[keras.layers.Layer]:
    """Blocks of two 3×3 convolutions, each batch-normalised, then max-pool and dropout.

    Batch normalisation after each convolution's activation keeps the deeper stack
    quick to train; "same" padding keeps 28×28 maps until each pooling halves them.
    Its running statistics follow the data with momentum 0.9 instead of Keras' 0.99,
    so that a short training on a few images predicts well too.
    The blocks drop half the dropout rate, the dense layer before the softmax all of it.
    """
    layers: list[keras.layers.Layer] = []
    for block, filters in enumerate(config.conv_filters, start=1):
        for number in (1, 2):
            layers.append(keras.layers.Conv2D(
                filters, kernel_size=3, padding="same", activation=config.activation,
                name=f"conv_{block}_{number}"))
            layers.append(keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM,
                                                          name=f"norm_{block}_{number}"))
        layers.append(keras.layers.MaxPooling2D(pool_size=2, name=f"pool_{block}"))
        if config.dropout:
            layers.append(keras.layers.Dropout(config.dropout / 2, name=f"dropout_{block}"))
    layers.append(keras.layers.Flatten(name="flatten"))
    layers.append(keras.layers.Dense(DEEP_CNN_HEAD_UNITS, activation=config.activation,
                                     name="hidden_1"))
    if config.dropout:
        layers.append(keras.layers.Dropout(config.dropout, name="dropout"))
    return layers


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
    lines = [f"{'Layer (type)':<36}{'Output shape':<20}{'Param #':>10}"]
    for row in summary.rows:
        name = f"{row['Layer']} ({row['Type']})"
        lines.append(f"{name:<36}{row['Output shape']:<20}{row['Parameters']:>10,}")
    lines.append(f"Total params: {summary.total_params:,}")
    lines.append(f"Trainable params: {summary.trainable_params:,}")
    lines.append(f"Non-trainable params: {summary.non_trainable_params:,}")
    return "\n".join(lines)


def load_model(path: str, name: str | None = None) -> keras.Model:
    """Load a `.keras` file in safe mode and check it reads 28×28 digits into 10 classes.

    Every refusal is a ModelFileError in the user's words (see mnist_core.model_file),
    naming the file as `name` (an upload's own name, say), else as `path`.
    """
    name = name or str(path)
    check_path(path, name)
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many kinds for bad files
        raise refusal(path, name, error) from error
    input_shape = tuple(model.input_shape[1:])
    if input_shape not in ((INPUT_DIM,), (IMAGE_SIZE, IMAGE_SIZE), (IMAGE_SIZE, IMAGE_SIZE, 1)):
        raise ModelFileError(f"{name} expects inputs of shape {input_shape}, not 28×28 digits.")
    if tuple(model.output_shape[1:]) != (NUM_CLASSES,):
        raise ModelFileError(
            f"{name} has outputs of shape {model.output_shape[1:]}, not 10 digit classes."
        )
    return model


def config_of(model: keras.Model) -> ModelConfig:
    """The app's settings that build a network like `model`, weight for weight.

    An uploaded model can be used only if the app can build its like: the dense
    network or one of the convnets, any sizes. Raises ModelFileError saying why not.
    """
    layers = [layer for layer in model.layers if layer.weights or isinstance(
        layer, (keras.layers.Dropout, keras.layers.RandomRotation))]
    conv = [layer for layer in layers if isinstance(layer, keras.layers.Conv2D)]
    dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
    dropouts = [layer.rate for layer in layers if isinstance(layer, keras.layers.Dropout)]
    normalised = any(isinstance(layer, keras.layers.BatchNormalization) for layer in layers)
    hidden = conv or dense[:-1]
    activation = hidden[0].activation.__name__ if hidden else DEFAULT_MODEL.activation
    optimizer = getattr(model, "optimizer", None)
    try:
        config = ModelConfig(
            architecture=("deep_cnn" if normalised else "cnn") if conv else "dense",
            hidden_units=DEFAULT_MODEL.hidden_units if conv else tuple(
                layer.units for layer in dense[:-1]),
            conv_filters=tuple(layer.filters for layer in conv[::2 if normalised else 1])
            or DEFAULT_MODEL.conv_filters,
            augment=any(isinstance(layer, keras.layers.RandomRotation) for layer in layers),
            activation=activation,
            dropout=max(dropouts, default=0.0),
            **_optimizer_settings(optimizer),
        )
    except ValueError as error:
        raise ModelFileError(f"This model is not one the app can build: {error}.") from error
    if _layout(build_model(config)) != _layout(model):
        raise ModelFileError(
            "This model's layers are not the app's dense network or one of its convnets "
            "(Dense layers; 3×3 Conv2D + 2×2 max-pooling blocks; or blocks of two "
            "batch-normalised 3×3 Conv2D), with the app's dropout, so the app cannot show it."
        )
    return config


def _layout(model: keras.Model) -> list[tuple]:
    """Each layer with weights or dropout: its type, weight shapes and dropout rate."""
    return [
        (type(layer).__name__, [tuple(w.shape) for w in layer.weights], getattr(layer, "rate", 0))
        for layer in model.layers
        if layer.weights or isinstance(layer, keras.layers.Dropout)
    ]


def _optimizer_settings(optimizer) -> dict:
    """The optimizer's name and learning rate, if it is one the app offers."""
    name = type(optimizer).__name__.lower() if optimizer is not None else ""
    if name not in OPTIMIZERS:
        return {}
    rate = float(f"{float(keras.ops.convert_to_numpy(optimizer.learning_rate)):.6g}")
    return {"optimizer": name, "learning_rate": rate}

