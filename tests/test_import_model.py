"""Uploading a model: a good one becomes a run that reads like the original; bad ones are refused."""

from __future__ import annotations

import io
import zipfile

import keras
import numpy as np
import pytest

from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.model import ModelFileError, build_model, config_of, load_model
from mnist_core.predict import predict_proba
from mnist_core.runs.records import JobStatus
from mnist_core.runs.train import TrainingJob


@pytest.fixture(scope="module")
def trained(mnist, tmp_path_factory):
    """A small trained run and its exported .keras file."""
    job = TrainingJob(mnist, ModelConfig(hidden_units=(64,)),
                      TrainConfig(epochs=1, train_size=2_000))
    job.run()
    path = tmp_path_factory.mktemp("export") / "model.keras"
    job.model.save(path)
    return job, path


def test_an_exported_model_imports_with_identical_predictions(mnist, trained):
    job, path = trained
    imported = TrainingJob.imported(mnist, load_model(str(path)), "model.keras")
    assert imported.model_config.hidden_units == (64,)
    progress = imported.progress()
    assert progress.status == JobStatus.FINISHED and progress.elapsed_seconds == 0.0
    assert progress.test_accuracy == pytest.approx(job.progress().test_accuracy, abs=1e-6)
    x = mnist.x_test[:200].astype(np.float32) / 255
    np.testing.assert_array_equal(predict_proba(imported.model, x), predict_proba(job.model, x))
    snapshot = imported.latest_snapshot()
    # The Draw page reads a dense network in numpy: the same softmax up to float rounding.
    np.testing.assert_allclose(
        imported.predictor.softmax(snapshot, x), predict_proba(job.model, x), atol=1e-6)


@pytest.mark.parametrize("config", [
    ModelConfig(),
    ModelConfig(hidden_units=(256, 128), activation="tanh", dropout=0.2, optimizer="adam",
                learning_rate=0.003),
    ModelConfig(hidden_units=()),
    ModelConfig(augment=True),
    ModelConfig(architecture="cnn", dropout=0.5),
    ModelConfig(architecture="cnn", conv_filters=(16, 32, 64), augment=True, activation="tanh"),
    ModelConfig(architecture="deep_cnn", dropout=0.5, augment=True, optimizer="adam"),
    ModelConfig(architecture="deep_cnn", conv_filters=(8, 16, 32), activation="tanh"),
], ids=["classic", "deep-tanh-adam", "no-hidden", "dense-augment", "cnn", "cnn-3-augment",
        "deeper-cnn-augment", "deeper-cnn-3-no-dropout"])
def test_the_app_recognises_every_network_it_builds(config):
    assert config_of(build_model(config)) == config


def test_a_keras_example_convnet_without_the_apps_reshape_is_accepted():
    """The Keras example's convnet takes 28×28×1 images: same weights, so usable."""
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(32, kernel_size=3, activation="relu"),
        keras.layers.MaxPooling2D(pool_size=2),
        keras.layers.Conv2D(64, kernel_size=3, activation="relu"),
        keras.layers.MaxPooling2D(pool_size=2),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax"),
    ])
    assert config_of(model) == ModelConfig(architecture="cnn", dropout=0.5)


def save(model: keras.Model, tmp_path, name="model.keras") -> str:
    path = tmp_path / name
    model.save(path)
    return str(path)


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "noise.keras"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ModelFileError, match="is not a Keras model file"):
        load_model(str(path))


def test_a_zip_with_the_wrong_contents_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config.json", '{"class_name": "Nothing"}')
        archive.writestr("notes.txt", "not a model")
    path = tmp_path / "fake.keras"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ModelFileError, match="made with a layer this app does not know: Nothing"):
        load_model(str(path))


def test_a_model_with_a_lambda_layer_is_refused_by_safe_mode(tmp_path):
    model = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Lambda(lambda x: x * 2),
        keras.layers.Dense(10, activation="softmax"),
    ])
    with pytest.raises(ModelFileError, match=r"contains Python code \(a Lambda layer\)"):
        load_model(save(model, tmp_path))


@pytest.mark.parametrize("inputs, outputs, words", [
    ((32, 32, 3), 10, "expects inputs of shape"),
    ((784,), 5, "not 10 digit classes"),
])
def test_wrong_shapes_are_refused(tmp_path, inputs, outputs, words):
    model = keras.Sequential([keras.Input(shape=inputs), keras.layers.Flatten(),
                              keras.layers.Dense(outputs, activation="softmax")])
    with pytest.raises(ModelFileError, match=words):
        load_model(save(model, tmp_path))


def test_a_network_the_app_cannot_build_is_refused_with_a_reason(mnist, tmp_path):
    model = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    with pytest.raises(ModelFileError, match="not the app's dense network or one of its convnets"):
        TrainingJob.imported(mnist, load_model(save(model, tmp_path)), "bn.keras")


def _deeper_cnn(block_dropout: float, batch_norm: bool = True) -> keras.Model:
    """The deeper CNN written by hand, as a learner would copy it from the app's code."""
    layers = [keras.Input(shape=(28, 28, 1))]
    for filters in (32, 64):
        for _ in range(2):
            layers.append(keras.layers.Conv2D(filters, 3, padding="same", activation="relu"))
            if batch_norm:
                layers.append(keras.layers.BatchNormalization())
        layers += [keras.layers.MaxPooling2D(2), keras.layers.Dropout(block_dropout)]
    layers += [keras.layers.Flatten(), keras.layers.Dense(256, activation="relu"),
               keras.layers.Dropout(0.5), keras.layers.Dense(10, activation="softmax")]
    return keras.Sequential(layers)


def test_a_hand_written_deeper_cnn_is_recognised():
    config = config_of(_deeper_cnn(block_dropout=0.25))
    assert (config.architecture, config.conv_filters, config.dropout) == ("deep_cnn", (32, 64), 0.5)


@pytest.mark.parametrize("model, words", [
    (_deeper_cnn(block_dropout=0.4), "not the app's dense network or one of its convnets"),
    # Without batch normalisation its four convolutions read as four simple blocks.
    (_deeper_cnn(block_dropout=0.25, batch_norm=False), "1–3 convolution blocks"),
], ids=["other-block-dropout", "no-batch-norm"])
def test_a_deeper_cnn_the_app_does_not_build_is_refused(model, words):
    with pytest.raises(ModelFileError, match=words):
        config_of(model)


def test_the_runs_page_imports_a_model_and_refuses_a_bad_one(trained, tmp_path):
    from apptest_helpers import app_at

    _, path = trained
    at = app_at("runs")
    at.file_uploader(key="runs_import").upload("noise.keras", b"\x00" * 100,
                                               "application/octet-stream").run()
    assert not at.exception
    assert any(e.value.startswith("**Not imported.** noise.keras is not a Keras model file")
               for e in at.error)
    assert "model_run_id" not in at.session_state  # nothing changed

    at.file_uploader(key="runs_import").upload("mine.keras", path.read_bytes(),
                                               "application/octet-stream").run()
    assert not at.exception
    run_id = at.session_state["model_run_id"]
    assert any(f"as run `{run_id}`" in s.value for s in at.success)
    from ui.server import runs

    assert runs().store.load(run_id).name == "imported from mine.keras"
    at.switch_page("pages/draw.py").run()
    assert not at.exception
    assert any("imported from mine.keras" in c.value for c in at.caption)
