"""The sidebar's training setup: its choices, defaults, and its form in a shareable link.

A link such as `?epochs=10&optimizer=adam` reproduces a setup. Values in a link
come from anyone, so each is checked: a number out of range is clamped to the
nearest allowed value, anything else unusable is ignored, and either way the
user is told what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from mnist_core.config import (
    ACTIVATIONS,
    ARCHITECTURES,
    CNN_DROPOUT,
    DEFAULT_MODEL,
    DEFAULT_TRAINING,
    LR_SCHEDULES,
    MAX_EPOCHS,
    MAX_HIDDEN_LAYERS,
    MIN_EPOCHS,
    OPTIMIZERS,
    ModelConfig,
    TrainConfig,
)

BATCH_SIZES = (16, 32, 64, 128, 256, 512, 1024)
LEARNING_RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
UNIT_CHOICES = (16, 32, 64, 128, 256, 512, 1024, 2048)
TRAIN_SIZES = (1_000, 5_000, 10_000, 30_000)
DRAWING_EXAMPLES = (0, 5_000, 15_000, 30_000)
ALL_IMAGES = "all"
MAX_VALIDATION_SPLIT = 0.3
MAX_DROPOUT, MAX_CNN_DROPOUT = 0.5, 0.7
SLIDER_STEP = 0.05


@dataclass(frozen=True)
class Setting:
    """One sidebar value: its default and how a link's text becomes a valid value."""

    default: Any
    parse: Callable[[str], tuple[Any, str | None]]  # (value or None, message or None)


def _whole_number(low: int, high: int) -> Callable[[str], tuple[Any, str | None]]:
    def parse(text: str) -> tuple[Any, str | None]:
        try:
            number = int(text)
        except ValueError:
            return None, f"{text!r} is not a whole number"
        clamped = min(max(number, low), high)
        return clamped, None if clamped == number else f"{number} is outside {low}–{high}"
    return parse


def _fraction(high: float) -> Callable[[str], tuple[Any, str | None]]:
    """A slider value: 0 to `high` in steps of SLIDER_STEP."""
    def parse(text: str) -> tuple[Any, str | None]:
        try:
            number = float(text)
        except ValueError:
            return None, f"{text!r} is not a number"
        if number != number:  # NaN
            return None, "NaN is not a number"
        clamped = round(min(max(number, 0.0), high) / SLIDER_STEP) * SLIDER_STEP
        clamped = round(clamped, 2)
        return clamped, None if clamped == number else f"{number:g} is outside 0–{high:g}"
    return parse


def _nearest(options: Sequence[float]) -> Callable[[str], tuple[Any, str | None]]:
    """A select-slider value: the nearest of `options`."""
    def parse(text: str) -> tuple[Any, str | None]:
        try:
            number = float(text)
        except ValueError:
            return None, f"{text!r} is not a number"
        if number != number:
            return None, "NaN is not a number"
        nearest = min(options, key=lambda option: abs(option - number))
        return nearest, None if nearest == number else f"{number:g} is not offered"
    return parse


def _one_of(options: Sequence[str]) -> Callable[[str], tuple[Any, str | None]]:
    def parse(text: str) -> tuple[Any, str | None]:
        if text in options:
            return text, None
        return None, f"{text!r} is not one of {', '.join(options)}"
    return parse


def _train_size(text: str) -> tuple[Any, str | None]:
    if text == ALL_IMAGES:
        return ALL_IMAGES, None
    return _nearest(TRAIN_SIZES)(text)


def _yes_no(text: str) -> tuple[Any, str | None]:
    if text.lower() in ("1", "true", "yes", "on"):
        return True, None
    if text.lower() in ("0", "false", "no", "off"):
        return False, None
    return None, f"{text!r} is not yes or no"


