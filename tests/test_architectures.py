"""The other networks: Keras' simple MNIST convnet, the deeper batch-normalised convnet and
data augmentation, built, summarised, refused when absurd, and each briefly trained.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.model import build_model, summary_rows

CNN = ModelConfig(architecture="cnn", dropout=0.5)
DEEP_CNN = ModelConfig(architecture="deep_cnn", dropout=0.5)
AUGMENTATION = {
    "random_shift": keras.layers.RandomTranslation,
    "random_rotation": keras.layers.RandomRotation,
    "random_zoom": keras.layers.RandomZoom,
}


def layer_types(model: keras.Model) -> list[type]:
    return [type(layer) for layer in model.layers]


# --- The convnet ------------------------------------------------------------------------


def test_cnn_is_keras_simple_mnist_convnet():
    """conv 32 (320) + conv 64 (18,496) + softmax on 5×5×64 (16,010) = 34,826 parameters."""
    model = build_model(CNN)
    assert model.count_params() == 34_826
    types = layer_types(model)
    assert types.count(keras.layers.Conv2D) == 2
    assert types.count(keras.layers.MaxPooling2D) == 2
    assert keras.layers.Dropout in types
    assert keras.layers.Dense in types
    assert model.input_shape == (None, 784)
    assert model.output_shape == (None, 10)
    conv = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [layer.filters for layer in conv] == [32, 64]
    assert [layer.kernel_size for layer in conv] == [(3, 3), (3, 3)]
    assert model.get_layer("dropout").rate == 0.5


def test_cnn_filters_follow_the_config():
    model = build_model(ModelConfig(architecture="cnn", conv_filters=(8,)))
    # conv 8 (80), 26→13: 13×13×8 = 1,352 → softmax (13,530)
    assert model.count_params() == 80 + 13 * 13 * 8 * 10 + 10


# --- The deeper convnet ------------------------------------------------------------------


def test_deeper_cnn_is_two_batch_normalised_conv_pairs_and_a_dense_head():
    """Per block: two 3×3 "same" convolutions, each with batch normalisation, 2×2 pooling
    and half the dropout; then Dense(256) with the full dropout and the softmax.
    320 + 9,248 + 18,496 + 36,928 (convs) + 4 × (32 or 64) × 4 (norms: 768)
    + 7×7×64 × 256 + 256 (803,072) + 2,570 = 871,402 parameters, 384 of them the
    normalisations' running statistics."""
    model = build_model(DEEP_CNN)
    assert model.count_params() == 871_402
    assert model.input_shape == (None, 784) and model.output_shape == (None, 10)
    conv = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [layer.filters for layer in conv] == [32, 32, 64, 64]
    assert {(layer.kernel_size, layer.padding) for layer in conv} == {((3, 3), "same")}
    norms = [layer for layer in model.layers
             if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 4 and {layer.momentum for layer in norms} == {0.9}
    for conv_layer, norm in zip(conv, norms):  # each convolution is normalised at once
        assert model.layers.index(norm) == model.layers.index(conv_layer) + 1
    assert model.get_layer("pool_1").output.shape[1:] == (14, 14, 32)
    assert model.get_layer("pool_2").output.shape[1:] == (7, 7, 64)
    assert [model.get_layer(name).rate for name in ("dropout_1", "dropout_2", "dropout")] == [
        0.25, 0.25, 0.5]
    assert model.get_layer("hidden_1").units == 256
    summary = summary_rows(model)
    assert summary.non_trainable_params == 2 * (32 + 32 + 64 + 64)


def test_deeper_cnn_without_dropout_has_no_dropout_layers():
    model = build_model(ModelConfig(architecture="deep_cnn", conv_filters=(8, 16, 32)))
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)
    # Three poolings: 28 → 14 → 7 → 3, so 3×3×32 = 288 inputs to the dense head.
    assert model.get_layer("hidden_1").kernel.shape == (288, 256)


