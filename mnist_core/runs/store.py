"""Runs that last: every training saved on disk, progressively and atomically.

Layout, one directory per run under the runs directory (`MNIST_RUNS_DIR`, else
`runs/` in the project root)::

    runs/<run_id>/
        run.json      status, name, times, test metrics, data source, library versions
        config.json   {"model": ModelConfig, "train": TrainConfig}
        history.json  one object per completed epoch (EpochRecord's fields)
        history.csv   the same as a table
        model.keras   the model as of the latest saved epoch (the final one once done)
        weights.npz   only while a run trains with epochs too short to afford a full
                      model save each time: the latest epoch's weights (see below)

Every file is written atomically (mnist_core.atomic), so a crash or a kill leaves
each file either as it was or complete, never half-written.

Saving happens in the training thread at the end of each epoch. A full `.keras`
save is cheap next to a real epoch, but with tiny epochs (a few hundred images) it
would dominate, so after the first epoch the full model is saved only while its last
measured cost is at most `MODEL_SAVE_BUDGET` of the epoch's time (costs measured in
docs/benchmarks.md, "Saving a run"). Otherwise the epoch's weight snapshot goes to
`weights.npz`, much cheaper, and the model is saved in full when the run ends
(finished, stopped or failed). Loading takes whichever of the two is newer.

A run whose saved status is still "queued" or "running" but whose process is
gone (the server was killed or restarted) is marked "interrupted" when a store is
opened: its completed epochs and saved model stay as they were. Where trainings
run elsewhere (a Ray cluster), the store is told how to ask whether a run's
trainer is alive (`alive`).

Several processes may share one runs directory (app servers, the command line,
Ray workers): each change of a run's `run.json` holds that run's file lock
(`fcntl.flock` on the hidden file `.lock` in its directory), so a rename on one
server and an epoch saved by a worker never undo each other.

Run ids come from users (links, the command line): anything but the 8-character
ids that `is_valid_run_id` accepts, and any path that would resolve
outside the runs directory (symbolic links included), is refused with
`InvalidRunId`. Nothing here imports Streamlit, and Keras only when a model is
saved or loaded, so listing runs stays fast.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np

from mnist_core.atomic import (
    TEMP_PREFIX,
    atomic_save_model,
    atomic_write,
    atomic_write_json,
    atomic_write_text,
    copy_atomically,
    remove_quietly,
)
from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.runs.errors import ExportExists, InvalidRunId, RunActive, RunNotFound, StoreError
from mnist_core.runs.liveness import process_alive, this_process
from mnist_core.runs.owners import check_may_change
from mnist_core.runs.records import (
    JobProgress,
    JobStatus,
    RecordedRun,
    RunRecord,
    Snapshot,
    is_valid_run_id,
)
from mnist_core.runs.stored import (
    CONFIG_FILE,
    HISTORY_CSV,
    HISTORY_FIELDS,
    HISTORY_JSON,
    MODEL_FILE,
    RUN_FILE,
    WEIGHTS_FILE,
    RunSummary,
    StoredRun,
    format_time,
    owner_in,
)

if TYPE_CHECKING:
    import keras

RUNS_DIR_ENV = "MNIST_RUNS_DIR"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
FORMAT_VERSION = 1
EXPORT_FILES = (MODEL_FILE, CONFIG_FILE, HISTORY_CSV)
ACTIVE_STATUSES = ("queued", "running")
INTERRUPTED = "interrupted"
MODEL_SAVE_BUDGET = 0.03  # largest share of an epoch's time a full model save may take
MAX_NAME_LENGTH = 100
LOCK_FILE = ".lock"  # in a run's directory; never one of its files, never exported

# Is the trainer of an active run alive? Given the run id and its run.json.
TrainerAlive = Callable[[str, dict], bool]


def trainer_process_alive(run_id: str, meta: dict) -> bool:
    """The default: the process that saved the run is still running on this machine."""
    return process_alive(meta.get("process"))


def default_runs_dir() -> Path:
    """`MNIST_RUNS_DIR` if set, else `runs/` in the project root (beside app.py)."""
    value = os.environ.get(RUNS_DIR_ENV)
    return Path(value).expanduser() if value else PROJECT_ROOT / "runs"


# Runs of this process that are still queued or training: resolved run directories.
_LIVE: set[Path] = set()
_LIVE_LOCK = threading.Lock()


# --- The store ---------------------------------------------------------------------------


@dataclass
class _SaveState:
    """What has been saved of one run by this process."""

    config_written: bool = False
    model_epoch: int = 0  # the epoch model.keras holds
    weights_epoch: int = 0  # the epoch weights.npz holds (0: none)
    model_save_seconds: float | None = None  # the last full save's measured cost
    save_seconds: float = 0.0  # all saving of this run, in total


class _RunLock:
    """One run's lock: a thread lock within this process, re-entrant, and the run's
    file lock across processes, taken by the outermost holder only."""

    def __init__(self, lock_path: Path) -> None:
        self._lock = threading.RLock()
        self._path = lock_path
        self._depth = 0  # guarded by _lock
        self._file: int | None = None

    def __enter__(self) -> _RunLock:
        self._lock.acquire()
        if self._depth == 0 and self._path.parent.is_dir():  # else: its first save
            self._file = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._file, fcntl.LOCK_EX)
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._file is not None:
            os.close(self._file)  # closing releases the flock
            self._file = None
        self._lock.release()


class RunStore:
    """The runs directory: save runs as they train, list, load, rename, delete, export them.

    Thread-safe: training threads save while the UI lists and renames; and safe to
    share between processes. Opening a store marks runs left "running" or "queued"
    by a trainer that is gone as "interrupted" (`recover=False` to only read).
    """

    def __init__(self, root: str | os.PathLike | None = None, *, recover: bool = True,
                 alive: TrainerAlive = trainer_process_alive) -> None:
        """`alive(run_id, meta)`: whether an active run's trainer still runs (see module doc)."""
        root = Path(root) if root is not None else default_runs_dir()
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()
        self.alive = alive
        self._lock = threading.Lock()  # guards _run_locks and _states
        self._run_locks: dict[str, _RunLock] = {}
        self._states: dict[str, _SaveState] = {}
        self.interrupted: list[str] = []  # every run this store has marked interrupted
        self.recover = recover
        if recover:
            self.mark_interrupted()

    def __repr__(self) -> str:
        return f"RunStore({str(self.root)!r})"

    # Paths -----------------------------------------------------------------------------

    def run_dir(self, run_id: object) -> Path:
        """The directory of a run id, refusing anything that is not safely inside the root."""
        if not is_valid_run_id(run_id):
            raise InvalidRunId(
                f"{_shorten(run_id)} is not a run id: a run id is 8 letters, digits, '-' or '_'."
            )
        path = self.root / str(run_id)
        if path.is_symlink():
            raise InvalidRunId(f"Run {run_id} is a symbolic link; refusing to follow it.")
        if path.resolve().parent != self.root:
            raise InvalidRunId(f"Run {run_id} would be outside the runs directory {self.root}.")
        return path

    def _existing_run_dir(self, run_id: object) -> Path:
        path = self.run_dir(run_id)
        if not path.is_dir():
            raise RunNotFound(f"No saved run {run_id} in {self.root}.")
        if not (path / RUN_FILE).exists():
            raise StoreError(f"{path} has no {RUN_FILE}: the run was cut off before its "
                             "first save was complete.")
        return path

    def _file(self, run_dir: Path, name: str) -> Path:
        """A file of a run, refusing a symbolic link (it could point anywhere)."""
        path = run_dir / name
        if path.is_symlink():
            raise InvalidRunId(f"{path} is a symbolic link; refusing to follow it.")
        return path

    def _run_lock(self, run_id: str) -> _RunLock:
        with self._lock:
            lock = self._run_locks.get(run_id)
            if lock is None:
                lock = self._run_locks[run_id] = _RunLock(self._lock_path(run_id))
            return lock

    def _lock_path(self, run_id: str) -> Path:
        return self.root / run_id / LOCK_FILE

    def _state(self, run_id: str) -> _SaveState:
        with self._lock:
            return self._states.setdefault(run_id, _SaveState())

    def _run_ids(self) -> Iterator[str]:
        for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
            if is_valid_run_id(entry.name) and entry.is_dir(follow_symlinks=False):
                yield entry.name

    # Saving ----------------------------------------------------------------------------

    def save_progress(self, run: RecordedRun, *, epoch_end: bool = False) -> None:
        """Save what the run has done so far: config, history, status, and its latest weights.

        Call it from the training thread with `epoch_end=True` right after an epoch's
        snapshot: the model then holds exactly that epoch's weights and may be saved
        in full. From any other thread, or before the first epoch, only metadata and
        history are written, and, once the run is done, its final model.
        """
        run_dir = self.run_dir(run.run_id)
        with self._run_lock(run.run_id):
            started = time.perf_counter()
            # Read inside the lock: the last writer always writes the newest state.
            record = run.record()
            progress, snapshot = record.progress, record.snapshot
            state = self._state(run.run_id)
            run_dir.mkdir(exist_ok=True)
            if record.trained_here:
                self._track_live(run_dir, progress.status.value)
            if not state.config_written:
                config = {"model": record.model_config.to_dict(),
                          "train": record.train_config.to_dict()}
                atomic_write_json(self._file(run_dir, CONFIG_FILE), config)
                state.config_written = True
            if snapshot is not None and snapshot.epoch > max(state.model_epoch,
                                                             state.weights_epoch):
                self._save_weights(record, run_dir, state, snapshot, epoch_end)
            if progress.status.is_done and snapshot is not None and (
                state.model_epoch < snapshot.epoch
            ):
                # Ended after a weights-only epoch: the final model in full.
                self._save_model(record, run_dir, state, snapshot)
            self._write_history(run_dir, progress)
            state.save_seconds += time.perf_counter() - started
            meta = self._meta(record, run_dir, state)
            atomic_write_json(self._file(run_dir, RUN_FILE), meta)

    def _save_weights(self, record: RunRecord, run_dir: Path, state: _SaveState,
                      snapshot: Snapshot, epoch_end: bool) -> None:
        """A newer epoch to keep: the whole model when it is cheap enough, else its weights."""
        progress = record.progress
        if progress.status.is_done or snapshot.epoch == 1:
            full = True
        elif epoch_end:
            last_epoch = progress.history[-1].seconds if progress.history else 0.0
            cost = state.model_save_seconds
            full = cost is not None and cost <= MODEL_SAVE_BUDGET * last_epoch
        else:
            full = False
        if full and (epoch_end or progress.status.is_done):
            self._save_model(record, run_dir, state, snapshot)
        else:
            self._save_weights_file(run_dir, state, snapshot)

    def _save_model(self, record: RunRecord, run_dir: Path, state: _SaveState,
                    snapshot: Snapshot) -> None:
        started = time.perf_counter()
        path = self._file(run_dir, MODEL_FILE)
        if record.progress.status == JobStatus.FAILED or record.model is None:
            # Fit may have died mid-epoch: the last snapshot is the last good state.
            atomic_save_model(_model_with(record.model_config, snapshot.weights), path)
        else:
            # At an epoch's end or after the run, the live model holds the snapshot's weights.
            atomic_save_model(record.model, path)
        state.model_save_seconds = time.perf_counter() - started
        state.model_epoch = snapshot.epoch
        if state.weights_epoch:
            remove_quietly(run_dir / WEIGHTS_FILE)
            state.weights_epoch = 0

    def _save_weights_file(self, run_dir: Path, state: _SaveState, snapshot: Snapshot) -> None:
        arrays: dict[str, Any] = {f"w{index:03d}": w for index, w in enumerate(snapshot.weights)}
        arrays["epoch"] = np.int64(snapshot.epoch)
        atomic_write(self._file(run_dir, WEIGHTS_FILE), lambda file: np.savez(file, **arrays))
        state.weights_epoch = snapshot.epoch

    def _write_history(self, run_dir: Path, progress: JobProgress) -> None:
        rows = [{key: _json_number(value) for key, value in row.items()}
                for row in progress.history_rows()]
        atomic_write_json(self._file(run_dir, HISTORY_JSON), rows)
        self._write_history_csv(run_dir, rows)

    def _write_history_csv(self, run_dir: Path, rows: list[dict]) -> None:
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=HISTORY_FIELDS, lineterminator="\n",
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows({key: "" if value is None else value for key, value in row.items()}
                         for row in rows)
        atomic_write_text(self._file(run_dir, HISTORY_CSV), text.getvalue())

    def _meta(self, record: RunRecord, run_dir: Path, state: _SaveState) -> dict:
        previous = self._read_meta_quietly(run_dir)
        progress = record.progress
        meta = {
            "format": FORMAT_VERSION,
            "id": record.run_id,
            "name": previous.get("name"),  # set by rename(); kept across saves
            "status": progress.status.value,
            "created": record.created_at,
            "created_iso": format_time(record.created_at, iso=True),
            "updated": time.time(),
            "epochs": record.train_config.epochs,
            "epochs_completed": len(progress.history),
            "elapsed_seconds": progress.elapsed_seconds,
            "seconds_per_epoch": progress.seconds_per_epoch,
            "test_loss": _json_number(progress.test_loss),
            "test_accuracy": _json_number(progress.test_accuracy),
            "error": progress.error,
            "model_epoch": state.model_epoch,
            "weights_epoch": state.weights_epoch,
            "model_save_seconds": state.model_save_seconds,
            "save_seconds": state.save_seconds,
            "owner": record.owner.id,
            "owner_name": record.owner.name,
            "data_source": record.data_source,
            "data_is_sample": record.data_is_sample,
            "train_images": record.train_images,
            "test_images": record.test_images,
            "versions": library_versions(),
            "process": this_process(),
        }
        if progress.status.is_done:
            meta["ended"] = previous.get("ended") or time.time()
        return meta

    def _read_meta_quietly(self, run_dir: Path) -> dict:
        try:
            meta = json.loads((run_dir / RUN_FILE).read_text())
        except (OSError, ValueError):
            return {}
        return meta if isinstance(meta, dict) else {}

    @staticmethod
    def _track_live(run_dir: Path, status: str) -> None:
        with _LIVE_LOCK:
            if status in ACTIVE_STATUSES:
                _LIVE.add(run_dir.resolve())
            else:
                _LIVE.discard(run_dir.resolve())

    # Start-up recovery ---------------------------------------------------------------------

    def mark_interrupted(self) -> list[str]:
        """Mark runs left "running"/"queued" by a process that is gone as "interrupted".

        Runs of this process that are still training, and runs of another live
        process (a `python -m mnist_core train` beside the server), are left alone.
        Returns the ids marked.
        """
        return [run_id for run_id in self._run_ids() if self.interrupt_if_orphaned(run_id)]

    def interrupt_if_orphaned(self, run_id: str) -> bool:
        """Mark one run "interrupted" if it is active on disk but its trainer is gone."""
        run_dir = self.root / run_id
        with self._run_lock(run_id):
            try:
                meta = self._read_json(run_dir, RUN_FILE)
            except StoreError:
                return False  # unreadable: list_runs shows why
            if not isinstance(meta, dict) or meta.get("status") not in ACTIVE_STATUSES:
                return False
            with _LIVE_LOCK:
                live_here = run_dir.resolve() in _LIVE
            if live_here or self.alive(run_id, meta):
                return False
            meta["interrupted_from"] = meta["status"]
            meta["status"] = INTERRUPTED
            meta["interrupted_at"] = time.time()
            meta["ended"] = meta.get("updated") or meta["interrupted_at"]
            try:
                history = self._read_json(run_dir, HISTORY_JSON)
                meta["epochs_completed"] = len(history) if isinstance(history, list) else 0
                if isinstance(history, list):
                    # The table is written just after the JSON: a kill between the
                    # two leaves it an epoch short.
                    self._write_history_csv(run_dir, history)
            except StoreError:
                pass
            atomic_write_json(self._file(run_dir, RUN_FILE), meta)
            for leftover in run_dir.glob(f"{TEMP_PREFIX}*"):  # from writes cut off
                remove_quietly(leftover)
        self.interrupted.append(run_id)
        return True

    # Reading -------------------------------------------------------------------------------

    def _read_json(self, run_dir: Path, name: str) -> Any:
        path = self._file(run_dir, name)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise StoreError(f"{path} is missing.") from error
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise StoreError(f"{path} could not be read: {error}") from error

    def exists(self, run_id: object) -> bool:
        try:
            self._existing_run_dir(run_id)
        except StoreError:
            return False
        return True

    def load(self, run_id: str) -> StoredRun:
        """The run's metadata, configuration and history (RunNotFound, StoreError if unreadable)."""
        run_dir = self._existing_run_dir(run_id)
        meta = self._read_json(run_dir, RUN_FILE)
        config = self._read_json(run_dir, CONFIG_FILE)
        history = self._read_json(run_dir, HISTORY_JSON)
        if not isinstance(meta, dict) or not isinstance(history, list):
            raise StoreError(f"Run {run_id}: run.json or history.json has the wrong shape.")
        try:
            model_config = ModelConfig(**config["model"])
            train_config = TrainConfig(**config["train"])
        except (KeyError, TypeError, ValueError) as error:
            raise StoreError(f"Run {run_id}: {run_dir / CONFIG_FILE} is not usable: {error}") \
                from error
        return StoredRun(run_id, run_dir, meta, model_config, train_config, tuple(history))

    def list_runs(self) -> list[RunSummary]:
        """Every saved run, newest first; unreadable ones too, with the reason in `problem`.

        A run still "queued" or "running" whose process has died since the store was
        opened (a command-line training killed beside the server) is marked
        "interrupted" on the way, unless the store only reads.
        """
        summaries = []
        for run_id in self._run_ids():
            try:
                stored = self.load(run_id)
                if (self.recover and stored.status in ACTIVE_STATUSES
                        and self.interrupt_if_orphaned(run_id)):
                    stored = self.load(run_id)
                summaries.append(stored.summary())
            except StoreError as error:
                summaries.append(RunSummary(run_id, None, "unreadable", None, None,
                                            problem=str(error)))
        return sorted(summaries, key=lambda s: s.created or 0.0, reverse=True)

    def model_path(self, run_id: str) -> Path:
        """The run's model file, written from the newer weights first if need be."""
        run_dir = self._existing_run_dir(run_id)
        with self._run_lock(run_id):
            model_file = self._file(run_dir, MODEL_FILE)
            weights_file = self._file(run_dir, WEIGHTS_FILE)
            if weights_file.exists() and (
                not model_file.exists()
                or weights_file.stat().st_mtime_ns >= model_file.stat().st_mtime_ns
            ):
                self._model_from_weights(run_id, run_dir, model_file, weights_file)
            if not model_file.exists():
                raise StoreError(f"Run {run_id} has no saved model: it ended before its first "
                                 "epoch was complete.")
            return model_file

    def _model_from_weights(self, run_id, run_dir, model_file, weights_file) -> None:
        stored = self.load(run_id)
        try:
            with np.load(weights_file, allow_pickle=False) as npz:
                names = sorted(name for name in npz.files if name.startswith("w"))
                weights = [npz[name] for name in names]
            model = _model_with(stored.model_config, weights)
        except Exception as error:  # a foreign or damaged file: say which
            raise StoreError(f"{weights_file} could not be used: {error}") from error
        atomic_save_model(model, model_file)
        remove_quietly(weights_file)

    def load_model(self, run_id: str) -> keras.Model:
        """The run's latest saved model, loaded in safe mode with the 28×28 → 10 checks."""
        from mnist_core.model import load_model  # Keras: only when a model is read

        return load_model(str(self.model_path(run_id)))

    # Changing ------------------------------------------------------------------------------

    def rename(self, run_id: str, name: str | None, *, by: str | None = None) -> None:
        """Give the run a name (empty or None clears it).

        `by`: who asks, refused with NotYourRun unless the run is theirs; None: anyone.
        """
        name = _clean_name(name)
        run_dir = self._existing_run_dir(run_id)
        with self._run_lock(run_id):
            meta = self._read_json(run_dir, RUN_FILE)
            if not isinstance(meta, dict):
                raise StoreError(f"Run {run_id}: run.json has the wrong shape.")
            check_may_change(run_id, owner_in(meta), by, "rename")
            meta["name"] = name
            atomic_write_json(self._file(run_dir, RUN_FILE), meta)

    def delete(self, run_id: str, *, by: str | None = None) -> None:
        """Remove the run for good; refused while it is queued or training.

        `by`: who asks, refused with NotYourRun unless the run is theirs; None: anyone.
        """
        run_dir = self._existing_run_dir(run_id)
        with self._run_lock(run_id):
            meta = self._read_meta_quietly(run_dir)
            check_may_change(run_id, owner_in(meta), by, "delete")
            with _LIVE_LOCK:
                live_here = run_dir.resolve() in _LIVE
            if meta.get("status") in ACTIVE_STATUSES and (
                live_here or self.alive(run_id, meta)
            ):
                raise RunActive(f"Run {run_id} is still {meta['status']}: stop it first.")
            # Renamed away first, so a half-deleted run never shows up in the list.
            doomed = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}deleted-{run_id}-",
                                           dir=self.root))
            os.replace(run_dir, doomed / run_id)
            shutil.rmtree(doomed)
            with self._lock:
                self._states.pop(run_id, None)

    def export(self, run_id: str, dest_dir: str | os.PathLike, *,
               overwrite: bool = False) -> list[Path]:
        """Copy model.keras, config.json and history.csv into `dest_dir` (created if needed).

        Files already there are kept unless `overwrite` (ExportExists names them). The
        copies are the user's files: they get the permissions of any new file (the
        umask's), not the owner-only ones of the run's own files.
        """
        run_dir = self._existing_run_dir(run_id)
        sources = [self.model_path(run_id)]
        sources += [self._file(run_dir, name) for name in EXPORT_FILES[1:]]
        for source in sources:
            if not source.is_file():
                raise StoreError(f"Run {run_id} has no {source.name} to export.")
        dest = Path(dest_dir)
        targets = [dest / source.name for source in sources]
        existing = [target for target in targets if os.path.lexists(target)]
        if existing and not overwrite:
            raise ExportExists(existing)
        dest.mkdir(parents=True, exist_ok=True)
        for source, target in zip(sources, targets):
            copy_atomically(source, target)
        return targets


