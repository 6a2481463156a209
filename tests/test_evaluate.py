"""The Evaluate view's numbers and figures, on real MNIST and really trained models.

Every measure is checked against a direct count or against Keras itself, never
against the code under test.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mnist_core.config import ModelConfig
from mnist_core.data import NUM_CLASSES, one_hot, prepare, prepare_images
from mnist_core.evaluate import (
    Evaluation,
    cross_entropy,
    evaluate,
    mistake_title,
    probability_title,
    selected_cell,
)
from mnist_core.figures.evaluation import BAR_HEIGHT, confusion_figure, gallery_figure
from mnist_core.model import build_model
from mnist_core.predict import predict_proba


@pytest.fixture(scope="module")
def dense(trained_model, mnist) -> Evaluation:
    return evaluate(trained_model, mnist.x_test, mnist.y_test)


@pytest.fixture(scope="module")
def cnn_model(mnist) -> keras.Model:
    """A small convnet after one epoch on 2,000 images: quick, and right well above chance."""
    keras.utils.set_random_seed(0)
    model = build_model(ModelConfig(architecture="cnn"))
    x, y = prepare(mnist.x_train[:2_000], mnist.y_train[:2_000])
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    return model


def direct_confusion(y_true: np.ndarray, y_read: np.ndarray) -> np.ndarray:
    counts = np.zeros((NUM_CLASSES, NUM_CLASSES), int)
    for true_digit, read_as in zip(y_true, y_read):
        counts[true_digit, read_as] += 1
    return counts


# --- The softmax ------------------------------------------------------------------------


def test_the_softmax_is_the_models_own_answer_for_every_test_image(dense, trained_model, mnist):
    """The batched graph call gives what calling the model on each image's 784 pixels gives."""
    assert dense.probabilities.shape == (len(mnist.y_test), NUM_CLASSES)
    eager = predict_proba(trained_model, prepare_images(mnist.x_test))
    np.testing.assert_allclose(dense.probabilities, eager, atol=1e-5)
    np.testing.assert_array_equal(dense.predicted, dense.probabilities.argmax(axis=1))


def test_loss_and_accuracy_agree_with_keras_model_evaluate(dense, trained_model, mnist):
    x_test, y_test = prepare(mnist.x_test, mnist.y_test)
    keras_loss, keras_accuracy = trained_model.evaluate(x_test, y_test, verbose=0)
    assert dense.accuracy == pytest.approx(keras_accuracy, abs=1e-6)
    assert dense.loss == pytest.approx(keras_loss, rel=1e-4)
    assert dense.accuracy > 0.9  # a really trained model, not a degenerate one


# --- Counts -------------------------------------------------------------------------------


def test_the_confusion_matrix_counts_each_test_image_once_in_its_cell(dense, mnist):
    assert dense.confusion.sum() == len(mnist.y_test) == dense.size
    np.testing.assert_array_equal(dense.confusion, direct_confusion(mnist.y_test, dense.predicted))
    np.testing.assert_array_equal(dense.confusion.sum(axis=1), np.bincount(mnist.y_test))


def test_accuracy_is_the_diagonal_share(dense, mnist):
    assert dense.accuracy == np.trace(dense.confusion) / dense.size
    assert dense.accuracy == np.mean(dense.predicted == mnist.y_test)
    assert dense.mistakes == dense.size - np.trace(dense.confusion)


def test_precision_recall_and_f1_match_a_direct_count_for_each_digit(dense, mnist):
    y_true, y_read = mnist.y_test, dense.predicted
    for digit in range(NUM_CLASSES):
        true_positives = np.sum((y_true == digit) & (y_read == digit))
        precision = true_positives / np.sum(y_read == digit)
        recall = true_positives / np.sum(y_true == digit)
        assert dense.precision[digit] == pytest.approx(precision)
        assert dense.recall[digit] == pytest.approx(recall)
        assert dense.f1[digit] == pytest.approx(2 * precision * recall / (precision + recall))
    assert dense.macro_precision == pytest.approx(np.mean(dense.precision))
    assert dense.macro_recall == pytest.approx(np.mean(dense.recall))
    assert dense.macro_f1 == pytest.approx(np.mean(dense.f1))


