"""The run machinery: stopping, epoch snapshots, the snapshot predictor, and mnist_core.runs.registry.

Every job trains a small network on a few hundred to a few thousand real MNIST
digits and is evaluated on 200 test digits, so the whole file stays well under a
minute on two shared cores. Waits have generous timeouts: a hang fails, it never blocks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import traceback

import keras
import numpy as np
import pytest
from job_helpers import TIMEOUT, wait_until

from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.data import MnistData
from mnist_core.model import build_model
from mnist_core.predict import predict_proba
from mnist_core.runs.errors import StoreError
from mnist_core.runs.owners import Owner
from mnist_core.runs.records import JobProgress, JobStatus, is_valid_run_id
from mnist_core.runs.registry import MAX_TRAININGS_ENV, RunRegistry, default_max_concurrent
from mnist_core.runs.store import RunStore
from mnist_core.runs.train import TrainingJob

SMALL = ModelConfig(hidden_units=(32,))  # fast to trace and to train; the machinery is the same


@pytest.fixture(scope="module")
def data(mnist):
    """Real digits with a 200-image test set: evaluating all 10,000 after each tiny run would dominate."""
    return MnistData(
        mnist.x_train[:5000],
        mnist.y_train[:5000],
        mnist.x_test[:200],
        mnist.y_test[:200],
        source=mnist.source,
    )


@pytest.fixture(scope="module")
def images(mnist):
    """Sixteen test digits as the predictor takes them: 28×28 floats in [0, 1]."""
    return mnist.x_test[:16].astype(np.float32) / 255


@pytest.fixture
def make_registry():
    """Registries made by a test are shut down after it, so no thread outlives its test."""
    made: list[RunRegistry] = []

    def make(max_concurrent: int) -> RunRegistry:
        registry = RunRegistry(max_concurrent=max_concurrent)
        made.append(registry)
        return registry

    yield make
    for registry in made:
        registry.shutdown(timeout=TIMEOUT)


@pytest.fixture
def seeded():
    """Deterministic weights and shuffling here; fresh randomness again for later tests."""
    keras.utils.set_random_seed(0)
    yield
    keras.utils.set_random_seed(int.from_bytes(os.urandom(4), "little") >> 1)


class Timeline(keras.callbacks.Callback):
    """When fit() really began and ended for one job (perf_counter), if it ever ran."""

    def __init__(self) -> None:
        super().__init__()
        self.began: float | None = None
        self.ended: float | None = None

    def on_train_begin(self, logs=None) -> None:
        self.began = time.perf_counter()

    def on_train_end(self, logs=None) -> None:
        self.ended = time.perf_counter()


def tiny_job(data, timeline: Timeline | None = None, model=SMALL, **train) -> TrainingJob:
    """One epoch on 500 digits, no validation, unless told otherwise."""
    settings = {"epochs": 1, "train_size": 500, "validation_split": 0.0, **train}
    return TrainingJob(
        data, model, TrainConfig(**settings), callbacks=[timeline] if timeline else []
    )




def _wait_done(*jobs: TrainingJob, timeout: float = TIMEOUT) -> None:
    for job in jobs:
        wait_until(job, lambda p: p.status.is_done, timeout)
        job.join(timeout)


def _assert_weights_equal(actual, expected) -> None:
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        np.testing.assert_array_equal(a, e)


def _never_trained(job: TrainingJob, timeline: Timeline | None = None) -> None:
    progress = job.progress()
    assert progress.history == () and progress.batch_history == ()
    assert progress.epoch == 0 and progress.batch == 0
    assert progress.test_accuracy is None
    assert job.snapshots() == () and job.latest_snapshot() is None
    if timeline is not None:
        assert timeline.began is None, "fit() ran for a job that should never have started"


# --- 1. Stopping ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def stopped_mid_epoch(data):
    """1 epoch of ~340 batches of 8, stopped once 5 batches are done: (job, batch read at stop)."""
    job = TrainingJob(
        data, SMALL, TrainConfig(epochs=1, batch_size=8, train_size=3000, validation_split=0.1)
    )
    job.start()
    wait_until(job, lambda p: p.batch >= 5 or p.status.is_done)
    job.stop()
    at_stop = job.progress().batch
    job.join(timeout=TIMEOUT)
    assert not job._thread.is_alive(), "the job did not end after stop()"
    return job, at_stop


def test_stop_mid_epoch_ends_within_one_batch(stopped_mid_epoch):
    """stop() lands after the batch in flight: not at the end of the epoch, let alone the job."""
    job, at_stop = stopped_mid_epoch
    progress = job.progress()
    assert progress.status == JobStatus.STOPPED, progress.error
    assert progress.epoch == 1 and progress.batches_per_epoch == 338
    # The batch in flight may complete, plus one for the race between stop() and reading progress.
    assert 5 <= at_stop <= progress.batch <= at_stop + 2, (at_stop, progress.batch)
    assert progress.batch < progress.batches_per_epoch // 4
    assert len(progress.batch_history) == progress.batch == progress.batches_done
    assert progress.fraction_done < 0.25


def test_stopped_job_keeps_weights_history_and_is_evaluated(stopped_mid_epoch):
    """Keras still ends the epoch after a stop, so the partial epoch gets a snapshot and a record."""
    job, _ = stopped_mid_epoch
    progress = job.progress()
    assert [record.epoch for record in progress.history] == [1]
    assert [snapshot.epoch for snapshot in job.snapshots()] == [1]
    assert job.latest_snapshot() is job.snapshots()[-1]
    _assert_weights_equal(job.latest_snapshot().weights, job.model.get_weights())
    assert progress.test_accuracy is not None and 0.0 <= progress.test_accuracy <= 1.0
    assert progress.error is None
    assert progress.eta_seconds is None


def test_stopped_epoch_rate_counts_only_the_batches_trained(stopped_mid_epoch):
    """After a stop at batch b, the epoch processed b×batch_size samples, not the whole epoch."""
    job, _ = stopped_mid_epoch
    progress = job.progress()
    record = progress.history[0]
    trained = progress.batch * job.train_config.batch_size
    assert record.samples_per_second == pytest.approx(trained / record.seconds, rel=0.05)


def test_stop_of_a_queued_job_means_it_never_trains(data):
    """A job stopped before it started is STOPPED at once; run() and start() then do nothing."""
    job = tiny_job(data)
    before = [w.copy() for w in job.model.get_weights()]
    job.stop()
    assert job.progress().status == JobStatus.STOPPED
    assert job.stop_requested
    job.run()
    ended = threading.Event()
    job.start(on_done=lambda _: ended.set())  # the callback still fires, so a registry moves on
    assert ended.wait(TIMEOUT)
    job.join(TIMEOUT)
    assert job.progress().status == JobStatus.STOPPED
    assert job.progress().elapsed_seconds == 0.0
    _never_trained(job)
    _assert_weights_equal(job.model.get_weights(), before)


# --- 2. Snapshots ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_epochs(data):
    """3 epochs on 1,000 digits, with the weights recorded independently at each epoch's end."""
    recorded: dict[int, list[np.ndarray]] = {}
    holder: list[TrainingJob] = []
    recorder = keras.callbacks.LambdaCallback(  # runs after the job's own recorder
        on_epoch_end=lambda epoch, logs: recorded.__setitem__(
            epoch + 1, [np.array(w, copy=True) for w in holder[0].model.get_weights()]
        )
    )
    job = TrainingJob(
        data, SMALL, TrainConfig(epochs=3, batch_size=32, train_size=1000), callbacks=[recorder]
    )
    holder.append(job)
    job.run()
    assert job.progress().status == JobStatus.FINISHED, job.progress().error
    return job, recorded


