"""What a run is made of, as plain values: its id, status, progress and records.

Training writes them, the store saves and reads them back, the pages show them:
so they live here, apart from all three, and import neither Keras nor Streamlit.
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.runs.owners import Owner

if TYPE_CHECKING:
    import keras

RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{8}")


def is_valid_run_id(run_id: object) -> bool:
    """A run id is also a directory name and a link's key: 8 letters, digits, '-' or '_'."""
    return isinstance(run_id, str) and bool(RUN_ID_PATTERN.fullmatch(run_id))


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    STOPPED = "stopped"
    FINISHED = "finished"
    FAILED = "failed"
    # Only for saved runs: the process training it ended (killed, restarted) mid-run.
    INTERRUPTED = "interrupted"

    @property
    def is_done(self) -> bool:
        return self in (
            JobStatus.STOPPED, JobStatus.FINISHED, JobStatus.FAILED, JobStatus.INTERRUPTED
        )


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
class BatchRecord:
    """Keras' running loss and accuracy within an epoch, after `batch` batches."""

    epoch: int
    batch: int
    loss: float
    accuracy: float


@dataclass(frozen=True)
class Snapshot:
    """The weights as they were at the end of `epoch`: a private copy, safe to read."""

    epoch: int
    weights: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class JobProgress:
    """A consistent, immutable view of a job, safe to read from any thread."""

    status: JobStatus
    epochs: int
    epoch: int = 0  # the epoch in progress, 1-based; 0 before the first
    batch: int = 0  # batches done in that epoch
    batches_per_epoch: int = 0
    history: tuple[EpochRecord, ...] = ()
    batch_history: tuple[BatchRecord, ...] = ()
    test_loss: float | None = None
    test_accuracy: float | None = None
    error: str | None = None
    elapsed_seconds: float = 0.0
    batches_per_second: float = 0.0
    save_error: str | None = None  # the latest failure to save the run to disk, if any
    drawing_examples: int = 0  # drawing-style examples the training adds
    examples_made: int = 0  # of those, made (or read back) so far

    @property
    def making_examples(self) -> bool:
        """Running, and still drawing its drawing-style examples before the first epoch."""
        return (self.status == JobStatus.RUNNING and self.epoch == 0
                and self.examples_made < self.drawing_examples)

    @property
    def batches_done(self) -> int:
        return max(self.epoch - 1, 0) * self.batches_per_epoch + self.batch

    @property
    def fraction_done(self) -> float:
        """Share of all batches done, 0–1, for a progress bar."""
        if self.status == JobStatus.FINISHED:
            return 1.0
        if not self.batches_per_epoch:
            return 0.0
        return min(self.batches_done / (self.epochs * self.batches_per_epoch), 1.0)

    @property
    def eta_seconds(self) -> float | None:
        """Time left at the current batch rate, while running."""
        if self.status != JobStatus.RUNNING or not self.batches_per_second:
            return None
        remaining = self.epochs * self.batches_per_epoch - self.batches_done
        return remaining / self.batches_per_second

    @property
    def stopped_mid_epoch(self) -> bool:
        """A stop cut the last epoch short: the weights kept are those of that moment."""
        return self.status == JobStatus.STOPPED and 0 < self.batch < self.batches_per_epoch

    @property
    def complete_epochs(self) -> int:
        """Epochs trained to their end (Keras still reports a stopped epoch's metrics)."""
        if self.stopped_mid_epoch:
            return self.epoch - 1
        return len(self.history)

    @property
    def seconds_per_epoch(self) -> float | None:
        if not self.history:
            return None
        return sum(record.seconds for record in self.history) / len(self.history)

    def history_rows(self) -> list[dict]:
        return [asdict(record) for record in self.history]


def new_run_id() -> str:
    """A short, unguessable id: it is also the share link's only key and a directory name.

    Never starting with '-', so it is never taken for an option on a command line.
    """
    while True:
        run_id = secrets.token_urlsafe(6)
        if not run_id.startswith("-"):
            return run_id


@dataclass(frozen=True)
class RunRecord:
    """A run at one moment, as the store saves it: read in one go, so consistent."""

    run_id: str
    created_at: float
    model_config: ModelConfig
    train_config: TrainConfig
    progress: JobProgress
    snapshot: Snapshot | None  # the latest epoch's weights
    data_source: str
    data_is_sample: bool
    train_images: int
    test_images: int
    owner: Owner = Owner()
    # Trained by this process (not by a Ray worker): the store then knows it is alive.
    trained_here: bool = True
    # The live network: at an epoch's end, or once the run is over, it holds exactly
    # `snapshot`'s weights and can be saved as it is, without building another.
    model: keras.Model | None = None


class RecordedRun(Protocol):
    """Anything the store can save: it reads the record under its own lock, so that
    the last of two saves racing each other always writes the newer state."""

    run_id: str

    def record(self) -> RunRecord: ...
