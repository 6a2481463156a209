"""The ready reader shipped in models/: it loads in safe mode, reads as its JSON says,
and reads the MNIST test set and the benchmark's drawings as well as the issue asks."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.data import prepare
from mnist_core.model import config_of
from mnist_core.model_file import ModelFileError
from mnist_core.predict import predict_proba
from mnist_core.reader import (
    READER_MODEL,
    READER_TRAINING,
    drawings_accuracy,
    load_reader,
    read_info,
    reader_path,
)

MNIST_TEST_TARGET, DRAWINGS_TARGET = 0.993, 0.985


@pytest.fixture(scope="module")
def reader():
    return load_reader()


@pytest.fixture(scope="module")
def info():
    return read_info()


def test_the_file_is_small_and_loads_in_safe_mode_as_the_deeper_cnn(reader):
    assert reader_path().stat().st_size < 5_000_000
    config = config_of(reader)
    assert (config.architecture, config.conv_filters, config.augment, config.dropout) == (
        READER_MODEL.architecture, READER_MODEL.conv_filters, READER_MODEL.augment,
        READER_MODEL.dropout)


def test_it_reads_the_mnist_test_set_as_its_json_says(reader, info, mnist):
    x_test, _ = prepare(mnist.x_test, mnist.y_test)
    accuracy = float(np.mean(predict_proba(reader, x_test).argmax(axis=1) == mnist.y_test))
    assert accuracy == pytest.approx(info.test_accuracy, abs=2e-4)
    assert accuracy >= MNIST_TEST_TARGET


def test_it_reads_the_benchmark_drawings_as_its_json_says(reader, info, mnist):
    accuracy = drawings_accuracy(reader, mnist)
    assert accuracy == pytest.approx(info.drawings_accuracy, abs=1e-9)
    assert accuracy >= DRAWINGS_TARGET


def test_its_json_says_how_it_was_made(info):
    made = info.made
    assert made["command"] == "python -m mnist_core reader"
    assert made["model"]["architecture"] == READER_MODEL.architecture
    assert made["training"]["drawing_examples"] == READER_TRAINING.drawing_examples
    assert made["training"]["epochs"] == READER_TRAINING.epochs
    assert {"python", "keras", "tensorflow", "numpy"} <= set(made["versions"])
    assert "MNIST" in made["data"] and made["date"][:2] == "20"


def test_a_damaged_reader_file_is_refused_in_words(tmp_path):
    (tmp_path / "reader.keras").write_bytes(b"not a zip file")
    with pytest.raises(ModelFileError, match="The ready reader"):
        load_reader(tmp_path)


def test_a_missing_json_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        read_info(tmp_path)
