"""mnist_core.confidence: when the app says "It's a 7." and when "Not sure — 4 or 9?".

The rule is checked on crafted probabilities first, then measured on a trained model:
simulated drawings of real digits must be judged "sure" far more often than scribbles.
"""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.confidence import (
    SURE_AGREEMENT,
    SURE_PROBABILITY,
    Verdict,
    judge,
    nudged_copies,
)
from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.drawings import draw_scribble, drawn_test_set
from mnist_core.predict import Reading, SnapshotPredictor, read_digit, read_digit_at
from mnist_core.preprocess import preprocess_canvas

COPIES = 8  # the input and its 7 nudged copies


def one_hot_rows(digits, strength: float = 0.96) -> np.ndarray:
    """One softmax row per digit: `strength` on it, the rest spread evenly."""
    rows = np.full((len(digits), 10), (1 - strength) / 9)
    rows[np.arange(len(digits)), digits] = strength
    return rows


# --- judge() on crafted probabilities ---------------------------------------------------


def test_a_stable_confident_reading_is_sure():
    verdict = judge(one_hot_rows([7] * COPIES))
    assert isinstance(verdict, Verdict)
    assert verdict.sure
    assert verdict.digit == 7
    assert verdict.probability == pytest.approx(0.96)
    assert verdict.agreement == 1.0
    assert verdict.message == "It's a 7."


def test_a_split_reading_is_not_sure_and_names_both_digits():
    row = np.full(10, 0.15 / 8)
    row[4], row[9] = 0.45, 0.40
    verdict = judge(np.tile(row, (COPIES, 1)))
    assert not verdict.sure
    assert (verdict.digit, verdict.runner_up) == (4, 9)
    assert verdict.probability == pytest.approx(0.45)
    assert verdict.message == "Not sure — 4 or 9?"


def test_the_runner_up_is_the_second_best_on_average():
    probabilities = np.zeros((COPIES, 10))
    probabilities[:, 3] = 0.5
    probabilities[:, 8] = 0.3
    probabilities[:, 5] = 0.2
    verdict = judge(probabilities)
    assert verdict.message == "Not sure — 3 or 8?"


def test_high_mean_but_disagreeing_copies_is_not_sure():
    """6 of 8 copies say 3 at 0.99, 2 say 5: the mean for 3 is high, agreement too low."""
    probabilities = np.zeros((COPIES, 10))
    probabilities[:6, 3] = 0.99
    probabilities[:6, 0] = 0.01
    probabilities[6:, 5] = 0.55
    probabilities[6:, 3] = 0.45
    verdict = judge(probabilities)
    assert verdict.digit == 3
    assert verdict.probability >= SURE_PROBABILITY
    assert verdict.agreement == pytest.approx(6 / 8)
    assert verdict.agreement < SURE_AGREEMENT
    assert not verdict.sure
    assert verdict.message == "Not sure — 3 or 5?"


def test_agreeing_copies_with_a_low_mean_are_not_sure():
    """Every copy says 2, but only at 0.5: agreement alone is not enough."""
    row = np.full(10, 0.5 / 9)
    row[2] = 0.5
    verdict = judge(np.tile(row, (COPIES, 1)))
    assert verdict.agreement == 1.0
    assert not verdict.sure


def test_one_dissenting_copy_of_eight_is_still_sure():
    """7/8 = 87.5% agreement clears SURE_AGREEMENT (80%)."""
    verdict = judge(one_hot_rows([1] * 7 + [7], strength=0.99))
    assert verdict.agreement == pytest.approx(7 / 8)
    assert verdict.sure
    assert verdict.message == "It's a 1."


def test_judge_accepts_lists_and_a_single_copy():
    assert judge([[0.0] * 9 + [1.0]]).message == "It's a 9."


def test_an_8_is_an_8():
    assert judge(one_hot_rows([8] * COPIES)).message == "It's an 8."


def test_an_unsure_verdict_says_how_many_nudged_copies_agree():
    """Beside a 99.7% probability, "Not sure" read as a contradiction: the reason says
    that the nudged copies disagree, and how far."""
    verdict = judge(one_hot_rows([7] * 5 + [1] * 3, strength=0.997))
    assert not verdict.sure
    assert verdict.message == "Not sure — 7 or 1?"
    assert "reads 7 in only 5 of 8 copies" in verdict.reason
    assert verdict.copies == COPIES


# --- nudged_copies ---------------------------------------------------------------------------


@pytest.fixture
def digit(mnist) -> np.ndarray:
    return mnist.x_test[0].astype(np.float32) / 255


def test_nudged_copies_shape_and_range(digit):
    copies = nudged_copies(digit)
    assert copies.shape == (COPIES, 28, 28)
    assert copies.dtype == np.float32
    assert copies.min() >= 0.0 and copies.max() <= 1.0
    np.testing.assert_array_equal(copies[0], digit)


def test_each_nudged_copy_differs_from_the_input(digit):
    copies = nudged_copies(digit)
    for number, copy in enumerate(copies[1:], start=1):
        assert np.abs(copy - digit).max() > 0.1, f"copy {number} is the input unchanged"
        # ...but only a little: most of the ink is still there.
        assert copy.sum() == pytest.approx(digit.sum(), rel=0.35), number


def test_nudged_copies_come_from_the_sparse_map_exactly_as_from_scipy(digit):
    from mnist_core.confidence import _nudge

    direct = np.clip(_nudge(digit[None])[0], 0.0, 1.0)
    np.testing.assert_allclose(nudged_copies(digit), direct, atol=1e-6)


