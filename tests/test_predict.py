"""mnist_core.predict: shapes, probabilities, and the direct (fast) model call."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mnist_core.predict import predict_proba


@pytest.fixture
def digits(mnist):
    return mnist.x_test[:16].astype(np.float32) / 255, mnist.y_test[:16]


def test_one_image_gives_ten_probabilities(trained_model, digits):
    """A single 28×28 image (or its 784-vector) gives one softmax row of shape (10,)."""
    images, labels = digits
    for single in (images[0], images[0].reshape(784)):
        p = predict_proba(trained_model, single)
        assert p.shape == (10,)
        assert p.sum() == pytest.approx(1.0, abs=1e-5)
        assert (p >= 0).all()
        assert p.argmax() == labels[0]  # the trained model reads the first test digit (a 7)


@pytest.mark.parametrize("flat", [False, True], ids=["N×28×28", "N×784"])
def test_batch_gives_one_row_per_image(trained_model, digits, flat):
    """A batch gives (N, 10), each row a distribution, matching one-at-a-time calls."""
    images, labels = digits
    batch = images.reshape(len(images), 784) if flat else images
    p = predict_proba(trained_model, batch)
    assert p.shape == (len(images), 10)
    np.testing.assert_allclose(p.sum(axis=1), np.ones(len(images)), atol=1e-5)
    np.testing.assert_allclose(p[3], predict_proba(trained_model, images[3]), atol=1e-5)
    assert (p.argmax(axis=1) == labels).mean() >= 0.8


def test_batch_of_one_stays_a_batch(trained_model, digits):
    """(1, 28, 28) is a batch of one, so the caller gets (1, 10) back, not (10,)."""
    images, _ = digits
    assert predict_proba(trained_model, images[:1]).shape == (1, 10)


def test_does_not_use_model_predict(trained_model, digits, monkeypatch):
    """model.predict costs ~40 ms per call; the drawing page needs the direct call."""

    def slow_path(*args, **kwargs):
        raise AssertionError("predict_proba must not call model.predict")

    monkeypatch.setattr(trained_model, "predict", slow_path)
    images, _ = digits
    assert predict_proba(trained_model, images[0]).shape == (10,)
    assert predict_proba(trained_model, images).shape == (len(images), 10)


def test_model_with_image_shaped_input(digits):
    """A loaded model may take 28×28 inputs; flat vectors are reshaped to fit it."""
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    images, _ = digits
    from_images = predict_proba(model, images)
    from_vectors = predict_proba(model, images.reshape(len(images), 784))
    assert from_images.shape == (len(images), 10)
    np.testing.assert_allclose(from_vectors, from_images, atol=1e-6)
    np.testing.assert_allclose(
        predict_proba(model, images[0].reshape(784)), from_images[0], atol=1e-6
    )


def test_the_graph_call_matches_the_model_and_follows_new_weights(digits):
    """One traced function per model: it answers as `model(x)` does, for any batch size,
    and after `set_weights` it reads the new weights (the app swaps epochs' weights in)."""
    from mnist_core.config import ModelConfig
    from mnist_core.model import build_model
    from mnist_core.predict import graph_call

    images, _ = digits
    model, other = build_model(ModelConfig(hidden_units=(32,))), build_model(
        ModelConfig(hidden_units=(32,)))
    flat = images.reshape(len(images), 784)
    for batch in (flat[:1], flat[:8], flat):
        np.testing.assert_allclose(predict_proba(model, batch),
                                   np.asarray(model(batch, training=False)), atol=1e-6)
    assert graph_call(model) is graph_call(model)
    model.set_weights(other.get_weights())
    np.testing.assert_allclose(predict_proba(model, flat),
                               np.asarray(other(flat, training=False)), atol=1e-6)


@pytest.mark.parametrize("config", [
    {},  # the classic network
    {"hidden_units": (64, 32), "activation": "tanh", "dropout": 0.2},
    {"hidden_units": (16,), "activation": "sigmoid", "augment": True},
], ids=["classic", "two-hidden-tanh-dropout", "sigmoid-augmented"])
def test_dense_forward_answers_as_the_model_does(digits, config):
    """The numpy reading of a dense network is the network's own softmax."""
    from mnist_core.config import ModelConfig
    from mnist_core.model import build_model
    from mnist_core.predict import dense_forward

    model = build_model(ModelConfig(**config))
    flat = digits[0].reshape(-1, 784)
    forward = dense_forward(model)
    np.testing.assert_allclose(forward(flat), np.asarray(model(flat, training=False)),
                               atol=1e-5)


def test_dense_forward_declines_what_is_not_a_stack_of_dense_layers():
    from mnist_core.config import ModelConfig
    from mnist_core.model import build_model
    from mnist_core.predict import dense_forward

    assert dense_forward(build_model(ModelConfig(architecture="cnn", conv_filters=(4,)))) is None
    gelu = keras.Sequential([keras.Input((784,)), keras.layers.Dense(8, activation="gelu"),
                             keras.layers.Dense(10, activation="softmax")])
    assert dense_forward(gelu) is None
    on_rows = keras.Sequential([keras.Input((28, 28)), keras.layers.Dense(8),
                                keras.layers.Flatten(), keras.layers.Dense(10)])
    assert dense_forward(on_rows) is None


@pytest.mark.parametrize("architecture", ["dense", "cnn", "deep_cnn"])
def test_the_snapshot_predictor_follows_each_snapshot_in_either_path(
        digits, architecture, monkeypatch):
    """A dense network's snapshots are read in numpy, a CNN's through TensorFlow; both
    give the softmax of the network with that snapshot's weights, epoch after epoch."""
    import mnist_core.predict
    from mnist_core.config import ModelConfig
    from mnist_core.model import build_model
    from mnist_core.predict import SnapshotPredictor
    from mnist_core.runs.records import Snapshot

    if architecture == "dense":
        def no_tensorflow(model):
            raise AssertionError("a dense network is read in numpy")
        monkeypatch.setattr(mnist_core.predict, "graph_call", no_tensorflow)

    config = ModelConfig(architecture=architecture, hidden_units=(32,), conv_filters=(4,))
    images = digits[0]
    predictor = SnapshotPredictor(config)
    for epoch in (1, 2):
        network = build_model(config)  # fresh random weights: each epoch differs
        snapshot = Snapshot(epoch, tuple(network.get_weights()))
        expected = np.asarray(network(images.reshape(-1, 784), training=False))
        np.testing.assert_allclose(predictor.softmax(snapshot, images), expected, atol=1e-5)
        np.testing.assert_allclose(predictor.softmax(snapshot, images[0]), expected[0],
                                   atol=1e-5)


def test_many_networks_read_in_a_row_print_no_retracing_warning():
    """Each network's inference is traced once: six new ones in a row (the ready reader,
    a run, its snapshots…) are no loop retracing one function, and the server's
    terminal stays quiet about it."""
    import logging

    from mnist_core.config import ModelConfig
    from mnist_core.model import build_model

    class Kept(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    kept, logger = Kept(), logging.getLogger("tensorflow")
    logger.addHandler(kept)
    try:
        x = np.zeros((2, 28, 28), np.float32)
        for units in range(1, 8):
            predict_proba(build_model(ModelConfig(hidden_units=(units,))), x)
            logger.warning("a warning the app does not drop")
    finally:
        logger.removeHandler(kept)
    assert kept.messages.count("a warning the app does not drop") == 7
    assert not [message for message in kept.messages if "retracing" in message]