@pytest.mark.parametrize("config", [CNN, DEEP_CNN, ModelConfig(),
                                    ModelConfig(hidden_units=(32, 16))],
                         ids=["cnn", "deeper-cnn", "dense", "dense-2-layers"])
def test_augment_adds_the_random_layers_without_parameters(config):
    plain = build_model(config)
    augmented = build_model(ModelConfig(**{**config.to_dict(), "augment": True}))
    assert augmented.count_params() == plain.count_params()
    for name, layer_type in AUGMENTATION.items():
        layer = augmented.get_layer(name)
        assert isinstance(layer, layer_type)
        assert layer.fill_mode == "constant"
    assert augmented.input_shape == (None, 784)
    assert augmented.output_shape == (None, 10)
    assert not any(isinstance(layer, tuple(AUGMENTATION.values())) for layer in plain.layers)


@pytest.fixture(scope="module")
def batch(mnist) -> np.ndarray:
    return mnist.x_test[:16].reshape(16, 784).astype(np.float32) / 255


@pytest.mark.parametrize("architecture", ["dense", "cnn"])
def test_augmentation_changes_the_input_in_training_only(batch, architecture):
    model = build_model(ModelConfig(architecture=architecture, augment=True))
    images = keras.ops.convert_to_tensor(batch.reshape(16, 28, 28, 1))
    augmentation = keras.Sequential([model.get_layer(name) for name in AUGMENTATION])

    inference = keras.ops.convert_to_numpy(augmentation(images, training=False))
    np.testing.assert_allclose(inference, batch.reshape(16, 28, 28, 1), atol=1e-6)

    first = keras.ops.convert_to_numpy(augmentation(images, training=True))
    second = keras.ops.convert_to_numpy(augmentation(images, training=True))
    assert first.shape == (16, 28, 28, 1)
    assert np.abs(first - inference).max() > 0.1
    assert not np.allclose(first, second), "each training pass draws new random changes"
    # Constant fill: nothing is mirrored into the border, the images stay in [0, 1].
    assert first.min() >= -1e-5 and first.max() <= 1 + 1e-5


@pytest.mark.parametrize("architecture", ["dense", "cnn", "deep_cnn"])
def test_predictions_of_an_augmented_model_are_deterministic(batch, architecture):
    model = build_model(ModelConfig(architecture=architecture, augment=True))
    once = keras.ops.convert_to_numpy(model(batch, training=False))
    again = keras.ops.convert_to_numpy(model(batch, training=False))
    np.testing.assert_array_equal(once, again)
    trained_mode = keras.ops.convert_to_numpy(model(batch, training=True))
    assert not np.allclose(once, trained_mode, atol=1e-6)


# --- Refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"architecture": "rnn"}, "architecture must be one of dense, cnn, deep_cnn"),
        ({"architecture": "deep_cnn", "conv_filters": (8, 8, 8, 8)}, "convolution blocks"),
        ({"architecture": ""}, "architecture"),
        ({"architecture": "cnn", "conv_filters": ()}, "convolution blocks"),
        ({"architecture": "cnn", "conv_filters": (0,)}, "convolution blocks"),
        ({"architecture": "cnn", "conv_filters": (1000,)}, "convolution blocks"),
        ({"architecture": "cnn", "conv_filters": (32, -4)}, "convolution blocks"),
        ({"architecture": "cnn", "conv_filters": (8, 8, 8, 8)}, "convolution blocks"),
        ({"conv_filters": ()}, "convolution blocks"),  # checked even for the dense network
    ],
)
def test_absurd_architectures_are_refused(kwargs, words):
    with pytest.raises(ValueError, match=words):
        ModelConfig(**kwargs)


@pytest.mark.parametrize("filters", [(1,), (256,), (16, 32, 64)])
def test_the_filter_limits_are_accepted(filters):
    model = build_model(ModelConfig(architecture="cnn", conv_filters=filters))
    assert model.output_shape == (None, 10)


def test_conv_filters_given_as_a_list_become_a_tuple():
    config = ModelConfig(architecture="cnn", conv_filters=[16, 32])
    assert config.conv_filters == (16, 32)
    hash(config)  # still usable as a cache key


