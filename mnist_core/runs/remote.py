"""A run trained by a Ray actor: the actor on its worker, and what an app server sees of it.

The actor (`TrainingActor`) loads MNIST on its worker, trains with the same
`TrainingJob` code and saves the run into the shared run store as it goes.

Any app server sees such a run through a `RemoteJob`: its progress, batch history
and per-epoch weights, copied from the actor by calls that never hold up a page
for long. The actor is detached, so a training outlives the app server that
started it; another server (or the same one restarted) finds it by its name. Once
the training is over the actor leaves, and the run is read from the store.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from typing import Any, Callable

from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.data import MnistData, load_mnist
from mnist_core.runs.cluster import RayCluster
from mnist_core.runs.errors import StoreError
from mnist_core.runs.owners import Owner
from mnist_core.runs.records import JobProgress, JobStatus, Snapshot
from mnist_core.runs.store import RunStore
from mnist_core.runs.train import TrainingJob

POLL_SECONDS = 0.5  # how old a run's copied state may get before it is asked again
WAIT_SECONDS = 0.2  # the longest a page waits for an answer from the actor
LINGER_SECONDS = 5  # an ended actor stays this long, so that followers get its final state


class TrainingActor:
    """Runs on a Ray worker: trains one run with `TrainingJob` and saves it to the store."""

    def __init__(self, run_id: str, created_at: float, model_config: ModelConfig,
                 train_config: TrainConfig, owner: Owner, runs_dir: str, cpus: float) -> None:
        _use_cpus(cpus)
        store = RunStore(runs_dir, recover=False)
        self.job = TrainingJob(load_mnist(), model_config, train_config, store=store)
        self.job.run_id, self.job.created_at, self.job.owner = run_id, created_at, owner
        self.job.start(on_done=self._leave_later)

    def state(self, batches_seen: int, snapshots_seen: int) -> tuple[JobProgress,
                                                                      tuple[Snapshot, ...]]:
        """The progress (batch records after the first `batches_seen` only) and new snapshots."""
        progress = self.job.progress()
        progress = dataclasses.replace(progress,
                                       batch_history=progress.batch_history[batches_seen:])
        return progress, self.job.snapshots()[snapshots_seen:]

    def stop(self) -> None:
        self.job.stop()

    def pid(self) -> int:
        """The worker process's id (tests kill it to see a worker die)."""
        return os.getpid()

    def leave(self) -> None:
        import ray

        ray.actor.exit_actor()

    def _leave_later(self, job: TrainingJob) -> None:
        """Free the worker's resources a while after the run ended (it is in the store)."""
        import ray

        me = ray.get_runtime_context().current_actor
        threading.Timer(LINGER_SECONDS, lambda: me.leave.remote()).start()


def _use_cpus(cpus: float) -> None:
    """Let TensorFlow use the CPUs Ray gave this training, not every core of the node."""
    import tensorflow as tf

    threads = max(int(cpus), 1)
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


