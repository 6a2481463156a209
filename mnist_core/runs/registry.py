"""The server-wide registry of training runs: lookup by id, a fair queue, a concurrency limit.

Trainings compete for the same CPU cores, so at most `max_concurrent` run at
once (default: one per two cores, or `MNIST_MAX_TRAININGS`); later runs wait in
first-come order. Runs outlive the browser session that started them: a reload
or a share link finds them again by id. With a `RunStore`, they also outlive the
server: each run is saved as it trains, and runs a killed server left unfinished
are marked "interrupted" when the store is opened.

With a Ray cluster (`cluster`), trainings are Ray actors instead: Ray's scheduler
is then the queue and the limit, runs of other app servers are found by id (their
actor while they train, the shared store after), and trainings outlive this
server: `shutdown()` leaves them be.

A finished run holds every epoch's weights. Only the most recently used finished
runs stay in memory (`KEEP_FINISHED`); older ones are on disk and come back on
their next use, with their final weights.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict, deque
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_core.data import MnistData
from mnist_core.runs.cluster import ClusterSettings, RayCluster
from mnist_core.runs.errors import StoreError
from mnist_core.runs.owners import Owner, check_may_change
from mnist_core.runs.records import JobStatus, is_valid_run_id
from mnist_core.runs.store import MAX_NAME_LENGTH, RunStore

if TYPE_CHECKING:  # the registry itself never loads TensorFlow: the jobs it is given do
    from mnist_core.config import ModelConfig, TrainConfig
    from mnist_core.runs.train import TrainingJob

MAX_TRAININGS_ENV = "MNIST_MAX_TRAININGS"
KEEP_FINISHED = 8  # finished runs kept in memory, besides those that are queued or training


def default_max_concurrent() -> int:
    """`MNIST_MAX_TRAININGS` if set, else one training per two CPU cores (at least one)."""
    value = os.environ.get(MAX_TRAININGS_ENV)
    if value is None:
        return max(1, (os.cpu_count() or 2) // 2)
    if not value.isdecimal() or int(value) < 1:
        raise ValueError(f"{MAX_TRAININGS_ENV} must be a whole number ≥ 1, got {value!r}.")
    return int(value)


class RunRegistry:
    """All runs of this server; thread-safe."""

    def __init__(self, max_concurrent: int | None = None, store: RunStore | None = None,
                 keep_finished: int = KEEP_FINISHED, cluster: RayCluster | None = None) -> None:
        """`store`: where submitted runs are saved (unless a job brings its own); None: nowhere.

        `cluster`: train on this Ray cluster rather than in threads of this process;
        it needs a store that every worker reaches, opened with `cluster.trainer_alive`.
        """
        if max_concurrent is not None and max_concurrent < 1:
            raise ValueError(f"max_concurrent must be at least 1, got {max_concurrent}.")
        if cluster is not None and store is None:
            raise ValueError("Trainings on a cluster need a run store that its workers reach.")
        self.max_concurrent = max_concurrent or default_max_concurrent()
        self.store = store
        self.cluster = cluster
        self.keep_finished = keep_finished
        # Runs a previous server left unfinished, found when the store was opened.
        self.interrupted: list[str] = list(store.interrupted) if store is not None else []
        self._lock = threading.Lock()
        self._runs: OrderedDict[str, TrainingJob] = OrderedDict()  # least recently used first
        self._queue: deque[TrainingJob] = deque()
        self._running: dict[str, TrainingJob] = {}

    @classmethod
    def on_cluster(cls, settings: ClusterSettings, runs_dir: str | os.PathLike) -> RunRegistry:
        """A registry whose trainings run on a Ray cluster, saved in `runs_dir`: a
        directory at this same path on every worker."""
        cluster = RayCluster(settings, Path(runs_dir).resolve())
        return cls(store=RunStore(cluster.runs_dir, alive=cluster.trainer_alive),
                   cluster=cluster)

    def new_job(self, data: MnistData, model_config: ModelConfig,
                train_config: TrainConfig) -> TrainingJob:
        """A run to `submit()`: trained in this process, or by the cluster if there is one."""
        if self.cluster is None:
            from mnist_core.runs.train import TrainingJob

            return TrainingJob(data, model_config, train_config)
        from mnist_core.runs.remote import RemoteJob

        assert self.store is not None
        return RemoteJob(data, model_config, train_config, self.cluster, self.store)

    def submit(self, job: TrainingJob, owner: Owner) -> None:
        """Register `owner`'s run and start it now, or queue it behind the others.

        A cluster's run goes to Ray at once (ClusterError, in words, if the cluster
        cannot be reached: nothing is saved or started then).
        """
        if job.store is None:
            job.store = self.store
        job.owner = owner  # before its first save: the owner is on disk from the start
        if not job.trains_here:
            self._submit_to_cluster(job)
            return
        with self._lock:
            self._keep(job)
            self._queue.append(job)
            self._start_queued()
        if job.progress().status == JobStatus.QUEUED:
            job.save()  # waiting: on disk as queued (a started run saves itself, in its thread)

    def _submit_to_cluster(self, job: TrainingJob) -> None:
        assert self.cluster is not None, "remote jobs come from new_job() with a cluster"
        self.cluster.connect()  # first: an unreachable cluster leaves nothing behind
        job.save()  # on disk as queued, so that every server finds it while it waits
        try:
            job.start(on_done=self._on_done)
        except Exception:
            job.stop()  # never started: saved as stopped, not left "queued"
            raise
        with self._lock:
            self._keep(job)

    def get(self, run_id: str) -> TrainingJob | None:
        """The run if it is in memory (queued, training, or recently used)."""
        if not is_valid_run_id(run_id):
            return None
        with self._lock:
            job = self._runs.get(run_id)
            if job is not None:
                self._runs.move_to_end(run_id)
            return job

    def restore(self, run_id: str, data: MnistData) -> TrainingJob | None:
        """The run, from memory or else from the store; None if there is no such run.

        Its id is its share key, as for a live run: whoever has the link may view it.
        A run on disk that cannot be read raises StoreError or ModelFileError, whose
        message says why.
        """
        job = self.get(run_id)
        if job is not None or self.store is None or not self.store.exists(run_id):
            return job
        if self.cluster is not None:
            job = self._attach(run_id, data)
            if job is not None:
                return job
        # TensorFlow loads here, when a saved run comes back, not when the registry opens.
        from mnist_core.model import build_model
        from mnist_core.runs.train import TrainingJob

        stored = self.store.load(run_id)
        model = self.store.load_model(run_id) if stored.has_model else build_model(
            stored.model_config)
        job = TrainingJob.restored(data, stored, model)
        job.store = self.store  # saved already; and so it may leave memory again
        with self._lock:
            if run_id not in self._runs:
                self._keep(job)
            return self._runs[run_id]

    def _attach(self, run_id: str, data: MnistData) -> TrainingJob | None:
        """A run the cluster trains for another server (or for this one before a restart),
        followed here through its actor; None when it has no actor (any more)."""
        from mnist_core.runs.remote import RemoteJob

        assert self.cluster is not None and self.store is not None
        stored = self.store.load(run_id)
        if stored.progress().status.is_done:
            return None
        actor = self.cluster.find(run_id)
        if actor is None:
            self.store.interrupt_if_orphaned(run_id)  # unless a local process trains it
            return None
        job = RemoteJob.attached(data, (stored.model_config, stored.train_config), run_id,
                                 stored.created or 0.0, stored.owner, actor, self.cluster,
                                 self.store)
        job.follow(self._on_done)
        with self._lock:
            if run_id not in self._runs:
                self._keep(job)
            return self._runs[run_id]

    def add(self, job: TrainingJob, owner: Owner) -> None:
        """Register `owner`'s run that is already done (an imported model), and save it."""
        if not job.progress().status.is_done:
            raise ValueError("add() takes finished runs; submit() trains new ones.")
        if job.store is None:
            job.store = self.store
        job.owner = owner
        with self._lock:
            self._keep(job)
        job.save()
        if job.store is not None and job.origin:
            name = "".join(c for c in job.origin if c.isprintable())
            try:
                job.store.rename(job.run_id, name[:MAX_NAME_LENGTH])
            except StoreError:  # the name is a courtesy; the run is saved without it
                pass

    def forget(self, run_id: str) -> None:
        """Drop a finished run from memory (after its files were deleted)."""
        with self._lock:
            job = self._runs.get(run_id)
            if job is not None and job.ended():
                del self._runs[run_id]

    def queue_position(self, run_id: str) -> int | None:
        """1 for the next run to start; None when the run is not waiting."""
        with self._lock:
            for position, job in enumerate(self._queue, start=1):
                if job.run_id == run_id:
                    return position
        return None

    def running_count(self) -> int:
        with self._lock:
            return len(self._running)

    def stop(self, run_id: str, *, by: str | None = None) -> None:
        """Stop a running run after its current batch, or take a queued one out of the queue.

        `by`: who asks, refused with NotYourRun unless the run is theirs; None: anyone.
        """
        job = self.get(run_id)
        if job is None:
            return
        check_may_change(run_id, job.owner, by, "stop")
        job.stop()
        with self._lock:
            if job in self._queue:
                self._queue.remove(job)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop this process's trainings and wait for their threads, so none is cut off
        mid-write at exit. A cluster's trainings go on: another server follows them."""
        with self._lock:
            queued, self._queue = list(self._queue), deque()
            running = list(self._running.values())
        for job in queued + running:
            job.stop()
        for job in running:
            job.join(timeout)

    def _start_queued(self) -> None:
        """Start queued runs while slots are free; the caller holds the lock."""
        while self._queue and len(self._running) < self.max_concurrent:
            job = self._queue.popleft()
            if job.progress().status != JobStatus.QUEUED:  # cancelled meanwhile
                continue
            self._running[job.run_id] = job
            job.start(on_done=self._on_done)

    def _on_done(self, job: TrainingJob) -> None:
        with self._lock:
            self._running.pop(job.run_id, None)
            self._start_queued()
            self._let_go_of_old_runs()

    def _keep(self, job: TrainingJob) -> None:
        """Hold a run in memory as the most recently used; the caller holds the lock."""
        self._runs[job.run_id] = job
        self._runs.move_to_end(job.run_id)
        self._let_go_of_old_runs()

    def _let_go_of_old_runs(self) -> None:
        """Drop the least recently used finished runs beyond `keep_finished` from memory.

        Only runs saved in a store: they come back from it on their next use.
        """
        finished = [job for job in self._runs.values()
                    if job.store is not None and job.run_id not in self._running
                    and job.ended()]
        for job in finished[:max(len(finished) - self.keep_finished, 0)]:
            del self._runs[job.run_id]