def test_a_digit_never_read_has_precision_zero_not_nan():
    y_test = np.array([0, 1, 1])
    softmax = np.eye(NUM_CLASSES)[[0, 0, 1]]  # no image is read as a 2…9
    evaluation = Evaluation.from_softmax(y_test, softmax)
    assert evaluation.precision[2] == 0 and evaluation.recall[2] == 0 and evaluation.f1[2] == 0
    assert evaluation.precision[0] == 0.5 and evaluation.recall[1] == 0.5
    assert not np.isnan(evaluation.f1).any()


def test_per_digit_measures_by_hand():
    """Hand-counted: digit 2 is never read (precision 0), digit 3 never occurs (recall 0)."""
    y_test = np.array([0, 0, 1, 1, 2, 2])
    evaluation = Evaluation.from_softmax(y_test, np.eye(NUM_CLASSES)[[0, 1, 1, 1, 0, 3]])
    rows = evaluation.per_class_rows()
    assert [row["test images"] for row in rows[:4]] == [2, 2, 2, 0]
    assert rows[0]["precision"] == 0.5 and rows[0]["recall"] == 0.5 and rows[0]["F1"] == 0.5
    assert rows[1]["precision"] == pytest.approx(2 / 3) and rows[1]["recall"] == 1.0
    assert rows[1]["F1"] == pytest.approx(0.8)
    assert (rows[2]["precision"], rows[2]["recall"], rows[2]["F1"]) == (0.0, 0.0, 0.0)
    assert rows[3]["precision"] == 0.0 and rows[3]["recall"] == 0.0


def test_the_table_has_a_row_per_digit_and_the_macro_average(dense, mnist):
    rows = dense.per_class_rows()
    assert [row["digit"] for row in rows] == [str(d) for d in range(10)] + ["average"]
    assert [row["test images"] for row in rows[:10]] == np.bincount(mnist.y_test).tolist()
    assert rows[4]["recall"] == dense.recall[4] and rows[-1]["F1"] == dense.macro_f1
    # An average of image counts means nothing; their total (10,000) is no average either.
    assert rows[-1]["test images"] is None and rows[-1]["read as this digit"] is None


# --- Loss ---------------------------------------------------------------------------------


def test_loss_is_keras_categorical_cross_entropy_on_the_same_probabilities(dense, mnist):
    keras_loss = keras.losses.categorical_crossentropy(one_hot(mnist.y_test), dense.probabilities)
    assert dense.loss == pytest.approx(float(np.mean(keras_loss)), rel=1e-5)


def test_a_zero_probability_for_the_true_digit_costs_what_keras_charges():
    """Keras clips to ε = 1e-7 before the log: a sure mistake costs −log(1e-7), not infinity."""
    y_test = np.array([3, 5])
    softmax = np.eye(NUM_CLASSES, dtype=np.float32)[[3, 8]]  # right, then surely wrong
    keras_loss = keras.losses.categorical_crossentropy(one_hot(y_test), softmax)
    assert cross_entropy(y_test, softmax) == pytest.approx(float(np.mean(keras_loss)), rel=1e-5)
    assert np.isfinite(cross_entropy(y_test, softmax))


# --- Cells and mistakes -------------------------------------------------------------------


def test_a_cell_holds_exactly_the_images_of_that_true_and_read_digit(dense, mnist):
    true_digit, read_as = dense.most_frequent_mistake()
    for cell in ((true_digit, read_as), (7, 7), (true_digit, true_digit)):
        indices = dense.cell(*cell)
        expected = np.flatnonzero((mnist.y_test == cell[0]) & (dense.predicted == cell[1]))
        assert sorted(indices.tolist()) == expected.tolist()
        assert len(indices) == dense.confusion[cell]
        confidence = dense.probabilities[indices, cell[1]]
        assert np.all(np.diff(confidence) <= 0)  # most confident first


def test_the_most_frequent_mistake_is_the_largest_off_diagonal_cell(dense):
    true_digit, read_as = dense.most_frequent_mistake()
    assert true_digit != read_as
    off_diagonal = [dense.confusion[t, r] for t in range(10) for r in range(10) if t != r]
    assert dense.confusion[true_digit, read_as] == max(off_diagonal) > 0


