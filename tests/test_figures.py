"""mnist_core.figures: the Plotly figures show the data they are given."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from mnist_core.figures.images import (
    TITLE_BAND,
    image_grid_figure,
    tile,
    tile_origin,
    vector_strip_figure,
)
from mnist_core.figures.softmax import softmax_figure
from mnist_core.figures.training import history_figure, history_range
from mnist_core.runs.records import BatchRecord, EpochRecord


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


# A run as Keras logs it: 5 epochs of 100 batches. The running mean within epoch 1 starts
# at a guess's (loss ln 10 = 2.3, accuracy 10%) and ends at the epoch's value.
BATCHES = 100
RUN = [record(1, 0.35, 0.90), record(2, 0.16, 0.953), record(3, 0.11, 0.967),
       record(4, 0.08, 0.976), record(5, 0.06, 0.982)]


def batches(epochs_done: int, batches_into_next: int) -> list[BatchRecord]:
    """The running values of `epochs_done` whole epochs and the next one's first batches."""
    records = []
    for epoch in range(1, min(epochs_done + 1, len(RUN)) + 1):
        count = BATCHES if epoch <= epochs_done else batches_into_next
        end = RUN[epoch - 1]
        start = (2.30, 0.10) if epoch == 1 else (end.loss * 1.3, end.accuracy - 0.02)
        for batch in range(1, count + 1):
            t = (batch / BATCHES) ** 0.3  # falls fast, then settles on the epoch's value
            records.append(BatchRecord(epoch, batch, start[0] + t * (end.loss - start[0]),
                                       start[1] + t * (end.accuracy - start[1])))
    return records


def ranges(history, batch_history, epochs=5):
    figures = {metric: history_figure(history, metric, epochs, batch_history, BATCHES)
               for metric in ("loss", "accuracy")}
    return {metric: list(fig.layout.yaxis.range) for metric, fig in figures.items()}


def test_an_empty_chart_has_fixed_readable_axes_and_says_it_waits():
    """Before the first batch: loss 0–2.5 (a guess costs ln 10 ≈ 2.3), accuracy 0–100%."""
    for metric, (low, high) in ((("loss", (0, 2.5))), ("accuracy", (0, 1))):
        fig = history_figure([], metric, epochs=5)
        assert fig.layout.yaxis.range[0] == low
        assert high <= fig.layout.yaxis.range[1] <= high * 1.05
        assert [a.text for a in fig.layout.annotations] == ["No batch trained yet"]
    assert "%" in history_figure([], "accuracy", epochs=5).layout.yaxis.tickformat


def test_the_first_batches_alone_set_the_range():
    """Epoch 1 under way: the running line is all there is, and all of it is shown."""
    first = batches(0, 20)
    shown = ranges([], first)
    assert shown["loss"][0] == 0 and shown["loss"][1] >= max(r.loss for r in first)
    assert shown["loss"][1] < 2.3 * 1.2
    assert shown["accuracy"][0] <= min(r.accuracy for r in first) and shown["accuracy"][1] >= 1
    fig = history_figure([], "loss", 5, first, BATCHES)
    assert not fig.layout.annotations


@pytest.mark.parametrize("done", [1, 3, 5])
def test_once_an_epoch_is_done_the_epoch_points_set_the_range(done):
    """Mid-run and finished: epoch 1's running start (2.3, 10%) no longer flattens the points.

    Every epoch value and the later epochs' batch line stay inside the range; the
    points fill most of it instead of lying flat near 0 (loss) or near 100% (accuracy).
    """
    history, batch_history = RUN[:done], batches(done, 40 if done < 5 else 0)
    shown = ranges(history, batch_history)
    later = [r for r in batch_history if r.epoch > 1]
    losses = [r.loss for r in history] + [r.val_loss for r in history] + [r.loss for r in later]
    low, high = shown["loss"]
    assert low == 0 and max(losses) < high <= max(losses) * 1.2
    accuracies = ([r.accuracy for r in history] + [r.val_accuracy for r in history]
                  + [r.accuracy for r in later])
    low, high = shown["accuracy"]
    assert low < min(accuracies) and 1 <= high < 1.01, "100% at the top, just above the points"
    assert min(accuracies) - low < 0.5 * (1 - min(accuracies)) + 0.01, "the margin stays small"
    assert low > 0.75, "training and validation are not squashed against each other"