def test_nudged_copies_of_a_blank_input_stay_blank():
    copies = nudged_copies(np.zeros((28, 28), np.float32))
    assert copies.shape == (COPIES, 28, 28) and not copies.any()


# --- read_digit with a freshly trained run ---------------------------------------------------


@pytest.fixture(scope="module")
def small_job(mnist):
    from mnist_core.data import MnistData
    from mnist_core.runs.records import JobStatus
    from mnist_core.runs.train import TrainingJob

    data = MnistData(mnist.x_train[:3000], mnist.y_train[:3000],
                     mnist.x_test[:500], mnist.y_test[:500], source="first 3,000 images")
    job = TrainingJob(data, ModelConfig(hidden_units=(64,)), TrainConfig(epochs=2, batch_size=64))
    job.run()
    assert job.progress().status == JobStatus.FINISHED, job.progress().error
    return job


def test_read_digit_gives_probabilities_and_a_verdict(small_job, mnist):
    snapshot = small_job.latest_snapshot()
    assert snapshot.epoch == 2
    for index in range(5):
        x = mnist.x_test[index].astype(np.float32) / 255
        reading = read_digit_at(small_job.predictor, snapshot, x)
        assert isinstance(reading, Reading)
        assert reading.probabilities.shape == (10,)
        assert reading.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
        assert (reading.probabilities >= 0).all()
        assert reading.digit == int(reading.probabilities.argmax())
        assert isinstance(reading.verdict, Verdict)
        assert 0 <= reading.verdict.digit <= 9
        assert reading.verdict.runner_up != reading.verdict.digit
        # The first row of the batch is the input itself: the same as predicting it alone.
        alone = small_job.predictor.softmax(snapshot, x)
        np.testing.assert_allclose(reading.probabilities, alone, atol=1e-5)


def test_read_digit_on_a_clear_test_digit_is_sure_and_right(small_job, mnist):
    x = mnist.x_test[0].astype(np.float32) / 255  # a clean 7
    reading = read_digit_at(small_job.predictor, small_job.latest_snapshot(), x)
    assert reading.digit == 7
    assert reading.verdict.message == "It's a 7."


def test_read_digit_on_the_model_matches_the_snapshot_reading(small_job, mnist):
    """The same weights, read directly from a model or from the run's snapshot: one answer."""
    x = mnist.x_test[1].astype(np.float32) / 255
    snapshot = small_job.latest_snapshot()
    at_snapshot = read_digit_at(small_job.predictor, snapshot, x)
    direct = read_digit(small_job.model, x)
    np.testing.assert_allclose(direct.probabilities, at_snapshot.probabilities, atol=1e-5)
    assert direct.verdict.digit == at_snapshot.verdict.digit
    assert direct.verdict.sure == at_snapshot.verdict.sure


# --- Measured: drawings are "sure" far more often than scribbles ---------------------------

# 120 of each, not 60: with 60, one or two misread "sure" drawings could tip the accuracy
# comparison, and the scribbles' rate varied from 10% to 25%.
N_DRAWINGS = N_SCRIBBLES = 120


@pytest.fixture(scope="module")
def verdicts(mnist, trained_model):
    """Readings of 120 simulated drawings of test digits and of 120 scribbles.

    Read as the Draw page does: through a SnapshotPredictor holding the model's weights.
    """
    from mnist_core.runs.records import Snapshot

    predictor = SnapshotPredictor(ModelConfig())
    snapshot = Snapshot(epoch=1, weights=tuple(trained_model.get_weights()))
    canvases, labels = drawn_test_set(mnist.x_test, mnist.y_test, N_DRAWINGS, seed=5)
    rng = np.random.default_rng(123)
    scribbles = [draw_scribble(rng) for _ in range(N_SCRIBBLES)]

    def readings(pictures):
        inputs = [preprocess_canvas(picture) for picture in pictures]
        assert all(x is not None for x in inputs)
        return [read_digit_at(predictor, snapshot, x) for x in inputs]

    drawn, scribbled = readings(canvases), readings(scribbles)
    sure = np.array([r.verdict.sure for r in drawn])
    right = np.array([r.verdict.digit for r in drawn]) == labels
    scribble_sure = np.mean([r.verdict.sure for r in scribbled])
    print(
        f"\ndrawings: sure on {sure.mean():.0%}, right on {right.mean():.0%} overall and "
        f"{right[sure].mean():.0%} of the sure ones; scribbles: sure on {scribble_sure:.0%}"
    )
    return {"sure": sure, "right": right, "scribble_sure": float(scribble_sure)}


def test_drawings_are_sure_far_more_often_than_scribbles(verdicts):
    """Measured with the session model (2 epochs, 30,000 images), over 6 trainings on these
    120 + 120: drawings sure on 45–55%, scribbles on 12–16%, a gap of 0.29–0.43 and a ratio
    of 3–4.6. With 60 scribbles one training gave 39% against 25%, so the thresholds stay
    well below the typical values (the 0.3 gap first planned would fail now and then)."""
    drawings_sure = verdicts["sure"].mean()
    scribbles_sure = verdicts["scribble_sure"]
    assert drawings_sure - scribbles_sure > 0.15, (drawings_sure, scribbles_sure)
    assert drawings_sure >= 1.75 * scribbles_sure, (drawings_sure, scribbles_sure)
    assert drawings_sure >= 0.3
    assert scribbles_sure <= 0.3


def test_sure_readings_are_more_often_right(verdicts):
    """Measured: 96–100% right when sure, against 88–92% over all 120 drawings."""
    sure, right = verdicts["sure"], verdicts["right"]
    assert sure.any()
    assert right[sure].mean() >= right.mean()
    assert right[sure].mean() >= 0.9