def test_no_mistake_means_no_most_frequent_mistake():
    y_test = np.arange(10)
    evaluation = Evaluation.from_softmax(y_test, np.eye(NUM_CLASSES)[y_test])
    assert evaluation.most_frequent_mistake() is None
    assert len(evaluation.most_confident_mistakes()) == 0


def test_the_most_confident_mistakes_are_wrong_and_sorted_by_confidence(dense, mnist):
    shown = dense.most_confident_mistakes(24)
    assert len(shown) == 24 and len(set(shown.tolist())) == 24
    assert np.all(dense.predicted[shown] != mnist.y_test[shown])
    confidence = dense.probabilities[shown, dense.predicted[shown]]
    assert np.all(np.diff(confidence) <= 0)
    others = np.setdiff1d(np.flatnonzero(dense.predicted != mnist.y_test), shown)
    assert confidence[-1] >= dense.probabilities[others, dense.predicted[others]].max()


def test_titles_say_what_the_model_read_and_how_sure_it_was(dense, mnist):
    index = int(dense.most_confident_mistakes(1)[0])
    read = int(dense.predicted[index])
    p = dense.probabilities[index, read]
    assert mistake_title(dense, index).startswith(f"{mnist.y_test[index]} → {read} (")
    assert probability_title(dense, index) == f"#{index} · p({read})={p:.2f}"


def test_a_near_certain_mistake_is_not_rounded_to_100_percent():
    softmax = np.full((2, NUM_CLASSES), 0.0)
    softmax[0, [4, 9]] = [0.03, 0.97]
    softmax[1, [4, 9]] = [0.004, 0.996]
    evaluation = Evaluation.from_softmax(np.array([4, 4]), softmax)
    assert mistake_title(evaluation, 0) == "4 → 9 (97%)"
    assert mistake_title(evaluation, 1) == "4 → 9 (99.6%)"
    assert probability_title(evaluation, 1) == "#1 · p(9)=1.00"


# --- The CNN ------------------------------------------------------------------------------


def test_the_cnn_is_evaluated_the_same_way(cnn_model, mnist):
    evaluation = evaluate(cnn_model, mnist.x_test, mnist.y_test)
    eager = predict_proba(cnn_model, prepare_images(mnist.x_test[:500]))
    np.testing.assert_allclose(evaluation.probabilities[:500], eager, atol=1e-5)
    assert evaluation.confusion.sum() == len(mnist.y_test)
    np.testing.assert_array_equal(evaluation.confusion,
                                  direct_confusion(mnist.y_test, evaluation.predicted))
    assert evaluation.accuracy == np.mean(evaluation.predicted == mnist.y_test) > 0.5
    keras_loss = keras.losses.categorical_crossentropy(one_hot(mnist.y_test),
                                                       evaluation.probabilities)
    assert evaluation.loss == pytest.approx(float(np.mean(keras_loss)), rel=1e-5)


def test_a_test_set_that_is_not_a_whole_number_of_batches(trained_model, mnist):
    """The last, shorter batch is evaluated too (the offline sample has 1,000 images)."""
    x, y = mnist.x_test[:2_345], mnist.y_test[:2_345]
    evaluation = evaluate(trained_model, x, y, batch_size=1_000)
    assert evaluation.size == 2_345 == evaluation.confusion.sum()
    np.testing.assert_allclose(evaluation.probabilities,
                               predict_proba(trained_model, prepare_images(x)), atol=1e-5)


# --- Figures ------------------------------------------------------------------------------


def test_the_confusion_figure_writes_every_count_in_its_cell(dense):
    fig = confusion_figure(dense.confusion, chosen=(4, 9))
    written = {(a.y, a.x): int(a.text) for a in fig.layout.annotations}
    assert len(written) == 100
    assert all(written[t, r] == dense.confusion[t, r] for t in range(10) for r in range(10))
    (outline,) = fig.layout.shapes  # the chosen cell: true 4 (row), read 9 (column)
    assert (outline.x0, outline.x1, outline.y0, outline.y1) == (8.5, 9.5, 3.5, 4.5)
    assert list(fig.layout.yaxis.range) == [9.5, -0.5]  # 0 at the top, like a table


