"""mnist_core.model: the classic network, other configurations, validation, summaries, loading."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from mnist_core.config import ModelConfig
from mnist_core.model import (
    ModelFileError,
    build_model,
    load_model,
    summary_rows,
    summary_text,
)

CLASSIC_PARAMS = 407_050  # the number the classic Keras MNIST tutorial prints


def dense_params(n_in: int, n_out: int) -> int:
    """A Dense layer has a weight per input–output pair and a bias per output."""
    return n_in * n_out + n_out


def expected_params(hidden_units: tuple[int, ...]) -> int:
    sizes = (784, *hidden_units, 10)
    return sum(dense_params(a, b) for a, b in zip(sizes, sizes[1:]))


def _compiled_metric_names(model: keras.Model) -> set[str]:
    """The metric names Keras reports, found by evaluating one tiny batch."""
    x = np.zeros((4, 784), np.float32)
    y = keras.utils.to_categorical(np.arange(4), 10)
    return set(model.evaluate(x, y, verbose=0, return_dict=True))


# --- The classic model ----------------------------------------------------------------


def test_default_model_is_the_classic_network():
    """Input(784) → Dense(512, relu) → Dense(10, softmax): what the tutorial builds."""
    model = build_model(ModelConfig())

    assert model.input_shape == (None, 784)
    assert model.output_shape == (None, 10)
    assert [type(layer) for layer in model.layers] == [keras.layers.Dense, keras.layers.Dense]
    hidden, output = model.layers
    assert hidden.units == 512 and hidden.activation is keras.activations.relu
    assert output.units == 10 and output.activation is keras.activations.softmax
    assert hidden.count_params() == dense_params(784, 512) == 401_920
    assert output.count_params() == dense_params(512, 10) == 5_130
    assert model.count_params() == CLASSIC_PARAMS


def test_default_model_compiles_like_the_tutorial():
    """rmsprop, categorical cross-entropy and an accuracy metric."""
    model = build_model()

    assert isinstance(model.optimizer, keras.optimizers.RMSprop)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.001)
    assert model.loss == "categorical_crossentropy"
    assert _compiled_metric_names(model) == {"loss", "accuracy"}


@pytest.mark.parametrize(
    "config, optimizer_class",
    [
        pytest.param(
            ModelConfig(hidden_units=(256, 128), optimizer="adam", learning_rate=0.01),
            keras.optimizers.Adam,
            id="two-layers-adam",
        ),
        pytest.param(
            ModelConfig(
                hidden_units=(300, 100),
                dropout=0.25,
                optimizer="sgd",
                learning_rate=0.05,
                activation="tanh",
            ),
            keras.optimizers.SGD,
            id="two-layers-dropout-sgd-tanh",
        ),
        pytest.param(
            ModelConfig(hidden_units=(64,), dropout=0.5, learning_rate=0.0005),
            keras.optimizers.RMSprop,
            id="small-dropout-rmsprop",
        ),
        pytest.param(
            ModelConfig(hidden_units=(32, 32, 32, 32), activation="sigmoid"),
            keras.optimizers.RMSprop,
            id="four-layers-sigmoid",
        ),
    ],
)
def test_other_configurations(config, optimizer_class):
    """Every sidebar choice changes the network exactly as asked, and nothing else."""
    model = build_model(config)

    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    dropouts = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert [layer.units for layer in dense] == [*config.hidden_units, 10]
    assert all(layer.activation is keras.activations.get(config.activation) for layer in dense[:-1])
    assert dense[-1].activation is keras.activations.softmax
    if config.dropout:
        assert len(dropouts) == len(config.hidden_units)
        assert all(layer.rate == pytest.approx(config.dropout) for layer in dropouts)
    else:
        assert dropouts == []
    assert model.count_params() == expected_params(config.hidden_units)
    assert isinstance(model.optimizer, optimizer_class)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(config.learning_rate)
    assert model.loss == "categorical_crossentropy"


@pytest.mark.parametrize(
    "kwargs, words",
    [
        pytest.param({"hidden_units": (0,)}, "units", id="zero-units"),
        pytest.param({"hidden_units": (10**6,)}, "units", id="million-units"),
        pytest.param({"hidden_units": (512, -3)}, "units", id="negative-units"),
        pytest.param({"hidden_units": (16,) * 5}, "hidden layers", id="five-layers"),
        pytest.param({"optimizer": "adagrad"}, "optimizer", id="unknown-optimizer"),
        pytest.param({"activation": "softplus"}, "activation", id="unknown-activation"),
        pytest.param({"learning_rate": 0.0}, "learning rate", id="zero-lr"),
        pytest.param({"learning_rate": -0.01}, "learning rate", id="negative-lr"),
        pytest.param({"learning_rate": math.nan}, "learning rate", id="nan-lr"),
        pytest.param({"learning_rate": 1e6}, "learning rate", id="huge-lr"),
        pytest.param({"dropout": 1.0}, "dropout", id="dropout-1"),
        pytest.param({"dropout": -0.1}, "dropout", id="negative-dropout"),
    ],
)
def test_absurd_configurations_are_refused(kwargs, words):
    """Values no one can train are refused up front, with a message saying which."""
    with pytest.raises(ValueError, match=words):
        ModelConfig(**kwargs)


def test_all_problems_are_reported_together():
    """A learner who got two things wrong hears about both at once."""
    with pytest.raises(ValueError) as error:
        ModelConfig(optimizer="adagrad", dropout=1.0)
    assert "optimizer" in str(error.value) and "dropout" in str(error.value)


# --- Summaries ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [ModelConfig(), ModelConfig(hidden_units=(128, 64), dropout=0.2)],
    ids=["classic", "dropout"],
)
def test_summary_rows_match_the_model(config):
    """The summary table is the model: one row per layer, totals from Keras itself."""
    model = build_model(config)
    summary = summary_rows(model)

    assert [row["Layer"] for row in summary.rows] == [layer.name for layer in model.layers]
    assert [row["Type"] for row in summary.rows] == [type(layer).__name__ for layer in model.layers]
    assert [row["Parameters"] for row in summary.rows] == [
        layer.count_params() for layer in model.layers
    ]
    assert [row["Output shape"] for row in summary.rows] == [
        f"(batch, {layer.output.shape[-1]})" for layer in model.layers
    ]
    assert summary.total_params == model.count_params() == expected_params(config.hidden_units)
    assert sum(row["Parameters"] for row in summary.rows) == summary.total_params
    assert summary.trainable_params == summary.total_params
    assert summary.non_trainable_params == 0


def test_summary_counts_frozen_weights_as_non_trainable():
    """Non-trainable parameters are reported separately, as model.summary() does."""
    model = build_model()
    model.layers[0].trainable = False
    summary = summary_rows(model)
    assert summary.total_params == CLASSIC_PARAMS
    assert summary.trainable_params == dense_params(512, 10)
    assert summary.non_trainable_params == dense_params(784, 512)


def test_summary_text_shows_layers_and_totals():
    """The terminal table carries each layer and the tutorial's familiar totals."""
    model = build_model()
    text = summary_text(summary_rows(model))
    assert f"Total params: {CLASSIC_PARAMS:,}" in text
    assert f"Trainable params: {CLASSIC_PARAMS:,}" in text
    assert "Non-trainable params: 0" in text
    for layer in model.layers:
        line = next(line for line in text.splitlines() if line.startswith(layer.name + " "))
        assert line.rstrip().endswith(f"{layer.count_params():,}")