# The sidebar's widget keys, which are also the link's parameter names. The defaults are
# ModelConfig's and TrainConfig's: the sidebar starts where the command line does.
SETTINGS: dict[str, Setting] = {
    "epochs": Setting(DEFAULT_TRAINING.epochs, _whole_number(MIN_EPOCHS, MAX_EPOCHS)),
    "batch_size": Setting(DEFAULT_TRAINING.batch_size, _nearest(BATCH_SIZES)),
    "validation_split": Setting(DEFAULT_TRAINING.validation_split,
                                _fraction(MAX_VALIDATION_SPLIT)),
    "train_size": Setting(DEFAULT_TRAINING.train_size or ALL_IMAGES, _train_size),
    "drawing_examples": Setting(DEFAULT_TRAINING.drawing_examples, _nearest(DRAWING_EXAMPLES)),
    "architecture": Setting(DEFAULT_MODEL.architecture, _one_of(ARCHITECTURES)),
    "hidden_layers": Setting(len(DEFAULT_MODEL.hidden_units),
                             _whole_number(0, MAX_HIDDEN_LAYERS)),
    "units": Setting(DEFAULT_MODEL.hidden_units[0], _nearest(UNIT_CHOICES)),
    "dropout": Setting(DEFAULT_MODEL.dropout, _fraction(MAX_DROPOUT)),
    "cnn_dropout": Setting(CNN_DROPOUT, _fraction(MAX_CNN_DROPOUT)),
    "activation": Setting(DEFAULT_MODEL.activation, _one_of(ACTIVATIONS)),
    "augment": Setting(DEFAULT_MODEL.augment, _yes_no),
    "optimizer": Setting(DEFAULT_MODEL.optimizer, _one_of(OPTIMIZERS)),
    "learning_rate": Setting(DEFAULT_MODEL.learning_rate, _nearest(LEARNING_RATES)),
    "lr_schedule": Setting(DEFAULT_TRAINING.lr_schedule, _one_of(LR_SCHEDULES)),
}
DEFAULTS = {key: setting.default for key, setting in SETTINGS.items()}

# The cheapest setup that reads ≥ 98% of the benchmark's drawings (bench/reader_frontier.py,
# docs/recognition.md): the deeper convnet with augmentation and drawing-style examples,
# Adam with its learning rate cosine-decayed over 6 epochs.
DRAWINGS_SETUP = {"architecture": "deep_cnn", "cnn_dropout": 0.5, "augment": True,
                  "optimizer": "adam", "learning_rate": 0.001, "lr_schedule": "cosine",
                  "epochs": 6, "drawing_examples": 15_000}
# What the Draw page tells a visitor about it: the measured results are reader_frontier's
# and drawn_digits' (docs/recognition.md), to be updated with them.
DRAWINGS_SETUP_TEXT = (
    "Sets the sidebar to the deeper CNN with data augmentation and "
    f"{DRAWINGS_SETUP['drawing_examples']:,} drawing-style examples, Adam with its learning "
    f"rate cosine-decayed, {DRAWINGS_SETUP['epochs']} epochs: trained on all "
    "60,000 digits, it read 98.3% of 1,000 simulated drawings, the classic dense network "
    "93.9%. It trains in about 8 minutes on 2 CPU cores; start it on the Train page."
)


def configs(values: Mapping[str, Any]) -> tuple[ModelConfig, TrainConfig]:
    """The network and the training that sidebar values describe; missing ones: defaults.

    The dense network takes the hidden layers, units and dropout; the convnets take
    their own dropout (`cnn_dropout`) and ignore the dense settings.
    """
    setup = {**DEFAULTS, **values}
    dense = setup["architecture"] == "dense"
    model_config = ModelConfig(
        architecture=setup["architecture"],
        hidden_units=(setup["units"],) * setup["hidden_layers"] if dense else (),
        activation=setup["activation"],
        dropout=setup["dropout"] if dense else setup["cnn_dropout"],
        augment=setup["augment"], optimizer=setup["optimizer"],
        learning_rate=setup["learning_rate"],
    )
    train_config = TrainConfig(
        epochs=int(setup["epochs"]), batch_size=setup["batch_size"],
        validation_split=setup["validation_split"],
        train_size=None if setup["train_size"] == ALL_IMAGES else setup["train_size"],
        lr_schedule=setup["lr_schedule"], drawing_examples=int(setup["drawing_examples"]),
    )
    return model_config, train_config


def setup_from_link(query: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The settings a link carries, and a message for each value that was changed or ignored.

    Parameters that are not settings (such as `run`) are left alone.
    """
    values, messages = {}, []
    for key, setting in SETTINGS.items():
        if key not in query:
            continue
        value, problem = setting.parse(str(query[key]).strip())
        if value is not None:
            values[key] = value
        if problem:
            outcome = "ignored" if value is None else f"using {_text(value)}"
            messages.append(f"{key}: {problem}; {outcome}.")
    return values, messages


def link_parameters(values: Mapping[str, Any]) -> dict[str, str]:
    """The link's parameters for a setup: only the values that differ from the defaults."""
    return {key: _text(value) for key, value in values.items()
            if key in SETTINGS and value != SETTINGS[key].default}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
