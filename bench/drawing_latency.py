"""Drawing latency: mouse-up → the prediction in the browser, and the server's own share.

Browser: one server, one browser context. Quick-trains a model on the Draw page
("Training images" 5,000, "Quick train (1 epoch)"), then draws `--strokes` one-stroke
digits (1s, 7s and 0s of several sizes, anywhere on the canvas), clearing the canvas
between them, and times each from the mouse-up event to the Prediction metric
appearing, inside the page (see browser.stroke_latency). The time includes the
canvas component sending the drawing, the fragment's rerun on the server and the
browser rendering the answer; the browser shares the 2 cores with the server.

Server: in this process, the Draw page's work per stroke on `--drawings` simulated
drawings (mnist_core.drawings: 280×280 canvases of MNIST test digits), step by step:
`preprocess_canvas`, then `read_digit_at` as the page calls it (the nudged copies, and
one reading of them by the run's predictor: the default dense model, trained one epoch
on 5,000 images, read in numpy), the drawings `--gap` seconds apart. `--server-only`
skips the browser.

Targets: browser p50 ≤ 400 ms; server (preparation + model call) p50 ≤ 5 ms.

    MNIST_DATA=../shared/data/mnist.npz .venv/bin/python bench/drawing_latency.py
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time

import numpy as np
from browser import (
    Server,
    chromium,
    clear_canvas,
    describe,
    install_latency_probe,
    machine,
    metric_value,
    new_page,
    one,
    one_with_flag,
    percentile,
    quick_train,
    seven,
    stroke_latency,
    zero,
)

BROWSER_TARGET_S = 0.400
SERVER_TARGET_S = 0.005
STEP_PREPARE = "preprocess_canvas"
STEP_READ = "read_digit_at (nudged copies, one model call, verdict)"
STEP_COPIES = "of which the nudged copies"
STEP_ALL = "preprocess_canvas + read_digit_at"
# (digit, shape) at (x, y, size) on the 280×280 canvas: large, medium, small, off-centre.
SHAPES = [("1", one), ("7", seven), ("0", zero), ("1", one_with_flag)]
PLACES = [(50, 30, 220), (60, 60, 160), (15, 15, 100), (170, 160, 100), (100, 20, 140)]


def browser_latencies(strokes: int) -> tuple[list[float], int, float]:
    """(seconds per stroke, how many were read right, seconds the quick training took)."""
    with chromium() as browser, Server() as server:
        print(describe(browser))
        server.wait_healthy()
        page = new_page(browser)
        _, training = quick_train(page, server.url)
        install_latency_probe(page)
        latencies, right = [], 0
        drawings = itertools.islice(
            ((digit, shape(*place)[0]) for place in itertools.cycle(PLACES)
             for digit, shape in SHAPES), strokes)
        for number, (digit, stroke) in enumerate(drawings):
            if number:
                clear_canvas(page)
            latencies.append(stroke_latency(page, stroke))
            right += metric_value(page, "Prediction") == digit
        page.context.close()
    return latencies, right, training


def server_latencies(count: int, gap_s: float) -> dict[str, list[float]]:
    """Seconds per drawing for each step of the Draw page's work on one stroke, the
    drawings `gap_s` apart."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from mnist_core.confidence import nudged_copies
    from mnist_core.config import ModelConfig, TrainConfig
    from mnist_core.data import load_mnist
    from mnist_core.drawings import drawn_test_set
    from mnist_core.predict import read_digit_at
    from mnist_core.preprocess import preprocess_canvas
    from mnist_core.runs.train import TrainingJob

    data = load_mnist()
    job = TrainingJob(data, ModelConfig(), TrainConfig(epochs=1, train_size=5000))
    job.run()
    canvases, _ = drawn_test_set(data.x_test, data.y_test, count, seed=3)
    predictor, snapshot = job.predictor, job.latest_snapshot()
    read_digit_at(predictor, snapshot, np.zeros((28, 28), np.float32))  # warm-up
    steps: dict[str, list[float]] = {STEP_PREPARE: [], STEP_READ: [], STEP_COPIES: []}
    for canvas in canvases:
        time.sleep(gap_s)
        started = time.perf_counter()
        x = preprocess_canvas(canvas)
        prepared = time.perf_counter()
        read_digit_at(predictor, snapshot, x)
        read = time.perf_counter()
        nudged_copies(x)  # again, alone: the share of read_digit_at that is not the model
        steps[STEP_PREPARE].append(prepared - started)
        steps[STEP_READ].append(read - prepared)
        steps[STEP_COPIES].append(time.perf_counter() - read)
    steps[STEP_ALL] = [prepare + read for prepare, read in
                       zip(steps[STEP_PREPARE], steps[STEP_READ])]
    return steps


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}" if seconds >= 0.1 else f"{seconds * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=30)
    parser.add_argument("--drawings", type=int, default=200)
    parser.add_argument("--server-only", action="store_true", help="skip the browser")
    parser.add_argument("--gap", type=float, default=0.1,
                        help="seconds between drawings on the server side (0: back to back)")
    args = parser.parse_args()
    print(f"Machine: {machine()}")

    rows = []
    if not args.server_only:
        latencies, right, training = browser_latencies(args.strokes)
        print(f"\nQuick train (5,000 images, 1 epoch), from the click until the canvas is "
              f"offered: {training:.1f} s; {right}/{len(latencies)} strokes read as the digit "
              "drawn.")
        rows.append(("browser: mouse-up → Prediction shown", latencies, BROWSER_TARGET_S))
    for step, values in server_latencies(args.drawings, args.gap).items():
        rows.append((f"server: {step}", values, SERVER_TARGET_S if step == STEP_ALL else None))

    print("\n| measured | n | p50 (ms) | p95 (ms) | max (ms) | target | met |")
    print("|---|---|---|---|---|---|---|")
    for name, values, target in rows:
        p50 = statistics.median(values)
        met = "" if target is None else ("yes" if p50 <= target else "**no**")
        goal = "" if target is None else f"p50 ≤ {ms(target)} ms"
        print(f"| {name} | {len(values)} | {ms(p50)} | {ms(percentile(values, 95))} "
              f"| {ms(max(values))} | {goal} | {met} |")


if __name__ == "__main__":
    main()
