"""mnist_core.runs.train: configuration checks and the background TrainingJob on real MNIST slices."""

from __future__ import annotations

import math
import os
import threading
import time

import keras
import numpy as np
import pytest
from job_helpers import TIMEOUT, wait_until

import mnist_core.runs.train as train_module
from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.data import MnistData
from mnist_core.runs.records import JobProgress, JobStatus
from mnist_core.runs.train import TrainingJob

# --- TrainConfig ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"epochs": 0}, "epochs"),
        ({"epochs": 51}, "epochs"),
        ({"batch_size": 0}, "batch size"),
        ({"batch_size": 4097}, "batch size"),
        ({"validation_split": -0.1}, "validation split"),
        ({"validation_split": 0.6}, "validation split"),
        ({"train_size": 9}, "at least 10"),
        ({"train_size": 0}, "at least 10"),
        ({"lr_schedule": "step"}, "learning-rate schedule must be one of constant, cosine"),
    ],
)
def test_train_config_refuses_bad_values(kwargs, words):
    """Bad settings are refused before any work starts, saying which one."""
    with pytest.raises(ValueError, match=words):
        TrainConfig(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"epochs": 1},
        {"epochs": 50},
        {"batch_size": 1},
        {"batch_size": 4096},
        {"validation_split": 0.0},
        {"validation_split": 0.5},
        {"train_size": 10},
        {"train_size": None},
    ],
)
def test_train_config_accepts_the_limits(kwargs):
    """The bounds themselves are allowed (the UI sliders reach them)."""
    TrainConfig(**kwargs)


# --- A real 2-epoch job, followed from another thread ----------------------------------

SLICE, BATCH, EPOCHS, VALIDATION = 3000, 64, 2, 0.1


@pytest.fixture(scope="module")
def polled_job(mnist):
    """A 2-epoch job on 3,000 real digits in its thread, polled from this one throughout."""
    job = TrainingJob(
        mnist,
        train_config=TrainConfig(
            epochs=EPOCHS, batch_size=BATCH, train_size=SLICE, validation_split=VALIDATION
        ),
    )
    snapshots: list[JobProgress] = [job.progress()]
    started = time.perf_counter()
    job.start()
    deadline = time.monotonic() + TIMEOUT
    while not snapshots[-1].status.is_done and time.monotonic() < deadline:
        progress = job.progress()
        if progress != snapshots[-1]:
            snapshots.append(progress)
        time.sleep(0.01)
    job.join(timeout=TIMEOUT)
    wall = time.perf_counter() - started
    final = job.progress()
    print(
        f"\n2-epoch job on {SLICE} images: {wall:.1f} s, test accuracy {final.test_accuracy}, "
        f"history {[(r.loss, r.accuracy) for r in final.history]}, {len(snapshots)} snapshots"
    )
    return job, snapshots


def test_job_finishes_with_one_record_per_epoch(polled_job):
    """A normal job ends FINISHED with finite metrics for each epoch, as Keras logged them."""
    job, _ = polled_job
    progress = job.progress()
    assert progress.status == JobStatus.FINISHED, progress.error
    assert progress.error is None
    assert [record.epoch for record in progress.history] == [1, 2]
    trained = SLICE - round(SLICE * VALIDATION)
    for record in progress.history:
        for value in (record.loss, record.accuracy, record.val_loss, record.val_accuracy):
            assert value is not None and math.isfinite(value)
        assert 0.0 <= record.accuracy <= 1.0 and 0.0 <= record.val_accuracy <= 1.0
        assert record.seconds > 0
        assert record.samples_per_second == pytest.approx(trained / record.seconds, rel=0.01)
    assert progress.history_rows()[0]["loss"] == progress.history[0].loss


def test_job_learns(polled_job):
    """Two epochs on 3,000 real digits: it improves, and reads most test digits right."""
    first, second = polled_job[0].progress().history
    assert second.accuracy > first.accuracy or second.loss < first.loss, (first, second)
    progress = polled_job[0].progress()
    # So short a training lands around 80–87%, now and then lower; chance is 10%.
    assert progress.test_accuracy > 0.7, progress.test_accuracy
    assert math.isfinite(progress.test_loss)


