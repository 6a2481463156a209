"""A saved run as it reads back: its files, its configuration, its history, its table row.

Reading needs no Keras, so listing runs stays fast; the model file is loaded
apart (`RunStore.load_model`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.runs.owners import LOCAL, Owner
from mnist_core.runs.records import EpochRecord, JobProgress, JobStatus

MODEL_FILE, WEIGHTS_FILE = "model.keras", "weights.npz"
RUN_FILE, CONFIG_FILE = "run.json", "config.json"
HISTORY_JSON, HISTORY_CSV = "history.json", "history.csv"
HISTORY_FIELDS = tuple(column.name for column in fields(EpochRecord))


@dataclass(frozen=True)
class RunSummary:
    """One line of the runs table."""

    run_id: str
    name: str | None
    status: str
    created: float | None
    architecture: str | None
    hyperparameters: dict = field(default_factory=dict)
    epochs: int | None = None  # planned
    epochs_completed: int = 0
    train_accuracy: float | None = None  # of the last completed epoch
    val_accuracy: float | None = None
    test_accuracy: float | None = None
    seconds_per_epoch: float | None = None
    problem: str | None = None  # why the run could not be read, when it could not
    owner: Owner | None = None  # None when the run could not be read

    def as_row(self) -> dict:
        """A flat dict for a table (st.dataframe, CSV)."""
        return {
            "id": self.run_id,
            "name": self.name or "",
            "created": format_time(self.created),
            "status": self.status,
            "model": self.architecture or "",
            **self.hyperparameters,
            "epochs": f"{self.epochs_completed}/{self.epochs}" if self.epochs else "",
            "train accuracy": self.train_accuracy,
            "val accuracy": self.val_accuracy,
            "test accuracy": self.test_accuracy,
            "s/epoch": self.seconds_per_epoch,
        }


@dataclass(frozen=True)
class StoredRun:
    """A saved run: its metadata, configuration and per-epoch history."""

    run_id: str
    path: Path
    meta: dict  # run.json as saved
    model_config: ModelConfig
    train_config: TrainConfig
    history: tuple[dict, ...]  # history.json: EpochRecord fields per epoch

    @property
    def status(self) -> str:
        return self.meta.get("status", "unknown")

    @property
    def name(self) -> str | None:
        return self.meta.get("name")

    @property
    def created(self) -> float | None:
        return self.meta.get("created")

    @property
    def owner(self) -> Owner:
        """Whose run it is; a run saved before runs had owners is the local person's."""
        return owner_in(self.meta)

    @property
    def test_loss(self) -> float | None:
        return self.meta.get("test_loss")

    @property
    def test_accuracy(self) -> float | None:
        return self.meta.get("test_accuracy")

    @property
    def error(self) -> str | None:
        return self.meta.get("error")

    @property
    def has_model(self) -> bool:
        """Whether weights were saved: after a first epoch, or for an imported model."""
        return bool(self.history or self.meta.get("model_epoch"))

    @property
    def seconds_per_epoch(self) -> float | None:
        seconds = [row["seconds"] for row in self.history if row.get("seconds") is not None]
        return sum(seconds) / len(seconds) if seconds else None

    def summary(self) -> RunSummary:
        """The run's line in the runs table."""
        return _summary(self)

    def epoch_records(self) -> tuple[EpochRecord, ...]:
        """The history as `EpochRecord`s."""
        return tuple(EpochRecord(**_fields(row)) for row in self.history)

    def progress(self) -> JobProgress:
        """The run as a finished `JobProgress`, so the live run's views can show it too."""
        try:
            status = JobStatus(self.status)
        except ValueError:
            status = JobStatus.FAILED
        return JobProgress(
            status=status,
            epochs=self.train_config.epochs,
            epoch=len(self.history),
            history=self.epoch_records(),
            test_loss=self.test_loss,
            test_accuracy=self.test_accuracy,
            error=self.error,
            elapsed_seconds=self.meta.get("elapsed_seconds") or 0.0,
        )


def _summary(run: StoredRun) -> RunSummary:
    model, train = run.model_config, run.train_config
    if model.is_convolutional:
        layers = {"conv filters": " ".join(map(str, model.conv_filters))}
    else:
        layers = {"hidden units": " ".join(map(str, model.hidden_units)) or "none"}
    hyperparameters = {
        **layers,
        "activation": model.activation,
        "dropout": model.dropout,
        "augment": model.augment,
        "optimizer": model.optimizer,
        "learning rate": model.learning_rate,
        "lr schedule": train.lr_schedule,
        "batch size": train.batch_size,
        "train size": train.train_size or "all",
        "drawing examples": train.drawing_examples,
    }
    last = run.history[-1] if run.history else {}
    return RunSummary(
        run_id=run.run_id,
        name=run.name,
        status=run.status,
        created=run.created,
        architecture=model.architecture,
        hyperparameters=hyperparameters,
        epochs=train.epochs,
        epochs_completed=len(run.history),
        train_accuracy=last.get("accuracy"),
        val_accuracy=last.get("val_accuracy"),
        test_accuracy=run.test_accuracy,
        seconds_per_epoch=run.seconds_per_epoch,
        owner=run.owner,
    )


def owner_in(meta: dict) -> Owner:
    """The owner saved in a run's run.json."""
    owner, name = meta.get("owner"), meta.get("owner_name")
    return Owner(owner if isinstance(owner, str) and owner else LOCAL,
                 name if isinstance(name, str) and name else None)


def format_time(seconds: float | None, iso: bool = False) -> str:
    if seconds is None:
        return ""
    if iso:
        return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(seconds))
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def _fields(row: dict) -> dict[str, Any]:
    """history.json's row as EpochRecord's arguments (a field missing from an old file: None)."""
    return {name: row.get(name) for name in HISTORY_FIELDS}
