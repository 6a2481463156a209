"""Trainings on a real local Ray cluster (`ray start` on 127.0.0.1), through the registry
as the app uses it: a run trained by an actor, stopped, found by a second server,
outliving the first, waiting for resources, and surviving its worker's death."""

from __future__ import annotations

import os
import signal
import socket
import time

import numpy as np
import pytest

from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.data import prepare
from mnist_core.runs.cluster import ClusterError, ClusterSettings, RayCluster
from mnist_core.runs.liveness import process_alive
from mnist_core.runs.owners import NotYourRun, Owner
from mnist_core.runs.records import JobStatus
from mnist_core.runs.registry import RunRegistry
from mnist_core.runs.remote import RemoteJob
from mnist_core.runs.train import TrainingJob
from tests.ray_head import ray_head, stop

ALICE, BOB = Owner("user:test alice", "Alice"), Owner("user:test bob", "Bob")
SHORT = TrainConfig(epochs=2, train_size=6_000)  # seconds per epoch on two cores
LONG = TrainConfig(epochs=40, train_size=6_000)  # long enough to act on while it trains


@pytest.fixture(scope="module")
def head():
    with ray_head(cpus=2) as started:
        yield started


def server(runs_dir, address: str) -> RunRegistry:
    """What one app server makes at start-up in cluster mode (ui.server.runs)."""
    return RunRegistry.on_cluster(ClusterSettings(address), runs_dir)


