"""What a learner can set: the network (`ModelConfig`) and the training (`TrainConfig`).

Plain dataclasses with no Keras import, so the sidebar can build them before
TensorFlow is loaded. Each refuses absurd values with a ValueError in words.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

ARCHITECTURES = ("dense", "cnn", "deep_cnn")
CONVOLUTIONAL = ("cnn", "deep_cnn")
DEEP_CNN_HEAD_UNITS = 256  # the deeper CNN's dense layer between its blocks and the softmax
BATCH_NORM_MOMENTUM = 0.9  # Keras' 0.99 leaves the running statistics behind in short runs
LR_SCHEDULES = ("constant", "cosine")
OPTIMIZERS = ("rmsprop", "adam", "sgd")
ACTIVATIONS = ("relu", "tanh", "sigmoid")
CNN_DROPOUT = 0.5  # Keras' simple MNIST convnet's; the dense network's default is none
MAX_HIDDEN_LAYERS = 4
MAX_UNITS = 4096
MAX_CONV_BLOCKS, MAX_FILTERS = 3, 256
MIN_EPOCHS, MAX_EPOCHS = 1, 50
MIN_BATCH_SIZE, MAX_BATCH_SIZE = 1, 4096
MAX_VALIDATION_SHARE = 0.5  # of the training images held out for validation
MAX_DRAWING_EXAMPLES = 60_000


@dataclass(frozen=True)
class ModelConfig:
    """The network: the default is the classic Dense(512, relu) model with rmsprop.

    `architecture="cnn"` is Keras' simple MNIST convnet instead: Conv2D + MaxPooling
    blocks with `conv_filters` filters each, then dropout (CNN_DROPOUT there).
    `architecture="deep_cnn"` is a deeper convnet that reads drawn digits better:
    blocks of two 3×3 convolutions, each followed by batch normalisation, then
    max-pooling and half the dropout rate; a dense layer of DEEP_CNN_HEAD_UNITS units
    with the full rate before the softmax. `augment` adds random shifts, rotations and
    zooms of the training images.
    """

    architecture: str = "dense"
    hidden_units: tuple[int, ...] = (512,)
    conv_filters: tuple[int, ...] = (32, 64)
    augment: bool = False
    activation: str = "relu"
    dropout: float = 0.0
    optimizer: str = "rmsprop"
    learning_rate: float = 0.001  # the Keras default for rmsprop and adam

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden_units", tuple(int(u) for u in self.hidden_units))
        object.__setattr__(self, "conv_filters", tuple(int(f) for f in self.conv_filters))
        problems = []
        if self.architecture not in ARCHITECTURES:
            problems.append(f"architecture must be one of {', '.join(ARCHITECTURES)}")
        if not 1 <= len(self.conv_filters) <= MAX_CONV_BLOCKS or any(
            not 1 <= filters <= MAX_FILTERS for filters in self.conv_filters
        ):
            problems.append(f"1–{MAX_CONV_BLOCKS} convolution blocks of 1–{MAX_FILTERS} filters")
        if len(self.hidden_units) > MAX_HIDDEN_LAYERS:
            problems.append(f"at most {MAX_HIDDEN_LAYERS} hidden layers")
        if any(not 1 <= units <= MAX_UNITS for units in self.hidden_units):
            problems.append(f"each hidden layer needs 1–{MAX_UNITS} units")
        if self.activation not in ACTIVATIONS:
            problems.append(f"activation must be one of {', '.join(ACTIVATIONS)}")
        if not 0.0 <= self.dropout < 1.0:
            problems.append("dropout must be in [0, 1)")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        if not 0.0 < self.learning_rate <= 10.0:
            problems.append("learning rate must be in (0, 10]")
        if problems:
            raise ValueError("; ".join(problems))

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def is_convolutional(self) -> bool:
        return self.architecture in CONVOLUTIONAL

    @property
    def takes_images(self) -> bool:
        """Convolutions and augmentation work on 28×28×1 images, a dense net on 784 numbers."""
        return self.is_convolutional or self.augment


@dataclass(frozen=True)
class TrainConfig:
    """How long and on how much data to train.

    `lr_schedule="cosine"` lowers the learning rate epoch by epoch along a half
    cosine, from the optimizer's rate to near 0 in the last epoch: the last epochs
    settle instead of jumping between nearby solutions.
    `drawing_examples` adds that many simulated canvas drawings of training digits to
    the training split (never to validation): see mnist_core.drawing_examples.
    """

    epochs: int = 5
    batch_size: int = 128
    validation_split: float = 0.1
    train_size: int | None = None  # the first N training images; None = all of them
    lr_schedule: str = "constant"
    drawing_examples: int = 0

    def __post_init__(self) -> None:
        problems = []
        if not MIN_EPOCHS <= self.epochs <= MAX_EPOCHS:
            problems.append(f"epochs must be {MIN_EPOCHS}–{MAX_EPOCHS}")
        if not MIN_BATCH_SIZE <= self.batch_size <= MAX_BATCH_SIZE:
            problems.append(f"batch size must be {MIN_BATCH_SIZE}–{MAX_BATCH_SIZE}")
        if not 0.0 <= self.validation_split <= MAX_VALIDATION_SHARE:
            problems.append(f"validation split must be 0–{MAX_VALIDATION_SHARE:g}")
        if self.train_size is not None and self.train_size < 10:
            problems.append("train on at least 10 images")
        if self.lr_schedule not in LR_SCHEDULES:
            problems.append(f"learning-rate schedule must be one of {', '.join(LR_SCHEDULES)}")
        if not 0 <= self.drawing_examples <= MAX_DRAWING_EXAMPLES:
            problems.append(f"drawing-style examples must be 0–{MAX_DRAWING_EXAMPLES:,}")
        if problems:
            raise ValueError("; ".join(problems))

    def to_dict(self) -> dict:
        return asdict(self)


# The defaults, as the app's sidebar and the command line start from them.
DEFAULT_MODEL, DEFAULT_TRAINING = ModelConfig(), TrainConfig()