class RemoteJob(TrainingJob):
    """A run that a Ray actor trains, as this app server sees it.

    Reads (`progress`, `snapshots`) return the state last copied from the actor and
    ask for a newer one when it is older than `POLL_SECONDS`, waiting at most
    `WAIT_SECONDS`. While Ray has not started the actor the run stays "queued".
    When the actor is gone, the run is read from the store; if the store still
    says it trains, its worker died and the run is marked interrupted, its
    completed epochs kept.
    """

    trains_here = False

    def __init__(self, data: MnistData, model_config: ModelConfig, train_config: TrainConfig,
                 cluster: RayCluster, store: RunStore) -> None:
        super().__init__(data, model_config, train_config, store=store)
        self.cluster = cluster
        self._actor: Any = None
        self._pending: Any = None  # the state call in flight
        self._asked_at = 0.0
        self._progress = JobProgress(JobStatus.QUEUED, epochs=train_config.epochs)
        self._started = False  # the actor has answered: from then on, it saves the run
        self._on_done: Callable[[TrainingJob], None] | None = None
        self._poll_lock = threading.Lock()

    @classmethod
    def attached(cls, data: MnistData, stored_config: tuple[ModelConfig, TrainConfig],
                 run_id: str, created_at: float, owner: Owner, actor: Any,
                 cluster: RayCluster, store: RunStore) -> RemoteJob:
        """A run another server (or this one, before a restart) started: its actor found."""
        job = cls(data, *stored_config, cluster=cluster, store=store)
        job.run_id, job.created_at, job.owner = run_id, created_at, owner
        job._actor, job._started = actor, True
        return job

    def start(self, on_done: Callable[[TrainingJob], None] | None = None) -> None:
        """Hand the training to the cluster; ClusterError if it cannot be reached."""
        self._on_done = on_done
        ray = self.cluster.connect()
        actor_class = ray.remote(TrainingActor).options(**self.cluster.actor_options(self.run_id))
        self._actor = actor_class.remote(self.run_id, self.created_at, self.model_config,
                                         self.train_config, self.owner,
                                         str(self.cluster.runs_dir), self.cluster.settings.cpus)

    def follow(self, on_done: Callable[[TrainingJob], None] | None) -> None:
        self._on_done = on_done

    def stop(self) -> None:
        """Ask the actor to stop after its batch; a run still waiting never starts."""
        self._stop_requested.set()
        if not self._started and self._progress.status == JobStatus.QUEUED:
            if self._actor is not None:
                try:
                    self.cluster.connect().kill(self._actor, no_restart=True)
                except Exception as error:  # unreachable: it cannot start there either
                    self.problem = _cluster_problem(self.cluster, error)
            self._end(dataclasses.replace(self._progress, status=JobStatus.STOPPED))
            self.save()
            return
        try:
            self._actor.stop.remote()
        except Exception as error:  # the cluster is unreachable: say so; nothing is lost
            self.problem = _cluster_problem(self.cluster, error)

    def join(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._progress.status.is_done:
            if deadline is not None and time.monotonic() > deadline:
                return
            self._poll(force=True)
            time.sleep(0.1)

    def progress(self) -> JobProgress:
        self._poll()
        with self._lock:
            return dataclasses.replace(self._progress, batch_history=tuple(self._batch_history))

    def snapshots(self) -> tuple[Snapshot, ...]:
        self._poll()
        return super().snapshots()

    def latest_snapshot(self) -> Snapshot | None:
        self._poll()
        return super().latest_snapshot()

    def save(self, epoch_end: bool = False) -> None:
        """Saved by this server only until the actor starts: from then on, it saves itself."""
        if not self._started:
            super().save(epoch_end)

    # Copying the actor's state ---------------------------------------------------------------

    def _poll(self, force: bool = False) -> None:
        """Copy the actor's newer state, if it answers within WAIT_SECONDS."""
        if self._progress.status.is_done or self._actor is None:
            return
        if not self._poll_lock.acquire(blocking=False):
            return  # another thread is asking; it will bring the news
        try:
            self._ask(force)
        finally:
            self._poll_lock.release()

    def _ask(self, force: bool) -> None:
        try:
            ray = self.cluster.connect()
            if self._pending is None:
                if not force and time.monotonic() - self._asked_at < POLL_SECONDS:
                    return
                self._asked_at = time.monotonic()
                self._pending = self._actor.state.remote(len(self._batch_history),
                                                         len(self._snapshots))
            ready, _ = ray.wait([self._pending], timeout=WAIT_SECONDS)
            if not ready:
                return
            call, self._pending = self._pending, None
            progress, snapshots = ray.get(call)
        except Exception as error:
            self._pending = None
            if _actor_died(error):
                self._actor_gone()
            else:  # the head unreachable: keep the last state, say why, ask again later
                self.problem = _cluster_problem(self.cluster, error)
                self.cluster.disconnect()
            return
        self.problem = None
        self._started = True
        self._copy(progress, snapshots)

    def _copy(self, progress: JobProgress, snapshots: tuple[Snapshot, ...]) -> None:
        first_weights = not self._snapshots and snapshots
        with self._lock:
            self._batch_history.extend(progress.batch_history)
            self._snapshots.extend(snapshots)
            self._epoch, self._status = progress.epoch, progress.status
        if first_weights:  # build the predictor now, not on the first drawing
            threading.Thread(target=self.predictor.warm_up, args=(snapshots[0],),
                             daemon=True).start()
        if progress.status.is_done:
            self._end(progress)
        else:
            self._progress = progress

    def _actor_gone(self) -> None:
        """The actor left (its run ended) or died (its worker was killed): ask the store.

        Until Ray has noted the death, the store may still take the run for alive:
        the run then stays as it is, and the next poll asks again.
        """
        assert self.store is not None, "a remote run is always saved in the shared store"
        self.store.interrupt_if_orphaned(self.run_id)  # unless it ended, or is not dead yet
        try:
            stored = self.store.load(self.run_id)
        except StoreError as error:
            self._end(dataclasses.replace(self._progress, status=JobStatus.FAILED,
                                          error=f"The run's worker is gone and its files "
                                                f"cannot be read: {error}"))
            return
        progress = stored.progress()
        if not progress.status.is_done:
            return
        if progress.status == JobStatus.INTERRUPTED:
            progress = dataclasses.replace(progress, error=(
                f"The Ray worker training this run stopped: its {len(progress.history)} "
                "completed epoch(s) are kept."))
        if stored.has_model and len(progress.history) > len(self._snapshots):
            weights = self.store.load_model(self.run_id).get_weights()
            with self._lock:
                self._snapshots.append(Snapshot(len(progress.history), tuple(weights)))
        self._end(progress)

    def _end(self, progress: JobProgress) -> None:
        with self._lock:
            self._progress = dataclasses.replace(progress, batch_history=())
            self._status = progress.status
        if self._snapshots:
            self.model.set_weights(list(self._snapshots[-1].weights))
        if self._on_done is not None:
            self._on_done(self)


def _actor_died(error: Exception) -> bool:
    from ray.exceptions import RayActorError

    return isinstance(error, RayActorError)


def _cluster_problem(cluster: RayCluster, error: Exception) -> str:
    return (f"The Ray cluster at {cluster.address} does not answer ({type(error).__name__}): "
            "this page shows the run as it was last seen; its completed epochs are saved.")