def test_one_snapshot_per_epoch_and_the_last_is_the_final_model(three_epochs):
    """The Draw page predicts with snapshots: one per epoch, the last being the trained model."""
    job, _ = three_epochs
    snapshots = job.snapshots()
    assert [snapshot.epoch for snapshot in snapshots] == [1, 2, 3]
    assert job.latest_snapshot() is snapshots[-1]
    _assert_weights_equal(snapshots[-1].weights, job.model.get_weights())


def test_snapshots_are_copies_frozen_at_their_epoch(three_epochs):
    """Each snapshot holds the weights of its own epoch, not a view that followed later training."""
    job, recorded = three_epochs
    snapshots = job.snapshots()
    assert sorted(recorded) == [1, 2, 3]
    for snapshot in snapshots:
        _assert_weights_equal(snapshot.weights, recorded[snapshot.epoch])
    first, last = snapshots[0].weights, snapshots[-1].weights
    assert any(not np.array_equal(a, b) for a, b in zip(first, last)), "training changed nothing?"


# --- 3. SnapshotPredictor -------------------------------------------------------------


def _reference(job: TrainingJob, snapshot, x) -> np.ndarray:
    model = build_model(job.model_config)
    model.set_weights(list(snapshot.weights))
    return predict_proba(model, x)


