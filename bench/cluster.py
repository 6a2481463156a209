"""Trainings on a Ray cluster on this machine: what going through Ray costs, and what a
second node adds.

**Overhead.** The default model, 3 epochs on all 60,000 images, submitted through the
app's own registry, in process and through Ray (a local head with 2 CPUs; each
training asks for 2), interleaved, `--repeats` times. Timed as a user meets it: from
pressing Start (`submit`) until the registry reports the run finished. Target: the
median through Ray at most 10% over the median in process.

**Two nodes.** `--trainings` K short trainings (the default model, 2 epochs on 12,000
images) submitted at once, each asking for 1 CPU: first on a head with 1 CPU, then
with a second node of 1 CPU joined (two `ray start` processes on this machine's two
cores). Timed from the first submit until the last run is finished.

    MNIST_DATA=../shared/data/mnist.npz .venv/bin/python bench/cluster.py [--repeats 3] \\
        [--trainings 4] [--json bench/results/cluster.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ray_head.py

from mnist_core.config import ModelConfig, TrainConfig  # noqa: E402
from mnist_core.data import load_mnist  # noqa: E402
from mnist_core.runs.cluster import ClusterSettings  # noqa: E402
from mnist_core.runs.owners import Owner  # noqa: E402
from mnist_core.runs.records import JobStatus  # noqa: E402
from mnist_core.runs.registry import RunRegistry  # noqa: E402
from mnist_core.runs.store import RunStore  # noqa: E402
from tests.ray_head import ray_head, ray_node  # noqa: E402

OVERHEAD_TRAINING = TrainConfig(epochs=3)
SHORT_TRAINING = TrainConfig(epochs=2, train_size=12_000)
TARGET_OVERHEAD = 0.10
OWNER = Owner("bench", "bench")
LAST_TRAINING = 0.0


def registry(runs_dir: str, cluster_address: str | None = None, cpus: float = 2) -> RunRegistry:
    """What an app server makes at start-up, in process or on the cluster."""
    if cluster_address is None:
        return RunRegistry(max_concurrent=1, store=RunStore(runs_dir))
    return RunRegistry.on_cluster(ClusterSettings(cluster_address, cpus=cpus), runs_dir)


def train_all(runs: RunRegistry, data, train_config: TrainConfig, count: int = 1) -> float:
    """Seconds from the first submit until every run is seen finished, as the page sees it.

    `LAST_TRAINING` keeps the last run's own training time (its `elapsed_seconds`:
    from the moment its trainer began, data preparation, fit and test included).
    """
    global LAST_TRAINING
    started = time.perf_counter()
    jobs = []
    for _ in range(count):
        job = runs.new_job(data, ModelConfig(), train_config)
        runs.submit(job, OWNER)
        jobs.append(job)
    while not all(job.progress().status.is_done for job in jobs):
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    for job in jobs:
        assert job.progress().status == JobStatus.FINISHED, job.progress().error
    LAST_TRAINING = jobs[-1].progress().elapsed_seconds
    return elapsed


def disconnect() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()


def overhead(data, repeats: int) -> dict:
    local, remote, local_training, remote_training = [], [], [], []
    with ray_head(cpus=2) as head, tempfile.TemporaryDirectory() as runs_dir:
        in_process = registry(runs_dir)
        on_ray = registry(runs_dir, head.client_address, cpus=2)
        train_all(on_ray, data, TrainConfig(epochs=1, train_size=1_000))  # connect, warm
        train_all(in_process, data, TrainConfig(epochs=1, train_size=1_000))
        for repeat in range(repeats):
            local.append(train_all(in_process, data, OVERHEAD_TRAINING))
            local_training.append(LAST_TRAINING)
            time.sleep(6)  # the last actor leaves and frees its CPUs
            remote.append(train_all(on_ray, data, OVERHEAD_TRAINING))
            remote_training.append(LAST_TRAINING)
            print(f"repeat {repeat + 1}: in process {local[-1]:.1f} s (training "
                  f"{local_training[-1]:.1f} s), through Ray {remote[-1]:.1f} s (training "
                  f"{remote_training[-1]:.1f} s)", flush=True)
        in_process.shutdown()
        disconnect()
    ratio = statistics.median(remote) / statistics.median(local)
    training_ratio = statistics.median(remote_training) / statistics.median(local_training)
    return {"in_process_s": local, "ray_s": remote, "ratio": ratio,
            "in_process_training_s": local_training, "ray_training_s": remote_training,
            "training_ratio": training_ratio}


def two_nodes(data, trainings: int) -> dict:
    times = {}
    with ray_head(cpus=1) as head, tempfile.TemporaryDirectory() as runs_dir:
        on_ray = registry(runs_dir, head.client_address, cpus=1)
        train_all(on_ray, data, TrainConfig(epochs=1, train_size=1_000))  # connect, warm
        time.sleep(6)
        times["1 node"] = train_all(on_ray, data, SHORT_TRAINING, trainings)
        print(f"{trainings} trainings, 1 node: {times['1 node']:.1f} s", flush=True)
        time.sleep(6)
        with ray_node(head, cpus=1):
            ray = on_ray.cluster.connect()
            while ray.cluster_resources().get("CPU", 0) < 2:
                time.sleep(0.5)
            times["2 nodes"] = train_all(on_ray, data, SHORT_TRAINING, trainings)
            print(f"{trainings} trainings, 2 nodes: {times['2 nodes']:.1f} s", flush=True)
        disconnect()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trainings", type=int, default=4)
    parser.add_argument("--json", type=Path, help="write the results here as well")
    args = parser.parse_args()

    data = load_mnist()
    results = {"machine": f"{os.cpu_count()} cores", "overhead": overhead(data, args.repeats),
               "two_nodes": two_nodes(data, args.trainings), "trainings": args.trainings}
    ratio = results["overhead"]["ratio"]
    verdict = "met" if ratio <= 1 + TARGET_OVERHEAD else "NOT met"
    print(f"\nThrough Ray / in process, Start to finished (median of {args.repeats}): "
          f"{ratio:.3f} (target ≤ {1 + TARGET_OVERHEAD:.2f}: {verdict})")
    print(f"The training alone, once its trainer began: "
          f"{results['overhead']['training_ratio']:.3f}")
    nodes = results["two_nodes"]
    print(f"{args.trainings} short trainings: 1 node {nodes['1 node']:.1f} s, "
          f"2 nodes {nodes['2 nodes']:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