# --- Loading saved models -------------------------------------------------------------


def test_load_model_round_trips_a_saved_model(tmp_path, mnist):
    """A saved model loads back with the same weights: the same predictions."""
    model = build_model()
    path = tmp_path / "classic.keras"
    model.save(path)
    loaded = load_model(str(path))

    x = mnist.x_test[:32].reshape(32, -1).astype(np.float32) / 255
    expected = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), expected, atol=1e-6)
    other = keras.ops.convert_to_numpy(build_model()(x))
    assert not np.allclose(other, expected, atol=1e-3), "fresh weights should differ"
    assert loaded.count_params() == CLASSIC_PARAMS


@pytest.mark.parametrize(
    "content",
    [b"not a keras model at all\n", b""],
    ids=["text", "empty"],
)
def test_load_model_refuses_a_non_model_file(tmp_path, content):
    """A random file must become ModelFileError naming it, not a Keras traceback."""
    path = tmp_path / "model.keras"
    path.write_bytes(content)
    with pytest.raises(ModelFileError) as error:
        load_model(str(path))
    assert str(error.value) == f"{path} is not a Keras model file (a .keras file saved by Keras 3)."


def test_load_model_refuses_a_missing_file(tmp_path):
    path = tmp_path / "missing.keras"
    with pytest.raises(ModelFileError) as error:
        load_model(str(path))
    assert str(error.value) == f"{path} does not exist."


def test_load_model_refuses_wrong_output_shape(tmp_path):
    """A model with 5 outputs cannot say which of 10 digits it sees."""
    model = keras.Sequential(
        [keras.Input(shape=(784,)), keras.layers.Dense(5, activation="softmax")]
    )
    path = tmp_path / "five.keras"
    model.save(path)
    with pytest.raises(ModelFileError, match="output"):
        load_model(str(path))


def test_load_model_refuses_wrong_input_shape(tmp_path):
    """A model for 32×32 images cannot read 28×28 digits."""
    model = keras.Sequential(
        [keras.Input(shape=(32 * 32,)), keras.layers.Dense(10, activation="softmax")]
    )
    path = tmp_path / "cifar-ish.keras"
    model.save(path)
    with pytest.raises(ModelFileError, match="inputs"):
        load_model(str(path))


def test_load_model_refuses_code_in_a_model_file(tmp_path):
    """Safe mode: a Lambda layer (arbitrary Python) is not deserialized."""
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Lambda(lambda t: t * 2.0),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ModelFileError) as error:
        load_model(str(path))
    assert str(error.value).startswith(f"{path} contains Python code (a Lambda layer)")
