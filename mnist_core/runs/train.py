"""Train a model in a background thread and record what happens, batch by batch.

The UI polls `TrainingJob.progress()`, an immutable view built under a lock;
predictions read `snapshots()`, copies of the weights taken at the end of each
epoch by the training thread itself, so nothing ever reads weights mid-update.
Nothing here knows about Streamlit.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.data import MnistData, prepare, validation_count
from mnist_core.drawing_examples import drawing_examples
from mnist_core.model import build_model, config_of
from mnist_core.predict import SnapshotPredictor
from mnist_core.quiet_keras import keras
from mnist_core.runs.owners import Owner
from mnist_core.runs.priority import yield_cpu_to_users
from mnist_core.runs.records import (
    BatchRecord,
    EpochRecord,
    JobProgress,
    JobStatus,
    RunRecord,
    Snapshot,
    new_run_id,
)
from mnist_core.runs.store import RunStore
from mnist_core.runs.stored import StoredRun

EXAMPLES_DIR = "drawing-examples"  # beside the runs; never a run id, so never listed as one
DIVERGED_MESSAGE = (
    "The loss became NaN or infinite, so training was stopped: the learning rate is "
    "probably too high for this optimizer. Try 0.001 or lower."
)


class TrainingJob:
    """One training of one model (a "run"): `start()` runs it in a thread, `run()` here."""

    trains_here = True  # in this process; a RemoteJob's actor trains elsewhere

    def __init__(
        self,
        data: MnistData,
        model_config: ModelConfig = ModelConfig(),
        train_config: TrainConfig = TrainConfig(),
        callbacks: Sequence[keras.callbacks.Callback] = (),
        store: RunStore | None = None,
        verbose: int = 0,
        examples_dir: Path | None = None,
    ) -> None:
        """`store`: where the run is saved as it goes (see mnist_core.runs.store); None: nowhere.

        `examples_dir`: where drawing-style examples are kept once made; by default
        beside the store's runs, or nowhere without a store.

        `verbose`: Keras' own output of `fit` (1: a progress bar per batch, 2: a line per
        epoch), for the command line; the app shows progress itself.
        """
        self.run_id = new_run_id()
        self.created_at = time.time()
        self.data = data
        self.model_config = model_config
        self.train_config = train_config
        self.model = build_model(model_config)
        self._callbacks = list(callbacks)
        self._verbose = verbose
        self._lock = threading.Lock()
        self._stop_requested = threading.Event()
        self._thread: threading.Thread | None = None
        # Mutable state, guarded by _lock; progress() hands out frozen copies.
        self._status = JobStatus.QUEUED
        self._epoch = self._batch = self._batches_per_epoch = 0
        self._history: list[EpochRecord] = []
        self._batch_history: list[BatchRecord] = []
        self._snapshots: list[Snapshot] = []
        self._test: tuple[float, float] | None = None
        self._error: str | None = None
        self._started_at: float | None = None
        self._ended_at: float | None = None
        self._predictor: SnapshotPredictor | None = None
        self._predictor_lock = threading.Lock()  # building it must not hold up progress()
        self._in_background = False  # started with start(): yields the CPU to users
        self.store = store
        self._examples_dir = examples_dir
        self._examples_made = 0
        # Where a model made outside training came from: "imported from model.keras".
        self.origin: str | None = None
        self.owner = Owner()  # whose run it is: the local person's unless told otherwise
        # Why the run's trainer cannot be asked how it goes (a cluster's); None here.
        self.problem: str | None = None
        self._save_error: str | None = None

    @classmethod
    def restored(cls, data: MnistData, stored: StoredRun, model: keras.Model) -> TrainingJob:
        """A saved run brought back after a restart: done, its saved weights its one snapshot.

        Views, drawing and evaluation then work on it as on a run of this server.
        """
        job = cls(data, stored.model_config, stored.train_config)
        progress = stored.progress()
        weights = model.get_weights()
        job.model.set_weights(weights)
        job.run_id, job.created_at = stored.run_id, stored.created or job.created_at
        job.owner = stored.owner
        job._status, job._error = progress.status, progress.error
        job._epoch = len(progress.history) or (1 if stored.has_model else 0)
        job._history = list(progress.history)
        if progress.test_loss is not None and progress.test_accuracy is not None:
            job._test = (progress.test_loss, progress.test_accuracy)
        job._started_at, job._ended_at = 0.0, progress.elapsed_seconds
        if stored.has_model:
            job._snapshots = [Snapshot(job._epoch, tuple(weights))]
        return job

    @classmethod
    def imported(cls, data: MnistData, model: keras.Model, name: str,
                 test: tuple[float, float] | None = None,
                 origin: str | None = None) -> TrainingJob:
        """An uploaded model as a finished run: its weights the one snapshot, tested on MNIST.

        `test`: its (loss, accuracy) on the test set where they are known already.
        `origin`: where it came from, in words; by default "imported from `name`".
        Raises ModelFileError when the app cannot build a network like it.
        """
        job = cls(data, config_of(model), TrainConfig(epochs=1))
        weights = model.get_weights()
        job.model.set_weights(weights)
        if test is None:
            x_test, y_test = prepare(data.x_test, data.y_test)
            test = job.model.evaluate(x_test, y_test, verbose=0)
        job.origin = origin or f"imported from {name}"
        job._status, job._epoch = JobStatus.FINISHED, 1
        job._test = (float(test[0]), float(test[1]))
        job._started_at = job._ended_at = 0.0
        job._snapshots = [Snapshot(1, tuple(weights))]
        return job

    @property
    def predictor(self) -> SnapshotPredictor:
        """The run's thread-safe predictor over its snapshots, built on first use."""
        with self._predictor_lock:
            if self._predictor is None:
                self._predictor = SnapshotPredictor(self.model_config)
            return self._predictor

    def start(self, on_done: Callable[["TrainingJob"], None] | None = None) -> None:
        """Train in a daemon thread; `on_done(job)` is called when it ends, however.

        The status is RUNNING before this returns, so the run never looks queued
        while its thread starts up.
        """
        began = self._begin()
        self._in_background = True

        def target() -> None:
            try:
                if began:
                    yield_cpu_to_users()
                    self.save()
                    self._train()
            finally:
                if on_done is not None:
                    on_done(self)

        self._thread = threading.Thread(target=target, name=f"training-{self.run_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End after the current batch (or never start, if queued); weights and history stay."""
        self._stop_requested.set()
        with self._lock:
            cancelled = self._status == JobStatus.QUEUED
            if cancelled:
                self._status = JobStatus.STOPPED
                self._ended_at = time.perf_counter()
        if cancelled:
            self.save()

    def ended(self) -> bool:
        """Whether the run is over, as last known: never waits (unlike `progress()`)."""
        with self._lock:
            return self._status.is_done

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested.is_set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def progress(self) -> JobProgress:
        with self._lock:
            now = time.perf_counter()
            started = self._started_at
            ended = now if self._ended_at is None else self._ended_at
            elapsed = (ended - started) if started is not None else 0.0
            batches_done = max(self._epoch - 1, 0) * self._batches_per_epoch + self._batch
            return JobProgress(
                status=self._status,
                epochs=self.train_config.epochs,
                epoch=self._epoch,
                batch=self._batch,
                batches_per_epoch=self._batches_per_epoch,
                history=tuple(self._history),
                batch_history=tuple(self._batch_history),
                test_loss=self._test[0] if self._test else None,
                test_accuracy=self._test[1] if self._test else None,
                error=self._error,
                elapsed_seconds=elapsed,
                batches_per_second=batches_done / elapsed if elapsed > 0 else 0.0,
                save_error=self._save_error,
                drawing_examples=self.train_config.drawing_examples,
                examples_made=self._examples_made,
            )

    def record(self) -> RunRecord:
        """The run as the store saves it: its progress and latest weights, read together."""
        limit = self.train_config.train_size
        progress = self.progress()  # first: the snapshot is then never older than the history
        return RunRecord(
            run_id=self.run_id,
            created_at=self.created_at,
            model_config=self.model_config,
            train_config=self.train_config,
            progress=progress,
            snapshot=self.latest_snapshot(),
            data_source=self.data.source,
            data_is_sample=self.data.is_sample,
            train_images=len(self.data.x_train[:limit]),
            test_images=len(self.data.x_test),
            owner=self.owner,
            trained_here=self.trains_here,
            model=self.model,
        )

    def snapshots(self) -> tuple[Snapshot, ...]:
        """Weights after each completed epoch, oldest first."""
        with self._lock:
            return tuple(self._snapshots)

    def latest_snapshot(self) -> Snapshot | None:
        with self._lock:
            return self._snapshots[-1] if self._snapshots else None

    def run(self) -> None:
        """Train in this thread; never raises (failures end up in `progress()`)."""
        if self._begin():
            self.save()
            self._train()

    def save(self, epoch_end: bool = False) -> None:
        """Save the run's state to its store, if it has one; never raises.

        A failure to save does not stop the training: it is kept in
        `progress().save_error` for the UI to show, and cleared by the next save that works.
        """
        if self.store is None:
            return
        message: str | None = None
        try:
            self.store.save_progress(self, epoch_end=epoch_end)
        except Exception as error:
            message = f"The run could not be saved: {type(error).__name__}: {error}"
        with self._lock:
            self._save_error = message

    def _begin(self) -> bool:
        """QUEUED → RUNNING; False if the run was cancelled or has started already."""
        with self._lock:
            if self._status != JobStatus.QUEUED:
                return False
            self._status = JobStatus.RUNNING
            self._started_at = time.perf_counter()
            return True

    def _train(self) -> None:
        """Prepare the data, fit, evaluate on the test set."""
        try:
            split = self._training_data()
            if split is None:  # stopped while making the drawing-style examples
                self._finish(JobStatus.STOPPED)
                return
            (x_train, y_train), validation = split
            x_test, y_test = prepare(self.data.x_test, self.data.y_test)
            held_out = validation_count(len(x_train), validation.get("validation_split", 0.0))
            recorder = _Recorder(self, len(x_train) - held_out)
            callbacks = [recorder, *self._callbacks]
            if self.train_config.lr_schedule == "cosine":
                callbacks.append(cosine_decay(self.model_config.learning_rate,
                                              self.train_config.epochs))
            self.model.fit(
                x_train,
                y_train,
                epochs=self.train_config.epochs,
                batch_size=self.train_config.batch_size,
                **validation,
                callbacks=callbacks,
                verbose=self._verbose,
            )
            if recorder.diverged:
                self._finish(JobStatus.FAILED, error=DIVERGED_MESSAGE)
                return
            test_loss, test_accuracy = self.model.evaluate(x_test, y_test, verbose=0)
            ended_early = recorder.stopped_early
            status = JobStatus.STOPPED if ended_early else JobStatus.FINISHED
            self._finish(status, test=(float(test_loss), float(test_accuracy)))
        except Exception as error:  # shown to the user by the UI, never swallowed
            self._finish(JobStatus.FAILED, error=f"{type(error).__name__}: {error}")

    def examples_dir(self) -> Path | None:
        """Where drawing-style examples are kept: as given, else beside the store's runs."""
        if self._examples_dir is None and self.store is not None:
            return self.store.root / EXAMPLES_DIR
        return self._examples_dir

    def _training_data(self):
        """((x_train, y_train), fit's validation arguments), prepared; None if stopped.

        Without drawing-style examples: the first `train_size` images, and Keras'
        `validation_split` takes the last part of them, as in the classic script.
        With them: the same split made here, and the examples (drawn from the
        training part's digits only) added to the training part.
        """
        config = self.train_config
        x, y = self.data.x_train[:config.train_size], self.data.y_train[:config.train_size]
        if not config.drawing_examples:
            return prepare(x, y), {"validation_split": config.validation_split}
        cut = len(x) - validation_count(len(x), config.validation_split)

        def made(done: int, wanted: int) -> None:
            with self._lock:
                self._examples_made = done
            if self.stop_requested:
                raise _Stopped

        try:
            x_drawn, y_drawn = drawing_examples(x[:cut], y[:cut], config.drawing_examples,
                                                cache_dir=self.examples_dir(), on_progress=made)
        except _Stopped:
            return None
        with self._lock:
            self._examples_made = config.drawing_examples
        training = prepare(np.concatenate([x[:cut], x_drawn]), np.concatenate([y[:cut], y_drawn]))
        validation = prepare(x[cut:], y[cut:]) if cut < len(x) else None
        return training, {"validation_data": validation}

    def _finish(self, status: JobStatus, error: str | None = None, test=None) -> None:
        with self._lock:
            self._status, self._error, self._test = status, error, test
            self._ended_at = time.perf_counter()
        self.save()  # the final model, status and test metrics


def cosine_decay(learning_rate: float, epochs: int) -> keras.callbacks.LearningRateScheduler:
    """Each epoch's learning rate along a half cosine, from `learning_rate` toward 0.

    Large steps early explore, small steps late settle: the final weights stop
    jumping between nearby solutions from one epoch to the next.
    """
    def rate(epoch: int, current: float) -> float:
        return learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
    return keras.callbacks.LearningRateScheduler(rate)


class _Stopped(Exception):
    """A stop request while the drawing-style examples were being made."""


class _Recorder(keras.callbacks.Callback):
    """Copies Keras' logs into the job, snapshots weights, honours stop requests."""

    def __init__(self, job: TrainingJob, samples_per_epoch: int) -> None:
        super().__init__()
        self.job = job
        self._samples_per_epoch = samples_per_epoch
        self.diverged = False
        self.stopped_early = False  # a stop request cut the training short
        self._epoch_started = 0.0

    def on_train_begin(self, logs=None) -> None:
        with self.job._lock:
            self.job._batches_per_epoch = self.params.get("steps") or 0

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch_started = time.perf_counter()
        with self.job._lock:
            self.job._epoch, self.job._batch = epoch + 1, 0

    def on_train_batch_end(self, batch, logs=None) -> None:
        logs = logs or {}
        loss = float(logs.get("loss", np.nan))
        record = BatchRecord(self.job._epoch, batch + 1, loss, float(logs.get("accuracy", np.nan)))
        with self.job._lock:
            self.job._batch = batch + 1
            self.job._batch_history.append(record)
        if batch == 0 and self.job._in_background:
            yield_cpu_to_users()  # TensorFlow may have started new workers
        if not math.isfinite(loss):
            self.diverged = True
            self.model.stop_training = True
        if self.job.stop_requested:
            self.model.stop_training = True
            self.stopped_early = True

    def on_epoch_end(self, epoch, logs=None) -> None:
        logs = logs or {}
        if self.diverged or not math.isfinite(float(logs.get("loss", np.nan))):
            self.diverged = True
            return
        seconds = time.perf_counter() - self._epoch_started
        # A stopped epoch saw only the batches done before the stop.
        batches = self.job._batch
        samples = min(batches * self.job.train_config.batch_size, self._samples_per_epoch)
        record = EpochRecord(
            epoch=epoch + 1,
            loss=float(logs["loss"]),
            accuracy=float(logs["accuracy"]),
            val_loss=_maybe_float(logs.get("val_loss")),
            val_accuracy=_maybe_float(logs.get("val_accuracy")),
            seconds=seconds,
            samples_per_second=samples / seconds if seconds else 0.0,
        )
        # This thread is the only writer of the weights, so this copy is consistent.
        snapshot = Snapshot(epoch + 1, tuple(self.model.get_weights()))
        with self.job._lock:
            self.job._history.append(record)
            self.job._snapshots.append(snapshot)
        if epoch == 0:
            # Build and trace the predictor now, not on the first drawing after this epoch.
            self.job.predictor.warm_up(snapshot)
        # In this thread, between epochs: the model holds exactly the snapshot's weights.
        self.job.save(epoch_end=True)


def _maybe_float(value) -> float | None:
    return None if value is None else float(value)