def test_finished_job_reports_everything_done(polled_job):
    """The progress bar ends full, on the last batch of the last epoch."""
    progress = polled_job[0].progress()
    assert progress.fraction_done == 1.0
    assert progress.epoch == EPOCHS
    assert progress.batches_per_epoch == math.ceil((SLICE - round(SLICE * VALIDATION)) / BATCH)
    assert progress.batch == progress.batches_per_epoch
    assert progress.elapsed_seconds >= sum(record.seconds for record in progress.history)


def test_progress_from_another_thread_is_consistent(polled_job):
    """Every snapshot read while training is coherent and progress never goes backwards."""
    job, snapshots = polled_job
    before = snapshots[0]  # read before start(): waiting, nothing done yet
    assert before.status != JobStatus.RUNNING and not before.status.is_done
    assert before.epoch == 0 and before.fraction_done == 0.0 and before.history == ()
    running = [s for s in snapshots if s.status == JobStatus.RUNNING]
    assert len(running) > 10, "the poller should have seen the job while it ran"
    assert any(0 < s.fraction_done < 1 for s in running)
    for earlier, later in zip(snapshots, snapshots[1:]):
        assert later.fraction_done >= earlier.fraction_done
        assert later.epoch >= earlier.epoch
        assert len(later.history) >= len(earlier.history)
        assert later.history[: len(earlier.history)] == earlier.history
    for snapshot in snapshots:
        assert len(snapshot.history) <= snapshot.epoch
        assert snapshot.batch <= snapshot.batches_per_epoch
    # A snapshot is a frozen value: what the poller read first is still what it read.
    first_running = running[0]
    with pytest.raises(AttributeError):
        first_running.batch = 999  # type: ignore[misc]
    assert first_running.status == JobStatus.RUNNING and first_running.history == ()


# --- The learning-rate schedule ---------------------------------------------------------


class _LearningRates(keras.callbacks.Callback):
    """The rate each epoch trained with (read at its end, after any scheduler set it)."""

    def __init__(self) -> None:
        super().__init__()
        self.rates: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        self.rates.append(float(self.model.optimizer.learning_rate))


@pytest.mark.parametrize("schedule, factors", [
    ("constant", [1, 1, 1, 1]),
    # 0.5 · (1 + cos(π · epoch / 4)) for epochs 0–3
    ("cosine", [1, (1 + math.sqrt(0.5)) / 2, 0.5, (1 - math.sqrt(0.5)) / 2]),
])
def test_the_learning_rate_follows_the_schedule(mnist, schedule, factors):
    rates = _LearningRates()
    job = TrainingJob(mnist, ModelConfig(hidden_units=(32,), optimizer="adam", learning_rate=0.003),
                      TrainConfig(epochs=4, batch_size=256, train_size=512, lr_schedule=schedule),
                      callbacks=[rates])
    job.run()
    assert job.progress().status == JobStatus.FINISHED, job.progress().error
    assert rates.rates == pytest.approx([0.003 * factor for factor in factors])


# --- Stopping -------------------------------------------------------------------------


def test_stop_ends_a_long_job_quickly(mnist):
    """Stop lands after the current batch, not at the end of the epoch or the job."""
    job = TrainingJob(mnist, train_config=TrainConfig(epochs=3, batch_size=16, train_size=20_000))
    job.start()
    wait_until(job, lambda p: p.batch > 0 or p.status.is_done)
    job.stop()
    stopped_at = time.perf_counter()
    job.join(timeout=TIMEOUT)
    after_stop = time.perf_counter() - stopped_at
    progress = job.progress()
    print(
        f"\nstop: done {after_stop:.1f} s after stop(), at batch {progress.batch}"
        f"/{progress.batches_per_epoch} of epoch {progress.epoch}"
    )

    assert progress.status == JobStatus.STOPPED, progress.error
    total = progress.epochs * progress.batches_per_epoch
    done = (progress.epoch - 1) * progress.batches_per_epoch + progress.batch
    assert progress.epoch == 1 and done < progress.batches_per_epoch // 4, (done, total)
    assert progress.fraction_done < 0.1
    assert after_stop < 30, f"stopping took {after_stop:.1f} s"
    assert progress.test_accuracy is not None  # the stopped model is still evaluated