def test_predictor_switches_between_snapshots(three_epochs, images):
    """Alternating snapshots gives each one's own answer: the cached weights are swapped each time."""
    job, _ = three_epochs
    first, last = job.snapshots()[0], job.snapshots()[-1]
    expected = {
        first.epoch: _reference(job, first, images),
        last.epoch: _reference(job, last, images),
    }
    assert not np.allclose(expected[first.epoch], expected[last.epoch], atol=1e-4)
    for snapshot in (first, last, first, first, last, first):
        got = job.predictor.softmax(snapshot, images)
        assert got.shape == (len(images), 10)
        np.testing.assert_allclose(got, expected[snapshot.epoch], rtol=1e-5, atol=1e-6)
    assert job.predictor is job.predictor  # one shared predictor per run


def test_evolution_has_one_distribution_per_snapshot(three_epochs, images):
    """evolution() is the softmax of one digit after each epoch: (epochs, 10), rows summing to 1."""
    job, _ = three_epochs
    snapshots = job.snapshots()
    evolution = job.predictor.evolution(snapshots, images[0])
    assert evolution.shape == (len(snapshots), 10)
    np.testing.assert_allclose(evolution.sum(axis=1), np.ones(len(snapshots)), atol=1e-5)
    assert (evolution >= 0).all()
    for row, snapshot in zip(evolution, snapshots):
        np.testing.assert_allclose(row, _reference(job, snapshot, images[0]), rtol=1e-5, atol=1e-6)


# --- 4. Queue order and the concurrency limit -----------------------------------------


def _watch(registry: RunRegistry, jobs: list[TrainingJob], timeout: float = TIMEOUT) -> dict:
    """Poll every ~10 ms until all jobs are done: when each was first seen running and done."""
    seen_running: dict[str, float] = {}
    seen_done: dict[str, float] = {}
    max_count = max_status_running = 0
    positions: dict[str, list] = {job.run_id: [] for job in jobs}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = time.perf_counter()
        max_count = max(max_count, registry.running_count())
        statuses = {job.run_id: job.progress().status for job in jobs}
        max_status_running = max(
            max_status_running, sum(s == JobStatus.RUNNING for s in statuses.values())
        )
        for job in jobs:
            positions[job.run_id].append(registry.queue_position(job.run_id))
            status = statuses[job.run_id]
            if status == JobStatus.RUNNING or status.is_done:
                seen_running.setdefault(job.run_id, now)
            if status.is_done:
                seen_done.setdefault(job.run_id, now)
        if len(seen_done) == len(jobs):
            break
        time.sleep(0.01)
    else:
        pytest.fail(f"timed out: {[job.progress() for job in jobs]}")
    for job in jobs:
        job.join(TIMEOUT)
    return {
        "running": seen_running,
        "done": seen_done,
        "max_count": max_count,
        "max_status_running": max_status_running,
        "positions": positions,
    }


def test_one_at_a_time_in_submission_order(data, make_registry):
    """With one slot, runs wait their turn, start first-come first-served, and never overlap."""
    registry = make_registry(1)
    timelines = [Timeline() for _ in range(3)]
    jobs = [tiny_job(data, timeline) for timeline in timelines]
    for job in jobs:
        registry.submit(job, Owner("a"))
    first, second, third = jobs
    assert registry.running_count() == 1
    assert registry.queue_position(first.run_id) is None
    assert [registry.queue_position(job.run_id) for job in (second, third)] == [1, 2]
    assert second.progress().status == third.progress().status == JobStatus.QUEUED

    watched = _watch(registry, jobs)

    assert [job.progress().status for job in jobs] == [JobStatus.FINISHED] * 3
    assert watched["max_count"] <= 1 and watched["max_status_running"] <= 1
    started = [watched["running"][job.run_id] for job in jobs]
    done = [watched["done"][job.run_id] for job in jobs]
    assert started == sorted(started)
    assert done[0] <= started[1] and done[1] <= started[2]
    # fit() itself, timed inside each job: one ended before the next began, in order.
    for earlier, later in zip(timelines, timelines[1:]):
        assert earlier.ended is not None and later.began is not None
        assert earlier.ended < later.began
    # The third's place only moves forward: 2, then 1, then out of the queue.
    trail = [0 if p is None else p for p in watched["positions"][third.run_id]]
    assert trail == sorted(trail, reverse=True) and set(trail) <= {0, 1, 2}
    assert all(registry.queue_position(job.run_id) is None for job in jobs)
    assert registry.running_count() == 0


