"""The Data explorer's numbers, checked against numpy computed directly on real MNIST."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from mnist_core import explore
from mnist_core.data import NUM_CLASSES
from mnist_core.figures import data as data_figures
from mnist_core.figures import images as figures


@pytest.fixture(scope="module", params=["train", "test"])
def split(request, mnist):
    x, y = explore.images_and_labels(mnist, request.param)
    return request.param, x, y


def decoded(figure) -> np.ndarray:
    """The PNG that an image grid figure sends to the browser, as an array."""
    source = figure.data[0].source
    assert source.startswith("data:image/png;base64,")
    png = base64.b64decode(source.removeprefix("data:image/png;base64,"))
    return np.asarray(Image.open(io.BytesIO(png)))


def test_images_and_labels_pick_the_named_set(mnist):
    assert explore.images_and_labels(mnist, "train")[0] is mnist.x_train
    assert explore.images_and_labels(mnist, "test")[1] is mnist.y_test
    with pytest.raises(ValueError, match="validation"):
        explore.images_and_labels(mnist, "validation")


def test_class_counts_match_bincount_and_sum_to_the_set_size(split):
    _, x, y = split
    counts = explore.class_counts(y)
    assert counts.shape == (NUM_CLASSES,)
    assert counts.sum() == len(x)
    np.testing.assert_array_equal(counts, np.bincount(y))


def test_known_mnist_class_counts(mnist):
    """The published MNIST counts: 1 the most common digit, 5 the rarest."""
    assert explore.class_counts(mnist.y_train).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert explore.class_counts(mnist.y_test).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mean_image_of_each_digit_is_the_mean_of_its_images(split):
    _, x, y = split
    means = explore.mean_images(x, y)
    assert means.shape == (NUM_CLASSES, 28, 28)
    for digit in range(NUM_CLASSES):
        np.testing.assert_allclose(means[digit], x[y == digit].mean(axis=0))
    # Every digit is drawn in the middle: the centre is brighter than the corners.
    assert (means[:, 10:18, 10:18].mean(axis=(1, 2)) > means[:, :4, :4].mean(axis=(1, 2))).all()


def test_pixel_histogram_counts_every_pixel_once(split):
    _, x, _ = split
    counts = explore.pixel_histogram(x)
    assert counts.shape == (256,)
    assert counts.sum() == x.size
    np.testing.assert_array_equal(counts, np.bincount(x.ravel(), minlength=256))
    assert counts.argmax() == 0  # mostly background


def test_class_indices_are_the_images_of_that_digit(mnist):
    y = mnist.y_test
    sevens = explore.class_indices(y, 7)
    assert len(sevens) == (y == 7).sum()
    assert (y[sevens] == 7).all()
    assert (np.diff(sevens) > 0).all()  # in dataset order
    np.testing.assert_array_equal(explore.class_indices(y, None), np.arange(len(y)))
    np.testing.assert_array_equal(explore.class_indices(y, 0), np.flatnonzero(y == 0))


def test_paging_covers_every_index_once(mnist):
    everything = explore.class_indices(mnist.y_train, None)
    pages = explore.page_count(everything)
    assert pages == 60_000 // explore.PAGE_SIZE == 1250
    np.testing.assert_array_equal(explore.page_of(everything, 1), np.arange(48))
    np.testing.assert_array_equal(explore.page_of(everything, pages), np.arange(59_952, 60_000))
    np.testing.assert_array_equal(
        np.concatenate([explore.page_of(everything, p) for p in range(1, pages + 1)]), everything)


def test_paging_one_class_with_a_short_last_page(mnist):
    fives = explore.class_indices(mnist.y_test, 5)  # 892 = 18 pages of 48 + 28
    assert explore.page_count(fives) == 19
    np.testing.assert_array_equal(explore.page_of(fives, 1), np.flatnonzero(mnist.y_test == 5)[:48])
    last = explore.page_of(fives, 19)
    assert len(last) == 892 - 18 * 48 == 28
    np.testing.assert_array_equal(last, fives[-28:])
    assert explore.page_count(fives, page_size=892) == 1
    assert explore.page_count(fives[:0]) == 1  # an empty class still has a page to say so


def test_one_hot_label_matches_the_training_targets():
    from mnist_core.data import one_hot

    targets = one_hot(np.arange(NUM_CLASSES))
    for label in range(NUM_CLASSES):
        np.testing.assert_array_equal(explore.one_hot_label(label), targets[label])


def test_browse_figure_shows_the_chosen_images_titled_with_index_and_label(mnist):
    x, y = mnist.x_test, mnist.y_test
    shown = explore.page_of(explore.class_indices(y, 3), 2)
    fig = data_figures.browse_figure(x, y, shown)
    assert len(fig.data) == 1 and fig.data[0].type == "image"
    titles = [annotation.text for annotation in fig.layout.annotations]
    assert titles == [f"#{index}: 3" for index in shown]
    mosaic = decoded(fig)
    for position, index in enumerate(shown):
        top, left = figures.tile_origin(position, data_figures.GRID_COLUMNS)
        np.testing.assert_array_equal(mosaic[top:top + 28, left:left + 28, 0], x[index])
        assert (mosaic[top:top + 28, left:left + 28, 1] == 255).all()  # opaque image
    assert mosaic[: figures.TITLE_BAND, :, 1].max() == 0  # a transparent band for titles
    assert len(np.unique([a.y for a in fig.layout.annotations])) == 4  # 48 in 4 rows of 12


def test_a_short_page_fills_only_its_tiles(mnist):
    indices = np.array([0, 1, 2])
    fig = data_figures.browse_figure(mnist.x_train, mnist.y_train, indices)
    mosaic = decoded(fig)
    assert mosaic.shape[0] == figures.TITLE_BAND + 28 + figures.GAP  # one row
    top, left = figures.tile_origin(3, data_figures.GRID_COLUMNS)
    assert mosaic[top:, left:, 1].max() == 0  # nothing after the third image
    assert [a.text for a in fig.layout.annotations] == [
        f"#{i}: {mnist.y_train[i]}" for i in indices]


def test_mean_images_figure_has_ten_images_titled_by_digit(mnist):
    means = explore.mean_images(mnist.x_test, mnist.y_test)
    fig = data_figures.mean_images_figure(means)
    assert len(fig.data) == 1
    assert [a.text for a in fig.layout.annotations] == [f"mean {d}" for d in range(10)]
    mosaic = decoded(fig)
    for digit in range(NUM_CLASSES):
        top, left = figures.tile_origin(digit, NUM_CLASSES)
        tile = mosaic[top:top + 28, left:left + 28, 0].astype(float)
        assert np.abs(tile - means[digit]).max() <= 0.5  # rounded for display only


def test_class_counts_figure_has_one_bar_per_digit(mnist):
    counts = explore.class_counts(mnist.y_train)
    fig = data_figures.class_counts_figure(counts, "training")
    assert len(fig.data) == 1 and fig.data[0].type == "bar"
    assert list(fig.data[0].x) == [str(d) for d in range(10)]
    assert list(fig.data[0].y) == counts.tolist()
    assert fig.data[0].text[1] == "6,742"
    assert "training" in fig.layout.title.text
    assert fig.layout.yaxis.tickformat == ",", "6,000 on the axis, as on the bars"


def test_pixel_histogram_figure_has_256_bars_on_a_log_axis(mnist):
    counts = explore.pixel_histogram(mnist.x_test)
    fig = data_figures.pixel_histogram_figure(counts, "test")
    assert len(fig.data) == 1
    assert list(fig.data[0].x) == list(range(256))
    assert list(fig.data[0].y) == counts.tolist()
    assert fig.layout.yaxis.type == "log"
    # Only powers of ten, written out: 10,000 … 10,000,000, no 2s and 5s between them.
    assert (fig.layout.yaxis.dtick, fig.layout.yaxis.tickformat) == (1, ",")


def test_the_prepared_image_has_no_stray_ticks_and_stays_square(mnist):
    """Streamlit's theme marks ticks on every axis: the 28×28 image and the strips have
    no scale to mark, so none is drawn; the image's pixels stay square."""
    pixels, flattened, scaled = data_figures.preparation_figures(mnist.x_test[0], 7, 0)
    for axis in (pixels.layout.xaxis, pixels.layout.yaxis):
        assert (axis.ticks, axis.showticklabels, axis.showgrid) == ("", False, False)
    assert pixels.layout.yaxis.scaleanchor == "x"
    for strip in (flattened, scaled):
        assert (strip.layout.yaxis.ticks, strip.layout.yaxis.showticklabels) == ("", False)
        assert strip.layout.xaxis.title.text  # the pixel index keeps its scale and title