# --- Helpers -------------------------------------------------------------------------------


def library_versions() -> dict:
    """Versions of the libraries that made the run: tensorflow, keras, numpy, python."""
    versions = {}
    for module, dists in (("tensorflow", ("tensorflow", "tensorflow-cpu")),
                          ("keras", ("keras",)), ("numpy", ("numpy",))):
        loaded = sys.modules.get(module)
        version = getattr(loaded, "__version__", None)
        for dist in dists:
            if version is not None:
                break
            try:
                version = metadata.version(dist)
            except metadata.PackageNotFoundError:
                pass
        versions[module] = version
    versions["python"] = platform.python_version()
    return versions


def _model_with(config: ModelConfig, weights) -> keras.Model:
    """A fresh model of this configuration holding these weights, ready to save.

    Its optimizer is built (fresh slots), so the saved file loads without Keras
    warning that the optimizer's variables do not match.
    """
    from mnist_core.model import build_model  # Keras: only when a model is written

    model = build_model(config)
    model.set_weights(list(weights))
    model.optimizer.build(model.trainable_variables)
    return model


def _clean_name(name: object) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str):
        raise StoreError(f"A run name must be text, not {type(name).__name__}.")
    name = " ".join(name.split())  # no newlines or tabs: it is shown in one line
    if len(name) > MAX_NAME_LENGTH:
        raise StoreError(f"A run name may have at most {MAX_NAME_LENGTH} characters.")
    if any(not character.isprintable() for character in name):
        raise StoreError("A run name may not contain control characters.")
    return name or None


def _json_number(value):
    """Floats that JSON can hold: NaN and infinities become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _shorten(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