def test_the_confusion_figure_is_large_and_labelled_for_a_wide_column(dense):
    """Cells of about 45 px at the page's 3/5 column (555 px at 1400 px): the numbers fit."""
    fig = confusion_figure(dense.confusion)
    assert fig.layout.height >= 600
    assert (fig.layout.yaxis.title.text, fig.layout.xaxis.title.text) == ("true digit", "read as")
    assert {a.font.size for a in fig.layout.annotations} == {14}
    (cells,) = (trace for trace in fig.data if trace.type == "scatter")
    assert cells.marker.size >= 40, "a click anywhere in a cell lands on its point"
    (colours,) = (trace for trace in fig.data if trace.type == "heatmap" and trace.showscale
                  is not False)
    assert colours.colorbar.orientation == "h", "under the matrix: the matrix takes the width"


def test_the_diagonal_and_the_mistakes_have_separate_colour_scales(dense):
    right, mistakes = (trace for trace in confusion_figure(dense.confusion).data
                       if trace.type == "heatmap")
    right_z, mistakes_z = np.array(right.z, float), np.array(mistakes.z, float)
    diagonal = np.eye(10, dtype=bool)
    assert np.isfinite(right_z[diagonal]).all() and np.isnan(right_z[~diagonal]).all()
    assert np.isnan(mistakes_z[diagonal]).all()
    # Off the diagonal, log10 of the count: 1 and 40 mistakes are both visible.
    counted = ~diagonal & (dense.confusion > 0)
    np.testing.assert_allclose(mistakes_z[counted], np.log10(dense.confusion[counted]))
    assert np.isnan(mistakes_z[~diagonal & (dense.confusion == 0)]).all()


def test_every_cell_has_a_clickable_point_that_names_it(dense):
    (cells,) = (trace for trace in confusion_figure(dense.confusion).data
                if trace.type == "scatter")
    points = [{"x": x, "y": y} for x, y in zip(cells.x, cells.y)]
    assert {selected_cell([point]) for point in points} == {
        (t, r) for t in range(10) for r in range(10)}
    assert list(cells.customdata) == dense.confusion.ravel().tolist()


def test_a_click_is_read_as_true_digit_and_reading():
    assert selected_cell([{"x": 9, "y": 4, "curve_number": 2}]) == (4, 9)
    assert selected_cell([]) is None
    assert selected_cell([{"x": 12.5, "y": 4}]) is None


def test_the_cell_gallery_shows_each_image_with_its_softmax_bars(dense, mnist):
    indices = dense.cell(*dense.most_frequent_mistake())[:5]
    titles = [probability_title(dense, i) for i in indices]
    fig = gallery_figure(mnist.x_test[indices], titles, dense.probabilities[indices],
                         mnist.y_test[indices], columns=3)
    images = [trace for trace in fig.data if trace.type == "heatmap"]
    bars = [trace for trace in fig.data if trace.type == "bar"]
    assert len(images) == len(bars) == 5
    np.testing.assert_array_equal(np.array(images[0].z)[::-1], mnist.x_test[indices[0]])
    # The bars stand in a strip under the image, a probability of 1 as BAR_HEIGHT pixels.
    np.testing.assert_allclose(bars[0].customdata, dense.probabilities[indices[0]], rtol=1e-6)
    np.testing.assert_allclose(bars[0].y, dense.probabilities[indices[0]] * BAR_HEIGHT,
                               rtol=1e-6)
    assert images[0].y0 > BAR_HEIGHT
    read, truth = int(dense.predicted[indices[0]]), int(mnist.y_test[indices[0]])
    colours = list(bars[0].marker.color)
    assert colours[read] != colours[truth] and len(set(colours)) == 3
    assert [a.text for a in fig.layout.annotations if a.text] == titles


def test_the_mistakes_gallery_titles_each_image(dense, mnist):
    shown = dense.most_confident_mistakes(24)
    titles = [mistake_title(dense, i) for i in shown]
    fig = gallery_figure(mnist.x_test[shown], titles, columns=8)
    assert len(fig.data) == 24 and all(trace.type == "heatmap" for trace in fig.data)
    assert [a.text for a in fig.layout.annotations] == titles
