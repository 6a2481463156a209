"""mnist_core.figures: the Plotly figures show the data they are given."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from mnist_core.figures import (
    TITLE_BAND,
    digit_grid_figure,
    history_figure,
    softmax_figure,
    tile_origin,
    vector_strip_figure,
)
from mnist_core.train import EpochRecord


def record(epoch: int, loss: float, accuracy: float, val: bool = True) -> EpochRecord:
    return EpochRecord(
        epoch=epoch,
        loss=loss,
        accuracy=accuracy,
        val_loss=loss * 1.1 if val else None,
        val_accuracy=accuracy - 0.01 if val else None,
        seconds=1.5,
        samples_per_second=36_000.0,
    )


HISTORY = [record(1, 0.40, 0.88), record(2, 0.20, 0.94), record(3, 0.15, 0.96)]


@pytest.mark.parametrize("metric", ["loss", "accuracy"])
def test_history_figure_shows_train_and_validation(metric):
    """Three of five epochs done: both curves carry the epoch values; the axis shows all five."""
    fig = history_figure(HISTORY, metric, epochs=5)
    traces = {trace.name: trace for trace in fig.data}
    assert set(traces) == {"train", "validation"}
    assert list(traces["train"].x) == [1, 2, 3]
    assert list(traces["train"].y) == [getattr(r, metric) for r in HISTORY]
    assert list(traces["validation"].x) == [1, 2, 3]
    assert list(traces["validation"].y) == [getattr(r, f"val_{metric}") for r in HISTORY]
    low, high = fig.layout.xaxis.range
    assert low < 1 and high > 5, "the x axis must already span every planned epoch"
    assert high - low < 6, "...and not much more"


def test_history_figure_without_validation_has_one_curve():
    """validation_split 0: there is nothing to plot for validation."""
    fig = history_figure([record(1, 0.4, 0.9, val=False)], "loss", epochs=2)
    assert [trace.name for trace in fig.data] == ["train"]


def test_history_figure_before_the_first_epoch():
    """An empty history (training just started) still draws the axes for all epochs."""
    fig = history_figure([], "accuracy", epochs=3)
    low, high = fig.layout.xaxis.range
    assert low < 1 and high > 3
    assert all(len(trace.x) == 0 for trace in fig.data)


def test_softmax_figure_highlights_the_most_probable_digit():
    """Ten bars in digit order, the argmax in its own colour."""
    rng = np.random.default_rng(3)
    p = rng.random(10)
    p[6] = 5.0
    p /= p.sum()
    fig = softmax_figure(p)
    (bar,) = fig.data
    assert list(bar.x) == [str(d) for d in range(10)]
    np.testing.assert_allclose(bar.y, p)
    colours = list(bar.marker.color)
    assert len(colours) == 10
    assert colours.count(colours[6]) == 1, "only the top digit is highlighted"
    assert len(set(colours[:6] + colours[7:])) == 1, "all other bars look the same"


def _decode(source: str) -> np.ndarray:
    return np.asarray(
        Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))).convert("L")
    )


def test_digit_grid_titles_each_digit_with_its_own_label(mnist):
    """Each title sits over the image it names: the mosaic's tile under it is that image."""
    images, labels = mnist.x_test[:10], [int(y) for y in mnist.y_test[:10]]
    fig = digit_grid_figure(images, labels, columns=4)
    (trace,) = fig.data
    mosaic = _decode(trace.source)
    annotations = list(fig.layout.annotations)
    assert [a.text for a in annotations] == [f"label {label}" for label in labels]
    for position, annotation in enumerate(annotations):
        top, left = tile_origin(position, 4)
        np.testing.assert_array_equal(mosaic[top:top + 28, left:left + 28], images[position])
        assert left <= annotation.x <= left + 28 and top - TITLE_BAND <= annotation.y <= top


def test_digit_grid_takes_float_images_in_0_1():
    """The user's drawings are floats in [0, 1]: shown at full contrast, not as black."""
    images = np.zeros((2, 28, 28), np.float32)
    images[1, 10:18, 10:18] = 1.0
    mosaic = _decode(digit_grid_figure(images, [0, 1], columns=2).data[0].source)
    top, left = tile_origin(1, 2)
    assert mosaic[top + 10:top + 18, left + 10:left + 18].min() == 255


def test_vector_strip_is_one_row_of_784():
    """What the Dense layer receives: one 1×784 strip with the pixels in order."""
    vector = np.linspace(0, 1, 784)
    fig = vector_strip_figure(vector, "input")
    (heatmap,) = fig.data
    z = np.asarray(heatmap.z)
    assert z.shape == (1, 784)
    np.testing.assert_allclose(z[0], vector)


def test_softmax_figure_without_a_drawing_has_ten_empty_bars():
    """Before the first stroke: the axes in place, every bar at zero, none highlighted."""
    (bar,) = softmax_figure(None).data
    assert list(bar.x) == [str(d) for d in range(10)]
    assert list(bar.y) == [0.0] * 10
    assert len(set(bar.marker.color)) == 1
    assert bar.text is None