def test_two_slots_run_two_at_once_and_the_third_waits(data, make_registry):
    """With two slots, the first two train side by side while the third waits first in line."""
    registry = make_registry(2)
    timelines = [Timeline() for _ in range(3)]
    jobs = [tiny_job(data, timeline, batch_size=8) for timeline in timelines]
    for job in jobs:
        registry.submit(job, Owner("a"))
    assert registry.running_count() == 2
    assert registry.queue_position(jobs[2].run_id) == 1
    assert jobs[2].progress().status == JobStatus.QUEUED

    watched = _watch(registry, jobs)

    assert [job.progress().status for job in jobs] == [JobStatus.FINISHED] * 3
    assert watched["max_count"] <= 2 and watched["max_status_running"] <= 2
    one, two, three = timelines
    assert max(one.began, two.began) < min(one.ended, two.ended), "the first two never overlapped"
    assert three.began > min(one.ended, two.ended), "the third started before a slot was free"
    assert registry.running_count() == 0


def test_a_started_run_never_reads_queued_without_a_place(data, make_registry, monkeypatch):
    """A run the registry has started is RUNNING for every reader, however late its thread starts."""
    original_train = TrainingJob._train

    def late_thread(self):  # the OS may schedule a new thread late, e.g. on a loaded server
        time.sleep(0.3)
        original_train(self)

    monkeypatch.setattr(TrainingJob, "_train", late_thread)
    registry = make_registry(1)
    job = tiny_job(data)
    registry.submit(job, Owner("a"))
    try:
        status, position = job.progress().status, registry.queue_position(job.run_id)
        assert registry.running_count() == 1
        assert status != JobStatus.QUEUED or position is not None, (status, position)
    finally:
        _wait_done(job)


# --- 5. Cancelling a queued run -------------------------------------------------------


def test_cancelling_a_queued_run(data, make_registry):
    """Stop on a waiting run takes it out of the queue for good; the one behind it moves up and runs."""
    registry = make_registry(1)
    timelines = [Timeline() for _ in range(3)]
    running, cancelled, behind = (tiny_job(data, t) for t in timelines)
    for job in (running, cancelled, behind):
        registry.submit(job, Owner("a"))
    assert registry.queue_position(cancelled.run_id) == 1

    registry.stop(cancelled.run_id)

    assert cancelled.progress().status == JobStatus.STOPPED
    assert registry.queue_position(cancelled.run_id) is None
    assert registry.queue_position(behind.run_id) == 1
    assert registry.get(cancelled.run_id) is cancelled  # still listed, with its outcome
    registry.stop("unknownid")  # unknown and malformed ids are ignored, not errors
    registry.stop("../x")
    _wait_done(running, behind)
    assert running.progress().status == behind.progress().status == JobStatus.FINISHED
    assert timelines[0].ended < timelines[2].began
    assert cancelled.progress().status == JobStatus.STOPPED
    _never_trained(cancelled, timelines[1])
    registry.stop(running.run_id)  # stopping a finished run changes nothing
    assert running.progress().status == JobStatus.FINISHED


# --- 6. Lookup ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "run_id", ["../etc", "", "a" * 100, None, "abc/def1", "abcdefgh", "../etc/passwd", 12345678]
)
def test_get_of_unknown_or_malformed_ids_is_none(data, make_registry, run_id):
    """A share link may carry anything: an unknown or malformed id finds nothing, and never raises."""
    registry = make_registry(1)
    job = tiny_job(data)
    job.stop()
    registry.submit(job, Owner("a"))
    assert registry.get(run_id) is None
    assert registry.queue_position(run_id) is None


