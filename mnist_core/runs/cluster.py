"""Trainings on a Ray cluster: where it is, how to reach it, how to find a run's actor.

The app chooses this with `MNIST_RAY_ADDRESS` (`auto`, a head's `host:port`, or
`ray://host:port` for Ray Client); unset, trainings stay threads of the app server.
Each run is then an actor named after its run id in the `mnist-playground`
namespace (mnist_core.runs.remote). Ray, not the app, decides when it starts: it
asks for `MNIST_RAY_CPUS` CPUs (and a GPU where the cluster has one) and waits
until a node has them. This module needs no TensorFlow: the app opens it at start-up.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mnist_core.runs.errors import StoreError
from mnist_core.runs.store import trainer_process_alive

ADDRESS_ENV, CPUS_ENV, GPUS_ENV = "MNIST_RAY_ADDRESS", "MNIST_RAY_CPUS", "MNIST_RAY_GPUS"
NAMESPACE = "mnist-playground"
DEFAULT_CPUS = 2  # as the app server's own limit: one training per two cores
CONNECT_SECONDS = 3.0
CONNECT_ATTEMPTS = 5
CONNECT_PAUSE_SECONDS = 1.0  # times the attempt's number: a loaded head gets longer
_DEFAULT_RAY_PORT = 6379
# Ray connects a process to one cluster at a time: which, and a lock to change it.
_CONNECTION_LOCK = threading.Lock()
_connected_to: str | None = None


class ClusterError(StoreError):
    """The Ray cluster cannot be used, so a run can be neither started nor followed
    there; the message says why, in the user's words."""


@dataclasses.dataclass(frozen=True)
class ClusterSettings:
    """Where the cluster is and what each training asks of it."""

    address: str
    cpus: float = DEFAULT_CPUS
    gpus: float | None = None  # None: one when the cluster has GPUs, else none

    @classmethod
    def from_environment(cls) -> ClusterSettings | None:
        """From `MNIST_RAY_ADDRESS`, `MNIST_RAY_CPUS`, `MNIST_RAY_GPUS`; None when unset."""
        address = os.environ.get(ADDRESS_ENV, "").strip()
        if not address:
            return None
        cpus = _number(CPUS_ENV, minimum=0.5)
        return cls(address, DEFAULT_CPUS if cpus is None else cpus, _number(GPUS_ENV, minimum=0))