def wait_for(condition, seconds: float = 120.0, what: str = "the condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"Waited {seconds:.0f} s for {what}.")


def submit(registry: RunRegistry, mnist, train_config: TrainConfig,
           owner: Owner = ALICE) -> TrainingJob:
    job = registry.new_job(mnist, ModelConfig(), train_config)
    registry.submit(job, owner)
    return job


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("MNIST_RAY_ADDRESS", raising=False)
    assert ClusterSettings.from_environment() is None
    monkeypatch.setenv("MNIST_RAY_ADDRESS", "ray://head:10001")
    monkeypatch.setenv("MNIST_RAY_CPUS", "4")
    assert ClusterSettings.from_environment() == ClusterSettings("ray://head:10001", 4.0, None)
    monkeypatch.setenv("MNIST_RAY_GPUS", "1")
    assert ClusterSettings.from_environment().gpus == 1.0
    monkeypatch.setenv("MNIST_RAY_CPUS", "many")
    with pytest.raises(ValueError, match="MNIST_RAY_CPUS must be a number ≥ 0.5, got 'many'"):
        ClusterSettings.from_environment()


def test_an_unreachable_cluster_says_so_and_leaves_nothing_behind(tmp_path, mnist):
    port = closed_port()
    registry = server(tmp_path, f"ray://127.0.0.1:{port}")
    job = registry.new_job(mnist, ModelConfig(), SHORT)
    with pytest.raises(ClusterError, match=f"The Ray cluster at ray://127.0.0.1:{port} "
                                           "cannot be reached.*Nothing was started"):
        registry.submit(job, ALICE)
    assert registry.get(job.run_id) is None
    assert registry.store.list_runs() == []


def test_a_connection_that_dies_as_it_starts_is_tried_again(monkeypatch, head):
    """Ray Client's per-connection process can die as it starts (a race in gRPC): the
    app tries again, pausing longer each time, and says so in words when all fail."""
    import ray

    from mnist_core.runs import cluster

    real_init, attempts, pauses = ray.init, [], []

    def init_dying(times):
        def init(*args, **kwargs):
            attempts.append(kwargs["address"])
            if len(attempts) <= times:
                raise ConnectionAbortedError("Initialization failure from server")
            return real_init(*args, **kwargs)
        return init

    monkeypatch.setattr(cluster.time, "sleep", pauses.append)
    ray_cluster = RayCluster(ClusterSettings(head.client_address), head.log.parent)
    ray_cluster.disconnect()
    monkeypatch.setattr(ray, "init", init_dying(cluster.CONNECT_ATTEMPTS - 1))
    assert ray_cluster.connect().is_initialized()
    assert attempts == [head.client_address] * cluster.CONNECT_ATTEMPTS
    assert pauses == sorted(pauses) and pauses[0] > 0

    ray_cluster.disconnect()
    attempts.clear()
    monkeypatch.setattr(ray, "init", init_dying(cluster.CONNECT_ATTEMPTS))
    with pytest.raises(ClusterError, match="could not start a connection for this app"):
        ray_cluster.connect()
    assert len(attempts) == cluster.CONNECT_ATTEMPTS


def test_a_training_through_ray_gives_the_same_run_as_in_process(head, tmp_path, mnist):
    registry = server(tmp_path, head.client_address)
    job = submit(registry, mnist, SHORT)
    assert isinstance(job, RemoteJob) and registry.get(job.run_id) is job
    job.join(timeout=180)
    progress = job.progress()
    assert progress.status == JobStatus.FINISHED, progress.error

    local = TrainingJob(mnist, train_config=TrainConfig(epochs=1, train_size=6_000))
    local.run()
    expected = local.progress()
    assert len(progress.history) == 2 and progress.batches_per_epoch == expected.batches_per_epoch
    assert [r.epoch for r in progress.batch_history] == sorted(
        [1] * expected.batches_per_epoch + [2] * expected.batches_per_epoch)
    assert progress.history[1].val_accuracy > 0.8 and progress.test_accuracy > 0.8
    assert [s.epoch for s in job.snapshots()] == [1, 2]

    # Its weights read digits here, as a run of this server's would.
    x_test, y_test = prepare(mnist.x_test[:500], mnist.y_test[:500])
    softmax = job.predictor.softmax(job.latest_snapshot(), x_test)
    assert (softmax.argmax(1) == y_test.argmax(1)).mean() > 0.8

    # The worker saved it, in its own process, under Alice's name.
    stored = registry.store.load(job.run_id)
    assert stored.status == "finished" and stored.owner == ALICE
    assert stored.meta["process"]["pid"] != os.getpid()
    assert np.allclose(registry.store.load_model(job.run_id).get_weights()[0],
                       job.latest_snapshot().weights[0])


def test_stop_reaches_the_actor_and_a_run_waits_for_free_cpus(head, tmp_path, mnist):
    registry = server(tmp_path, head.client_address)
    first = submit(registry, mnist, LONG)
    wait_for(lambda: first.progress().history, what="the first run's first epoch")
    # The head has 2 CPUs and each training asks for 2: Ray keeps the second waiting.
    second = submit(registry, mnist, SHORT, owner=BOB)
    time.sleep(3)
    assert second.progress().status == JobStatus.QUEUED
    assert registry.store.load(second.run_id).status == "queued"

    with pytest.raises(NotYourRun):
        registry.stop(first.run_id, by=BOB.id)
    registry.stop(first.run_id, by=ALICE.id)
    first.join(timeout=60)
    stopped = first.progress()
    assert stopped.status == JobStatus.STOPPED and 1 <= len(stopped.history) < LONG.epochs
    assert registry.store.load(first.run_id).status == "stopped"

    second.join(timeout=180)  # started once the first one's CPUs were free
    assert second.progress().status == JobStatus.FINISHED


def test_a_queued_run_stopped_before_it_starts_never_starts(head, tmp_path, mnist):
    registry = server(tmp_path, head.client_address)
    blocker = submit(registry, mnist, LONG)
    waiting = submit(registry, mnist, SHORT)
    wait_for(lambda: blocker.progress().status == JobStatus.RUNNING, what="the first run")
    registry.stop(waiting.run_id)
    assert waiting.progress().status == JobStatus.STOPPED
    assert registry.store.load(waiting.run_id).status == "stopped"
    registry.stop(blocker.run_id)
    blocker.join(timeout=60)
    time.sleep(2)
    assert registry.store.load(waiting.run_id).status == "stopped"
    assert registry.cluster.find(waiting.run_id) is None


def test_another_server_finds_a_running_run_and_it_outlives_the_first(head, tmp_path, mnist):
    first_server = server(tmp_path, head.client_address)
    job = submit(first_server, mnist, TrainConfig(epochs=15, train_size=6_000))
    wait_for(lambda: job.progress().status == JobStatus.RUNNING, what="the run to start")
    first_server.shutdown()  # the first server stops; the run goes on

    second_server = server(tmp_path, head.client_address)
    assert second_server.store.interrupted == []
    found = second_server.restore(job.run_id, mnist)
    assert isinstance(found, RemoteJob) and found is not job
    assert found.owner == ALICE
    assert found.progress().status == JobStatus.RUNNING
    with pytest.raises(NotYourRun):
        second_server.stop(job.run_id, by=BOB.id)
    found.join(timeout=180)
    progress = found.progress()
    assert progress.status == JobStatus.FINISHED and len(progress.history) == 15
    assert [s.epoch for s in found.snapshots()] == list(range(1, 16))
    assert len(progress.batch_history) == 15 * progress.batches_per_epoch


def test_a_killed_worker_marks_the_run_interrupted_with_its_epochs_kept(head, tmp_path,
                                                                        mnist):
    registry = server(tmp_path, head.client_address)
    job = submit(registry, mnist, LONG)
    wait_for(lambda: len(job.progress().history) >= 2, what="two epochs")
    actor = registry.cluster.find(job.run_id)
    ray = registry.cluster.connect()
    os.kill(ray.get(actor.pid.remote()), signal.SIGKILL)

    wait_for(lambda: job.progress().status.is_done, seconds=60, what="the run to end")
    progress = job.progress()
    assert progress.status == JobStatus.INTERRUPTED
    assert "The Ray worker training this run stopped" in progress.error
    kept = len(progress.history)
    assert kept >= 2 and f"its {kept} completed epoch(s) are kept" in progress.error
    stored = registry.store.load(job.run_id)
    assert stored.status == "interrupted" and stored.meta["epochs_completed"] == kept
    assert registry.store.load_model(job.run_id) is not None
    # The app goes on: the run opens again, and a new training starts.
    assert registry.restore(job.run_id, mnist).progress().status == JobStatus.INTERRUPTED
    again = submit(registry, mnist, SHORT)
    again.join(timeout=180)
    assert again.progress().status == JobStatus.FINISHED


def closed_port() -> int:
    """A local port with nothing listening on it (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_training_asks_for_a_gpu_only_where_the_cluster_has_one(head, tmp_path):
    cpu_only = RayCluster(ClusterSettings(head.client_address, cpus=2), tmp_path)
    options = cpu_only.actor_options("Run00001")
    assert (options["num_cpus"], options["num_gpus"]) == (2, 0)
    assert options["name"] == "Run00001" and options["lifetime"] == "detached"
    asked = RayCluster(ClusterSettings(head.client_address, cpus=1, gpus=1), tmp_path)
    assert (asked.actor_options("Run00001")["num_cpus"],
            asked.actor_options("Run00001")["num_gpus"]) == (1, 1)


def test_a_head_that_goes_away_is_said_and_the_saved_epochs_stay(tmp_path, mnist):
    """Its own head, stopped mid-training: the page is told, the run keeps what it saved,
    and once a cluster answers again the run shows as interrupted with those epochs."""
    with ray_head(cpus=2) as own_head:
        registry = server(tmp_path, own_head.client_address)
        job = submit(registry, mnist, LONG)
        wait_for(lambda: len(job.progress().history) >= 2, what="two epochs")
        stop(own_head)
        problem = wait_for(lambda: job.progress() and job.problem, seconds=60,
                           what="the lost head to be noticed")
    assert problem.startswith(f"The Ray cluster at {own_head.client_address} does not answer")
    assert "its completed epochs are saved" in problem
    assert job.progress().status == JobStatus.RUNNING  # as last seen: not made up
    worker = registry.store.load(job.run_id).meta["process"]
    wait_for(lambda: not process_alive(worker), seconds=60, what="the worker to end too")
    saved = registry.store.load(job.run_id)  # what the worker saved until it ended
    assert len(saved.history) >= 2 and saved.status == "running"

    with ray_head(cpus=2) as new_head:  # the cluster is back, without that training
        back = server(tmp_path, new_head.client_address)
        assert back.store.interrupted == [job.run_id]
        restored = back.restore(job.run_id, mnist)
        assert restored.progress().status == JobStatus.INTERRUPTED
        assert len(restored.progress().history) == len(saved.history)