def test_accuracy_of_100_percent_still_has_a_span():
    perfect = [EpochRecord(1, 0.01, 1.0, 0.01, 1.0, 1.0, 1.0)]
    low, high = history_range("accuracy", perfect)
    assert 0.97 <= low < 1 <= high


def test_the_epoch_axis_has_whole_epoch_ticks():
    for epochs, step in ((1, 1), (10, 1), (12, 2), (50, 5)):
        xaxis = history_figure(RUN, "loss", epochs=epochs).layout.xaxis
        assert (xaxis.tickmode, xaxis.tick0, xaxis.dtick) == ("linear", 0, step)
        assert len(range(0, epochs + 1, step)) <= 11


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


def test_an_image_grid_titles_each_image_over_it(mnist):
    """Each title sits over the image it names: the mosaic's tile under it is that image."""
    images, labels = mnist.x_test[:10], [f"#{i}: {int(y)}" for i, y in enumerate(mnist.y_test[:10])]
    fig = image_grid_figure(images, labels, columns=4)
    (trace,) = fig.data
    mosaic = _decode(trace.source)
    annotations = list(fig.layout.annotations)
    assert [a.text for a in annotations] == labels
    for position, annotation in enumerate(annotations):
        top, left = tile_origin(position, 4)
        np.testing.assert_array_equal(mosaic[top:top + 28, left:left + 28], images[position])
        assert left <= annotation.x <= left + 28 and top - TITLE_BAND <= annotation.y <= top


def test_an_image_grid_takes_float_images_in_0_1():
    """Mean images are floats in [0, 1]: shown at full contrast, not as black."""
    images = np.zeros((2, 28, 28), np.float32)
    images[1, 10:18, 10:18] = 1.0
    mosaic = _decode(image_grid_figure(images, ["0", "1"], columns=2).data[0].source)
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



def test_softmax_figure_is_what_plotly_validates_and_readings_never_leak_into_each_other():
    """Built from a checked template without checking each reading again: the same
    figure Plotly's full validation gives, and one reading leaves nothing in the next."""
    import json

    import plotly.graph_objects as go

    p = np.linspace(1, 10, 10) / 55
    for probabilities in (p, None, p[::-1]):
        fast = softmax_figure(probabilities)
        checked = go.Figure(fast.to_dict())  # validated in full: raises on a bad value
        assert json.loads(fast.to_json(validate=False)) == json.loads(checked.to_json())
    assert softmax_figure(None).data[0].text is None
    assert list(softmax_figure(p).data[0].marker.color).index("#d62728") == 9


def test_a_tall_drawing_becomes_a_square_tile_not_a_strip():
    """A drawn 1 cropped to its ink is 200×12: shown in a square, black on either side."""
    stroke = np.ones((200, 12), np.float32)
    square = tile(stroke, 120)
    assert square.shape == (120, 120) and square.dtype == np.uint8
    assert square[:, :50].max() == 0 and square[:, -50:].max() == 0  # black around it
    assert square[:, 58:62].min() > 200  # the stroke, in the middle


def test_a_crisp_tile_keeps_every_pixel_the_same_size():
    """The 28×28 input at 120 px: each pixel a 4×4 block (not 4 or 5 at random), the
    whole centred with a 4 px border."""
    rng = np.random.default_rng(0)
    x = rng.random((28, 28)).astype(np.float32)
    square = tile(x, 120, crisp=True)
    assert square.shape == (120, 120)
    inner = square[4:116, 4:116].reshape(28, 4, 28, 4)
    assert (inner == inner[:, :1, :, :1]).all()  # uniform 4×4 blocks
    np.testing.assert_array_equal(inner[:, 0, :, 0], np.round(x * 255).astype(np.uint8))
    assert square[:4].max() == 0 and square[:, :4].max() == 0


def test_the_batch_line_breaks_where_each_epoch_begins():
    """Keras restarts its running value with each epoch: joined up, the line drew a
    vertical stroke at every epoch boundary."""
    fig = history_figure(RUN[:2], "loss", 5, batches(2, 30), BATCHES)
    (line,) = [trace for trace in fig.data if trace.name == "train (running, per batch)"]
    gaps = [i for i, x in enumerate(line.x) if x is None]
    assert len(gaps) == 2  # before epoch 2 and before epoch 3
    for gap in gaps:
        assert line.y[gap] is None
        assert line.x[gap - 1] == round(line.x[gap - 1])  # an epoch's last batch…
        assert line.x[gap + 1] == line.x[gap - 1] + 1 / BATCHES  # …then the next's first