# --- Failures end as FAILED, never as an exception -------------------------------------


@pytest.fixture
def seeded():
    """Deterministic weights and shuffling here; fresh randomness again for later tests."""
    keras.utils.set_random_seed(0)
    yield
    keras.utils.set_random_seed(int.from_bytes(os.urandom(4), "little") >> 1)


def test_huge_learning_rate_is_reported_as_divergence(mnist, seeded):
    """SGD at lr 10 through four ReLU layers overflows to NaN within a few batches."""
    job = TrainingJob(
        mnist,
        ModelConfig(hidden_units=(512,) * 4, optimizer="sgd", learning_rate=10.0),
        TrainConfig(epochs=2, batch_size=64, train_size=2000),
    )
    job.start()
    job.join(timeout=TIMEOUT)
    progress = job.progress()
    assert progress.status == JobStatus.FAILED, progress
    assert "learning rate" in progress.error and "NaN" in progress.error
    assert progress.history == ()
    assert progress.test_accuracy is None
    assert progress.fraction_done < 0.5, "training should stop at the first NaN"


def _with_labels(mnist, y_train: np.ndarray) -> MnistData:
    n = len(y_train)
    return MnistData(
        mnist.x_train[:n], y_train, mnist.x_test[:100], mnist.y_test[:100], source="test data"
    )


@pytest.mark.parametrize("in_thread", [True, False], ids=["start-join", "run"])
def test_bad_labels_fail_the_job_not_the_caller(mnist, in_thread):
    """Labels outside 0–9 break preparation; the job says so instead of raising."""
    job = TrainingJob(
        _with_labels(mnist, np.full(200, 42, np.uint8)),
        train_config=TrainConfig(epochs=1, train_size=200),
    )
    if in_thread:
        job.start()
        job.join(timeout=TIMEOUT)
    else:
        job.run()  # in this thread: it returns, it does not raise
    progress = job.progress()
    assert progress.status == JobStatus.FAILED
    assert "42" in progress.error and "Error" in progress.error.split(":")[0]


class _Boom(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("boom after epoch 2")


def test_exception_during_fit_fails_the_job_with_its_message(mnist):
    """An error in the middle of fit (here from a callback) is kept as the job's error."""
    job = TrainingJob(
        mnist,
        train_config=TrainConfig(epochs=3, train_size=300, validation_split=0.0),
        callbacks=[_Boom()],
    )
    job.start()
    job.join(timeout=TIMEOUT)
    progress = job.progress()
    assert progress.status == JobStatus.FAILED
    assert progress.error == "RuntimeError: boom after epoch 2"
    assert progress.test_accuracy is None
    # Epochs finished before the error are kept; without validation there are no val metrics.
    assert len(progress.history) >= 1 and progress.history[0].epoch == 1
    assert progress.history[0].val_loss is None and progress.history[0].val_accuracy is None


def test_building_the_predictor_does_not_hold_up_progress(mnist, monkeypatch):
    """The first drawing builds the run's predictor (a Keras model): meanwhile the
    training thread and every page polling progress() must go on."""
    building, release = threading.Event(), threading.Event()
    real = train_module.SnapshotPredictor

    def slow_predictor(config):
        building.set()
        release.wait(TIMEOUT)
        return real(config)

    monkeypatch.setattr(train_module, "SnapshotPredictor", slow_predictor)
    job = TrainingJob(mnist, ModelConfig(hidden_units=(16,)), TrainConfig(epochs=1))
    reader = threading.Thread(target=lambda: job.predictor)
    reader.start()
    try:
        assert building.wait(TIMEOUT)
        polled = threading.Thread(target=job.progress)
        polled.start()
        polled.join(5)
        assert not polled.is_alive(), "progress() waited for the predictor to be built"
    finally:
        release.set()
        reader.join(TIMEOUT)