def _number(name: str, minimum: float) -> float | None:
    """The variable's number, None when unset; ValueError, in words, when it is not one."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if number < minimum:
        raise ValueError(f"{name} must be a number ≥ {minimum:g}, got {value!r}.")
    return number


def _ray() -> Any:
    """The `ray` package, or a message saying how to install it."""
    try:
        import ray
    except ImportError as error:
        raise ClusterError(f"{ADDRESS_ENV} is set, but Ray is not installed here: "
                           "pip install -r requirements-cluster.txt") from error
    return ray


class RayCluster:
    """The app's connection to a Ray cluster: start trainings there, find them by run id."""

    def __init__(self, settings: ClusterSettings, runs_dir: Path) -> None:
        """`runs_dir`: the run store, at this same path on every worker (a shared disk)."""
        self.settings = settings
        self.runs_dir = Path(runs_dir)

    def __repr__(self) -> str:
        return f"RayCluster({self.settings.address!r})"

    @property
    def address(self) -> str:
        return self.settings.address

    def connect(self) -> Any:
        """Ray, connected to the cluster (once per process); ClusterError when it cannot be."""
        global _connected_to
        ray = _ray()
        with _CONNECTION_LOCK:
            if ray.is_initialized():
                if _connected_to == self.address:
                    return ray
                ray.shutdown()  # connected to another cluster (tests, benchmarks)
            _forget_broken_client()
            _check_reachable(self.address)
            # Ray Client waits this long for a lost head before it gives up (default 30 s):
            # a page must not wait that long.
            os.environ.setdefault("RAY_CLIENT_RECONNECT_GRACE_PERIOD", "5")
            for attempt in range(CONNECT_ATTEMPTS):
                try:
                    ray.init(address=self.address, namespace=NAMESPACE, log_to_driver=False,
                             logging_level=logging.ERROR)
                    _connected_to = self.address
                    return ray
                except ConnectionAbortedError:
                    # Ray Client's head process for this connection can die as it starts
                    # (ray-project/ray#63202, a gRPC fork race): a new attempt gets a new one.
                    # In CI, under load, it died three times running: pause longer each time.
                    if attempt + 1 == CONNECT_ATTEMPTS:
                        raise ClusterError(f"The Ray cluster at {self.address} could not "
                                           "start a connection for this app.") from None
                    time.sleep(CONNECT_PAUSE_SECONDS * (attempt + 1))
                except Exception as error:  # Ray raises many kinds; all mean the same here
                    raise ClusterError(f"The Ray cluster at {self.address} cannot be reached: "
                                       f"{type(error).__name__}: {error}") from error
            return ray

    def disconnect(self) -> None:
        """Drop a connection that broke, so that the next `connect()` makes a new one."""
        ray = _ray()
        with _CONNECTION_LOCK:
            if ray.is_initialized():
                ray.shutdown()

    def actor_options(self, run_id: str) -> dict[str, Any]:
        """How a run's actor is made: named after the run, detached (it outlives the app
        server), never restarted (a rerun would start over), and what it asks for."""
        ray = self.connect()
        gpus = self.settings.gpus
        if gpus is None:
            gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
        return dict(name=run_id, namespace=NAMESPACE, lifetime="detached",
                    num_cpus=self.settings.cpus, num_gpus=gpus, max_restarts=0,
                    max_concurrency=4)  # answers progress calls while its training runs

    def find(self, run_id: str) -> Any | None:
        """The run's actor if it is still there (waiting, training, or just ended)."""
        ray = self.connect()
        try:
            return ray.get_actor(run_id, namespace=NAMESPACE)
        except ValueError:  # no such actor: never made, ended, or killed
            return None

    def trainer_alive(self, run_id: str, meta: dict) -> bool:
        """For the store: an active run's trainer is its actor (or a local process).

        When the cluster cannot be asked, the run counts as alive: a run is never
        marked interrupted only because the head was unreachable for a moment.
        """
        if trainer_process_alive(run_id, meta):
            return True
        try:
            return self.find(run_id) is not None
        except ClusterError:
            return True


def _forget_broken_client() -> None:
    """Let go of a Ray Client connection that broke (its head went away): Ray counts it
    as connected still, and refuses a new one until it is let go of."""
    from ray.util import client

    if client.num_connected_contexts() > 0 and not client.ray.is_connected():
        client.ray.disconnect()


def _check_reachable(address: str) -> None:
    """Fail fast, in words, when nothing answers at the address (Ray itself waits minutes)."""
    host, port = _host_and_port(address)
    if host is None:
        return  # "auto": Ray finds the local cluster, or says there is none
    try:
        socket.create_connection((host, port), timeout=CONNECT_SECONDS).close()
    except OSError as error:
        raise ClusterError(
            f"The Ray cluster at {address} cannot be reached ({error.strerror or error}). "
            "Nothing was started: try again once the cluster is up.") from error


def _host_and_port(address: str) -> tuple[str | None, int]:
    if address == "auto":
        return None, 0
    parts = urlsplit(address if "://" in address else f"//{address}")
    try:
        port = parts.port or _DEFAULT_RAY_PORT
    except ValueError as error:
        raise ClusterError(f"{ADDRESS_ENV}={address!r} is not host:port, ray://host:port "
                           "or auto.") from error
    if not parts.hostname:
        raise ClusterError(f"{ADDRESS_ENV}={address!r} is not host:port, ray://host:port "
                           "or auto.")
    return parts.hostname, port


