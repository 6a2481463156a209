"""Train a model in a background thread and record what happens, epoch by epoch.

The UI polls `TrainingJob.progress()`; nothing here knows about Streamlit.
"""

from __future__ import annotations

import enum
import math
import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import Sequence

import keras
import numpy as np

from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.data import MnistData, prepare
from mnist_core.model import build_model


class JobStatus(str, enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    STOPPED = "stopped"
    FINISHED = "finished"
    FAILED = "failed"

    @property
    def is_done(self) -> bool:
        return self in (JobStatus.STOPPED, JobStatus.FINISHED, JobStatus.FAILED)

    @property
    def has_model(self) -> bool:
        """Training ended with weights worth using (all epochs, or stopped by the user)."""
        return self in (JobStatus.STOPPED, JobStatus.FINISHED)


@dataclass(frozen=True)
class EpochRecord:
    """One epoch's metrics as Keras logs them, and how long it took."""

    epoch: int
    loss: float
    accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    seconds: float
    samples_per_second: float


@dataclass(frozen=True)
class JobProgress:
    """A consistent, immutable view of a job, safe to read from any thread."""

    status: JobStatus
    epochs: int
    epoch: int = 0  # the epoch in progress, 1-based; 0 before the first
    batch: int = 0  # batches done in that epoch
    batches_per_epoch: int = 0
    history: tuple[EpochRecord, ...] = ()
    test_loss: float | None = None
    test_accuracy: float | None = None
    error: str | None = None
    elapsed_seconds: float = 0.0

    @property
    def fraction_done(self) -> float:
        """Share of all batches done, 0–1, for a progress bar."""
        if self.status == JobStatus.FINISHED:
            return 1.0
        if not self.batches_per_epoch:
            return 0.0
        done = max(self.epoch - 1, 0) * self.batches_per_epoch + self.batch
        return min(done / (self.epochs * self.batches_per_epoch), 1.0)

    def history_rows(self) -> list[dict]:
        return [asdict(record) for record in self.history]


class TrainingJob:
    """One training of one model: `start()` runs it in a thread, `run()` in this one."""

    def __init__(
        self,
        data: MnistData,
        model_config: ModelConfig = ModelConfig(),
        train_config: TrainConfig = TrainConfig(),
        callbacks: Sequence[keras.callbacks.Callback] = (),
    ) -> None:
        self.data = data
        self.model_config = model_config
        self.train_config = train_config
        self.model = build_model(model_config)
        self._callbacks = list(callbacks)
        self._lock = threading.Lock()
        self._stop_requested = threading.Event()
        self._progress = JobProgress(status=JobStatus.PENDING, epochs=train_config.epochs)
        self._thread: threading.Thread | None = None
        self._started_at = 0.0

    def start(self) -> None:
        """Train in a daemon thread; poll `progress()` to follow it."""
        self._thread = threading.Thread(target=self.run, name="mnist-training", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the training to end after the current batch; weights and history are kept."""
        self._stop_requested.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def progress(self) -> JobProgress:
        with self._lock:
            if self._progress.status == JobStatus.RUNNING:
                elapsed = time.perf_counter() - self._started_at
                return replace(self._progress, elapsed_seconds=elapsed)
            return self._progress

    def run(self) -> None:
        """Prepare the data, fit, evaluate on the test set; never raises."""
        self._started_at = time.perf_counter()
        self._update(status=JobStatus.RUNNING)
        try:
            limit = self.train_config.train_size
            x_train, y_train = prepare(self.data.x_train[:limit], self.data.y_train[:limit])
            x_test, y_test = prepare(self.data.x_test, self.data.y_test)
            recorder = _Recorder(self)
            self.model.fit(
                x_train,
                y_train,
                epochs=self.train_config.epochs,
                batch_size=self.train_config.batch_size,
                validation_split=self.train_config.validation_split,
                callbacks=[recorder, *self._callbacks],
                verbose=0,
            )
            if recorder.diverged:
                self._finish(
                    JobStatus.FAILED,
                    error=(
                        "The loss became NaN or infinite, so training was stopped: "
                        "the learning rate is probably too high. Try 0.001 or lower."
                    ),
                )
                return
            test_loss, test_accuracy = self.model.evaluate(x_test, y_test, verbose=0)
            status = JobStatus.STOPPED if self._stop_requested.is_set() else JobStatus.FINISHED
            self._finish(status, test_loss=float(test_loss), test_accuracy=float(test_accuracy))
        except Exception as error:  # shown to the user by the UI, never swallowed
            self._finish(JobStatus.FAILED, error=f"{type(error).__name__}: {error}")

    def _update(self, **changes) -> None:
        with self._lock:
            self._progress = replace(self._progress, **changes)

    def _finish(self, status: JobStatus, **changes) -> None:
        self._update(
            status=status, elapsed_seconds=time.perf_counter() - self._started_at, **changes
        )


class _Recorder(keras.callbacks.Callback):
    """Copies Keras' logs into the job's progress and honours stop requests."""

    def __init__(self, job: TrainingJob) -> None:
        super().__init__()
        self.job = job
        self.diverged = False
        self._epoch_started = 0.0
        self._samples_per_epoch = 0

    def on_train_begin(self, logs=None) -> None:
        steps = self.params.get("steps") or 0
        config = self.job.train_config
        n_train = len(self.job.data.x_train[: config.train_size])
        self._samples_per_epoch = n_train - int(n_train * config.validation_split)
        self.job._update(batches_per_epoch=steps)

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch_started = time.perf_counter()
        self.job._update(epoch=epoch + 1, batch=0)

    def on_train_batch_end(self, batch, logs=None) -> None:
        self.job._update(batch=batch + 1)
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged = True
            self.model.stop_training = True
        if self.job._stop_requested.is_set():
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None) -> None:
        logs = logs or {}
        if self.diverged or not math.isfinite(float(logs.get("loss", np.nan))):
            self.diverged = True
            return
        seconds = time.perf_counter() - self._epoch_started
        record = EpochRecord(
            epoch=epoch + 1,
            loss=float(logs["loss"]),
            accuracy=float(logs["accuracy"]),
            val_loss=_maybe_float(logs.get("val_loss")),
            val_accuracy=_maybe_float(logs.get("val_accuracy")),
            seconds=seconds,
            samples_per_second=self._samples_per_epoch / seconds if seconds else 0.0,
        )
        with self.job._lock:
            history = (*self.job._progress.history, record)
            self.job._progress = replace(self.job._progress, history=history)


def _maybe_float(value) -> float | None:
    return None if value is None else float(value)