def test_run_ids_are_valid_and_distinct(data):
    """Run ids are 8 URL-safe characters, unguessable and all different."""
    jobs = [tiny_job(data) for _ in range(3)]
    ids = [job.run_id for job in jobs]
    assert len(set(ids)) == 3
    assert all(is_valid_run_id(run_id) for run_id in ids)
    assert is_valid_run_id("abcdEFGH") and is_valid_run_id("a_b-C123")


@pytest.mark.parametrize(
    "run_id",
    [
        None,
        "",
        "abcdefg",
        "abcdefghi",
        "a" * 100,
        "abc/def1",
        "../etc/",
        "abcd efg",
        "abcdefg=",
        "abcdéfgh",
        12345678,
        b"abcdefgh",
        ["abcdefgh"],
    ],
)
def test_is_valid_run_id_refuses_bad_ids(run_id):
    """Anything but exactly 8 of [A-Za-z0-9_-] is refused."""
    assert not is_valid_run_id(run_id)


def test_is_valid_run_id_refuses_a_trailing_newline():
    """'$' also matches before a final newline: a 9-character id must still be refused."""
    assert not is_valid_run_id("abcdefgh\n")


# --- 7. default_max_concurrent ---------------------------------------------------------


@pytest.mark.parametrize("cores, expected", [(8, 4), (4, 2), (3, 1), (2, 1), (1, 1), (None, 1)])
def test_default_is_one_training_per_two_cores(monkeypatch, cores, expected):
    """Without MNIST_MAX_TRAININGS, half the cores (at least one, also when the count is unknown)."""
    monkeypatch.delenv(MAX_TRAININGS_ENV, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert default_max_concurrent() == expected
    assert RunRegistry().max_concurrent == expected


def test_environment_sets_the_limit(monkeypatch):
    """MNIST_MAX_TRAININGS=3 means three at a time, whatever the core count."""
    monkeypatch.setenv(MAX_TRAININGS_ENV, "3")
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert default_max_concurrent() == 3
    assert RunRegistry().max_concurrent == 3
    assert RunRegistry(max_concurrent=5).max_concurrent == 5  # an explicit limit wins


@pytest.mark.parametrize(
    "value",
    ["0", "-1", "abc", "1.5", "", " 2", "2 ", "²"],
)
def test_bad_environment_value_is_refused_by_name(monkeypatch, value):
    """A bad MNIST_MAX_TRAININGS stops the server with a message naming the variable."""
    monkeypatch.setenv(MAX_TRAININGS_ENV, value)
    with pytest.raises(ValueError, match=MAX_TRAININGS_ENV):
        default_max_concurrent()
    with pytest.raises(ValueError, match=MAX_TRAININGS_ENV):
        RunRegistry()


# --- 8. Readers and a predictor on other threads while a job trains --------------------


def test_concurrent_readers_and_predictions_while_training(data, make_registry, images):
    """Four pollers and one predictor hammer a training run: no errors, every view coherent."""
    epoch_two = threading.Event()
    predicted_while_running = threading.Event()

    class WaitForAPrediction(keras.callbacks.Callback):
        """Epoch 2 starts only once the predictor has used epoch 1's snapshot, so they overlap."""

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                epoch_two.set()
                predicted_while_running.wait(TIMEOUT)

    registry = make_registry(1)
    job = TrainingJob(
        data,
        SMALL,
        TrainConfig(epochs=2, batch_size=16, train_size=2000),
        callbacks=[WaitForAPrediction()],
    )
    errors: list[str] = []
    reads = [0] * 4
    predictions = [0]

    def guarded(body):
        def loop():
            try:
                body()
            except BaseException:  # noqa: BLE001 - reported by the main thread
                errors.append(traceback.format_exc())
                predicted_while_running.set()  # never leave the training thread waiting

        return loop

    def reader(index: int):
        def body():
            last_batches = last_snapshots = 0
            while True:
                progress = job.progress()
                snapshots = job.snapshots()
                latest = job.latest_snapshot()
                assert registry.get(job.run_id) is job
                assert registry.queue_position(job.run_id) is None
                assert len(progress.history) <= progress.epoch <= progress.epochs
                if progress.batches_per_epoch > 0:
                    assert progress.batch <= progress.batches_per_epoch
                assert 0.0 <= progress.fraction_done <= 1.0
                assert len(progress.batch_history) == progress.batches_done
                assert len(progress.batch_history) >= last_batches
                assert len(snapshots) >= max(last_snapshots, len(progress.history))
                assert [s.epoch for s in snapshots] == list(range(1, len(snapshots) + 1))
                if latest is not None:
                    assert latest.epoch >= len(snapshots)
                last_batches, last_snapshots = len(progress.batch_history), len(snapshots)
                reads[index] += 1
                if progress.status.is_done:
                    return
                time.sleep(0.001)

        return body

    def predictor():
        while True:
            status = job.progress().status
            snapshot = job.latest_snapshot()
            if snapshot is not None:
                p = job.predictor.softmax(snapshot, images)
                assert p.shape == (len(images), 10) and np.isfinite(p).all()
                np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
                predictions[0] += 1
                if status == JobStatus.RUNNING and epoch_two.is_set():
                    predicted_while_running.set()
            if status.is_done:
                return
            time.sleep(0.002)

    threads = [threading.Thread(target=guarded(reader(i)), daemon=True) for i in range(4)]
    threads.append(threading.Thread(target=guarded(predictor), daemon=True))
    registry.submit(job, Owner("a"))
    for thread in threads:
        thread.start()
    _wait_done(job)
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == [], "\n".join(errors)
    assert predicted_while_running.is_set()
    assert min(reads) > 5 and predictions[0] >= 1, (reads, predictions)
    assert job.progress().status == JobStatus.FINISHED, job.progress().error
    assert [s.epoch for s in job.snapshots()] == [1, 2]


# --- 9. shutdown ----------------------------------------------------------------------


def test_shutdown_stops_the_running_and_drops_the_queued(data, make_registry):
    """At server exit the running run is stopped and waited for; the waiting one never starts."""
    registry = make_registry(1)
    long_timeline, queued_timeline = Timeline(), Timeline()
    long = tiny_job(data, long_timeline, batch_size=8, train_size=5000, epochs=3)
    queued = tiny_job(data, queued_timeline)
    registry.submit(long, Owner("a"))
    registry.submit(queued, Owner("b"))
    wait_until(long, lambda p: p.batch >= 1 or p.status.is_done)

    started = time.perf_counter()
    registry.shutdown(timeout=30)
    took = time.perf_counter() - started

    assert took < 30
    assert long.progress().status == JobStatus.STOPPED, long.progress().error
    assert not long._thread.is_alive(), "shutdown returned before the training thread ended"
    assert long.progress().epoch == 1 and long_timeline.ended is not None
    assert queued.progress().status == JobStatus.STOPPED
    assert registry.queue_position(queued.run_id) is None
    assert registry.running_count() == 0
    time.sleep(0.2)  # had anything started it, it would be visible now
    _never_trained(queued, queued_timeline)


# --- 10. Divergence through the registry ----------------------------------------------


def test_diverging_run_fails_and_the_queue_moves_on(data, make_registry, seeded):
    """SGD at lr 10 through four ReLU layers goes NaN: FAILED with advice, and the next run starts."""
    registry = make_registry(1)
    diverging = TrainingJob(
        data,
        ModelConfig(hidden_units=(512,) * 4, optimizer="sgd", learning_rate=10.0),
        TrainConfig(epochs=2, batch_size=64, train_size=2000),
    )
    behind = tiny_job(data)
    registry.submit(diverging, Owner("a"))
    registry.submit(behind, Owner("a"))
    assert registry.queue_position(behind.run_id) == 1
    _wait_done(diverging, behind)
    progress = diverging.progress()
    assert progress.status == JobStatus.FAILED, progress
    assert "learning rate" in progress.error
    assert progress.history == () and diverging.snapshots() == ()
    assert behind.progress().status == JobStatus.FINISHED, behind.progress().error
    assert registry.running_count() == 0


# --- 11. ETA and seconds per epoch ----------------------------------------------------


def test_eta_while_running_and_seconds_per_epoch(data):
    """The ETA exists only while running, is positive mid-run; seconds/epoch is the history's mean."""
    job = tiny_job(data, epochs=2, batch_size=16, train_size=1000)
    queued = job.progress()
    assert queued.eta_seconds is None and queued.seconds_per_epoch is None
    job.start()
    samples: list[JobProgress] = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        progress = job.progress()
        if progress.status.is_done:
            break
        samples.append(progress)
        time.sleep(0.005)
    job.join(TIMEOUT)
    midway = [
        p
        for p in samples
        if p.status == JobStatus.RUNNING and 0 < p.batches_done < p.epochs * p.batches_per_epoch
    ]
    assert len(midway) >= 3, f"only {len(midway)} samples mid-run"
    for p in midway:
        assert p.eta_seconds is not None and p.eta_seconds > 0
        remaining = p.epochs * p.batches_per_epoch - p.batches_done
        assert p.eta_seconds == pytest.approx(p.elapsed_seconds * remaining / p.batches_done)
    for p in samples:
        if p.status == JobStatus.RUNNING and p.batches_done == 0:
            assert p.eta_seconds is None  # no rate yet, so no guess

    final = job.progress()
    assert final.status == JobStatus.FINISHED, final.error
    assert final.eta_seconds is None
    seconds = [record.seconds for record in final.history]
    assert len(seconds) == 2 and all(s > 0 for s in seconds)
    assert final.seconds_per_epoch == pytest.approx(sum(seconds) / 2)


# --- Memory, and a server's end ------------------------------------------------------------


def test_only_the_latest_finished_runs_stay_in_memory_and_the_others_come_back(data, tmp_path):
    """Every epoch's weights of every finished run would grow the server without end:
    beyond `keep_finished`, the least recently used leave memory and load again from disk."""
    registry = RunRegistry(max_concurrent=1, store=RunStore(tmp_path), keep_finished=2)
    try:
        jobs = [tiny_job(data, epochs=2) for _ in range(3)]
        for job in jobs:
            registry.submit(job, Owner("a"))
            _wait_done(job)
        deadline = time.monotonic() + TIMEOUT
        while registry.running_count() and time.monotonic() < deadline:
            time.sleep(0.01)
        first, second, third = (job.run_id for job in jobs)
        assert registry.get(first) is None  # the oldest, let go of
        assert registry.get(second) is jobs[1] and registry.get(third) is jobs[2]

        back = registry.restore(first, data)
        assert back is not None and back is not jobs[0]
        assert back.progress().status == JobStatus.FINISHED
        assert back.latest_snapshot().epoch == 2
        _assert_weights_equal(back.latest_snapshot().weights, jobs[0].latest_snapshot().weights)
        assert registry.get(second) is None  # now the least recently used
    finally:
        registry.shutdown(timeout=TIMEOUT)


def test_a_damaged_saved_run_says_why_it_cannot_be_restored(data, tmp_path):
    registry = RunRegistry(max_concurrent=1, store=RunStore(tmp_path), keep_finished=0)
    job = tiny_job(data)
    registry.submit(job, Owner("a"))
    _wait_done(job)
    registry.shutdown(timeout=TIMEOUT)
    (tmp_path / job.run_id / "config.json").write_text("{not json")
    fresh = RunRegistry(max_concurrent=1, store=RunStore(tmp_path))
    with pytest.raises(StoreError, match="config.json could not be read"):
        fresh.restore(job.run_id, data)
    assert fresh.restore("Missing1", data) is None  # not there at all: no error, no run


def test_shutdown_after_a_finished_run_was_forgotten_before_its_done_callback(data,
                                                                             make_registry):
    """forget() may drop a finished run whose thread has not yet told the registry."""
    registry = make_registry(1)
    release = threading.Event()
    told = registry._on_done

    def late(job):
        release.wait(TIMEOUT)
        told(job)

    registry._on_done = late
    job = tiny_job(data)
    registry.submit(job, Owner("a"))
    wait_until(job, lambda p: p.status.is_done)
    registry.forget(job.run_id)
    try:
        registry.shutdown(timeout=0.1)  # was a KeyError
    finally:
        release.set()
    job.join(TIMEOUT)


def test_opening_the_registry_and_listing_runs_loads_no_tensorflow(tmp_path):
    """Every session opens the registry and lists the runs (to find its latest): a page
    without a model must not wait for TensorFlow."""
    code = (
        "import json, sys\n"
        "from mnist_core.runs.registry import RunRegistry\n"
        "from mnist_core.runs.store import RunStore\n"
        f"RunRegistry(store=RunStore({str(tmp_path)!r})).store.list_runs()\n"
        "print(json.dumps([m for m in ('keras', 'tensorflow') if m in sys.modules]))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120)
    assert loaded.stdout.strip() == "[]"
