"""A real Ray cluster on 127.0.0.1 for tests and benchmarks: `ray start` processes,
each stopped by its PID (and its process group: the workers it started) at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

RAY = str(Path(sys.executable).parent / "ray")
START_SECONDS = 60


@dataclass(frozen=True)
class RayHead:
    client_address: str  # ray://127.0.0.1:port, what app servers use
    gcs_address: str  # 127.0.0.1:port, what other nodes join
    pid: int
    log: Path
    process: subprocess.Popen


def stop(head: RayHead) -> None:
    """Stop the head now (and its workers with it), as a crash of its machine would."""
    _stop(head.process)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def _start(args: list[str], log: Path, env: dict | None) -> subprocess.Popen:
    # GRPC_ENABLE_FORK_SUPPORT=0: the head's Ray Client server forks a process per
    # connection while gRPC threads run; with gRPC's fork handlers on, that process
    # can die as it starts (ray-project/ray#63202): 2 of 10 fresh heads here, 0 of 10 off.
    environment = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0",
                   "GRPC_ENABLE_FORK_SUPPORT": "0", **(env or {})}
    with log.open("ab") as out:
        return subprocess.Popen([RAY, "start", "--block", *args], stdout=out,
                                stderr=subprocess.STDOUT, env=environment,
                                start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the `ray start` process's group, then SIGKILL to what is left (Ray
    would drain for up to 30 s: nothing here needs it)."""
    for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def ray_head(cpus: int = 2, env: dict | None = None) -> Iterator[RayHead]:
    """A head node with `cpus` CPUs, its GCS and Ray Client server on free local ports."""
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths
    gcs_port, client_port = _free_port(), _free_port()
    log = temp / "head.log"
    proc = _start(["--head", "--num-cpus", str(cpus), "--node-ip-address", "127.0.0.1",
                   "--port", str(gcs_port), "--ray-client-server-port", str(client_port),
                   "--include-dashboard=false", "--disable-usage-stats",
                   "--temp-dir", str(temp)], log, env)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _listening(client_port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"The Ray head did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield RayHead(f"ray://127.0.0.1:{client_port}", f"127.0.0.1:{gcs_port}", proc.pid, log,
                      proc)
    finally:
        _stop(proc)


@contextmanager
def ray_node(head: RayHead, cpus: int, env: dict | None = None) -> Iterator[int]:
    """A second node joined to `head` with `cpus` CPUs; its `ray start` PID."""
    log = head.log.with_name(f"node-{time.monotonic_ns()}.log")
    proc = _start(["--address", head.gcs_address, "--num-cpus", str(cpus),
                   "--node-ip-address", "127.0.0.1", "--disable-usage-stats"], log, env)
    try:
        yield proc.pid
    finally:
        _stop(proc)
