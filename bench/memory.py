"""Server memory: the Streamlit server's RSS as sessions train models.

One server (its RSS is VmRSS from /proc/PID/status, summed over the process and any
child processes), one Chromium. Measured after the server starts, after the first
session has loaded the Home page (the dataset is loaded once per server then), after
1 session trained a model (Draw page, "Training images" 5,000, "Quick train (1
epoch)"), and after each further session up to `--sessions` (one at a time; every
browser context stays open, so no session is closed). Each row is read once the
training is over and the page idle; the last column is that session's quick training,
from the click until the page offers the canvas (the first one imports TensorFlow).
Target: ≤ 1.5 GB with 8 sessions. The dataset should be held once: the uint8 MNIST
arrays are 55 MB, so the growth per extra session should stay well below that plus
its float copy.

    MNIST_DATA=../shared/data/mnist.npz .venv/bin/python bench/memory.py [--sessions 8]

With `--finished-runs N`, no browser: this process holds the server's run registry
(with a store in a temporary directory) and trains N runs of the default model one
after another (5 epochs on 1,000 images each), building each run's predictor as the
Draw page does; its RSS is read after the 1st run and every 10th. It measures what
a long-lived server keeps of finished runs.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

from browser import Server, chromium, describe, machine, new_page, open_app, quick_train

TARGET_MB = 1500
DATASET_MB = (70_000 * 28 * 28 + 70_000) / 1e6  # uint8 images and labels
SETTLE_S = 2  # let a finished training's threads and buffers settle before reading RSS


def finished_runs(count: int) -> None:
    """RSS of a registry that has run `count` trainings, as the server holds them."""
    from mnist_core.config import TrainConfig
    from mnist_core.data import load_mnist
    from mnist_core.runs.owners import Owner
    from mnist_core.runs.registry import KEEP_FINISHED, RunRegistry
    from mnist_core.runs.store import RunStore
    from mnist_core.runs.train import TrainingJob

    data = load_mnist()
    with tempfile.TemporaryDirectory() as runs_dir:
        registry = RunRegistry(max_concurrent=1, store=RunStore(runs_dir))
        print(f"Finished runs kept in memory: {KEEP_FINISHED}\n")
        print("| finished runs | RSS (MB) |\n|---|---|")
        print(f"| 0 (data loaded) | {_own_rss_mb():.0f} |")
        for number in range(1, count + 1):
            job = TrainingJob(data, train_config=TrainConfig(epochs=5, train_size=1_000))
            registry.submit(job, Owner("bench"))
            job.join()
            job.predictor.softmax(job.latest_snapshot(), data.x_test[:8] / 255)
            if number == 1 or number % 10 == 0:
                gc.collect()
                print(f"| {number} | {_own_rss_mb():.0f} |", flush=True)
        registry.shutdown()


def _own_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--finished-runs", type=int, default=0,
                        help="measure this process's registry after N trainings instead")
    args = parser.parse_args()
    print(f"Machine: {machine()}")
    if args.finished_runs:
        finished_runs(args.finished_runs)
        return

    rows = []
    with chromium() as browser, Server() as server:
        print(describe(browser) + "\n")
        server.wait_healthy()
        time.sleep(SETTLE_S)
        rows.append(("server started, no session", server.rss_mb(), server.has_tensorflow(), None))
        pages = [new_page(browser)]
        open_app(pages[0], server.url, "", "MNIST Playground")
        time.sleep(SETTLE_S)
        rows.append(("1 session, Home page (dataset loaded)", server.rss_mb(),
                     server.has_tensorflow(), None))
        for number in range(1, args.sessions + 1):
            page = pages[0] if number == 1 else new_page(browser)
            if number > 1:
                pages.append(page)
            _, seconds = quick_train(page, server.url)
            time.sleep(SETTLE_S)
            rows.append((f"{number} session(s), each trained a model", server.rss_mb(),
                         server.has_tensorflow(), seconds))
        processes = len(server.pids())
        for page in pages:
            page.context.close()

    print(f"Server processes (the server and its children): {processes}\n")
    print("| after | server RSS (MB) | change (MB) | TensorFlow loaded | its quick train (s) |")
    print("|---|---|---|---|---|")
    previous = None
    for name, rss, tf, seconds in rows:
        change = "" if previous is None else f"{rss - previous:+.0f}"
        took = "" if seconds is None else f"{seconds:.1f}"
        print(f"| {name} | {rss:.0f} | {change} | {'yes' if tf else 'no'} | {took} |")
        previous = rss
    one_trained, last = rows[2][1], rows[-1][1]
    per_session = (last - one_trained) / max(args.sessions - 1, 1)
    print(f"\nGrowth per extra trained session: {per_session:.0f} MB "
          f"(the uint8 dataset alone is {DATASET_MB:.0f} MB).")
    verdict = "met" if last <= TARGET_MB else "NOT met"
    print(f"Target: ≤ {TARGET_MB} MB with {args.sessions} sessions: {last:.0f} MB, {verdict}.")


if __name__ == "__main__":
    main()