# --- Brief trainings ----------------------------------------------------------------------

CONFIGS = {  # as the sidebar builds them by default
    "dense": ModelConfig(),
    "cnn": CNN,
    "dense+augment": ModelConfig(augment=True),
    "cnn+augment": ModelConfig(architecture="cnn", dropout=0.5, augment=True),
    "deep_cnn": DEEP_CNN,
}


@pytest.fixture(scope="module")
def small_data(mnist):
    from mnist_core.data import MnistData

    return MnistData(mnist.x_train[:1500], mnist.y_train[:1500], mnist.x_test[:500],
                     mnist.y_test[:500], source="first 1,500 / 500 images")


@pytest.mark.parametrize("name", list(CONFIGS))
def test_each_architecture_trains(small_data, name):
    from mnist_core.runs.records import JobStatus
    from mnist_core.runs.train import TrainingJob

    # No validation split: one traced function less per model, on a slow shared CPU.
    train_config = TrainConfig(epochs=1, batch_size=32, validation_split=0.0)
    job = TrainingJob(small_data, CONFIGS[name], train_config)
    job.run()
    progress = job.progress()
    assert progress.status == JobStatus.FINISHED, progress.error
    assert len(progress.history) == 1
    assert progress.batches_per_epoch == int(np.ceil(1500 / 32))
    record = progress.history[0]
    assert np.isfinite(record.loss) and 0.0 <= record.accuracy <= 1.0
    print(f"\n{name}: test accuracy {progress.test_accuracy:.3f}")
    assert progress.test_accuracy > 0.3
    assert len(job.snapshots()) == 1
    # The run's snapshot gives the same predictions as the trained model itself.
    x = small_data.x_test[:4].astype(np.float32) / 255
    np.testing.assert_allclose(
        job.predictor.softmax(job.latest_snapshot(), x),
        keras.ops.convert_to_numpy(job.model(x.reshape(4, 784), training=False)),
        atol=1e-5,
    )


@pytest.mark.parametrize("name", list(CONFIGS))
def test_summary_rows_for_each_architecture(name):
    model = build_model(CONFIGS[name])
    summary = summary_rows(model)
    assert [row["Layer"] for row in summary.rows] == [layer.name for layer in model.layers]
    assert sum(row["Parameters"] for row in summary.rows) == summary.total_params
    assert summary.total_params == model.count_params()
    # Only batch normalisation keeps weights that training does not fit: its running statistics.
    norm_statistics = sum(row["Parameters"] for row in summary.rows
                          if row["Type"] == "BatchNormalization") // 2
    assert summary.non_trainable_params == norm_statistics
    assert (norm_statistics > 0) == (name == "deep_cnn")
    assert summary.rows[-1]["Output shape"] == "(batch, 10)"
    types = {row["Type"] for row in summary.rows}
    if "cnn" in name:
        assert {"Conv2D", "MaxPooling2D", "Flatten"} <= types
    if name == "deep_cnn":
        assert {"BatchNormalization", "Dense"} <= types
    if "augment" in name:
        assert {"RandomTranslation", "RandomRotation", "RandomZoom"} <= types
        by_name = {row["Layer"]: row for row in summary.rows}
        assert by_name["random_shift"]["Output shape"] == "(batch, 28, 28, 1)"
        assert by_name["random_zoom"]["Parameters"] == 0


def test_summary_rows_of_the_default_cnn():
    summary = summary_rows(build_model(CNN))
    assert summary.total_params == 34_826
    parameters = {row["Layer"]: row["Parameters"] for row in summary.rows}
    assert parameters["conv_1"] == 320
    assert parameters["conv_2"] == 18_496
    assert parameters["output"] == 16_010
    shapes = {row["Layer"]: row["Output shape"] for row in summary.rows}
    assert shapes["as_image"] == "(batch, 28, 28, 1)"
    assert shapes["pool_2"] == "(batch, 5, 5, 64)"
    assert shapes["flatten"] == "(batch, 1600)"
