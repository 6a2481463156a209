"""Drawing latency: mouse-up → the prediction in the browser, and the server's own share.

Browser: one server, one browser context. Quick-trains a model on the Draw page
("Training images" 5,000, "Quick train (1 epoch)"), then draws `--strokes` one-stroke
digits (1s, 7s and 0s of several sizes, anywhere on the canvas), clearing the canvas
between them, and times each from the mouse-up event to the Prediction metric
appearing, inside the page (see browser.stroke_latency). The time includes the
canvas component sending the drawing, the fragment's rerun on the server and the
browser rendering the answer; the browser shares the 2 cores with the server.

Server: in this process, the Draw page's work per stroke on `--drawings` simulated
drawings (mnist_core.drawings: 280×280 canvases of MNIST test digits):
`preprocess_canvas`, and `read_digit` (the input and 7 nudged copies, made with scipy,
in one direct, eager model call) on the default dense model trained one epoch on 5,000
images; for comparison, the same copies through `model.predict_on_batch`, which runs a
compiled function (not what the app does).

Targets: browser p50 ≤ 400 ms; server (preparation + model call) p50 ≤ 5 ms.

    MNIST_DATA=../shared/data/mnist.npz .venv/bin/python bench/drawing_latency.py
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time

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


def server_latencies(count: int) -> tuple[list[float], list[float], list[float]]:
    """Seconds per drawing for preprocess_canvas, for read_digit, and for comparison the
    same batch of nudged copies through `model.predict_on_batch` (a compiled function)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from mnist_core.confidence import nudged_copies
    from mnist_core.config import ModelConfig, TrainConfig
    from mnist_core.data import load_mnist
    from mnist_core.drawings import drawn_test_set
    from mnist_core.predict import read_digit
    from mnist_core.preprocess import preprocess_canvas
    from mnist_core.train import TrainingJob

    data = load_mnist()
    job = TrainingJob(data, ModelConfig(), TrainConfig(epochs=1, train_size=5000))
    job.run()
    canvases, _ = drawn_test_set(data.x_test, data.y_test, count, seed=3)
    model = job.model

    def compiled(x):
        copies = nudged_copies(x)
        return model.predict_on_batch(copies.reshape(len(copies), *model.input_shape[1:]))

    x = preprocess_canvas(canvases[0])
    read_digit(model, x), compiled(x)  # warm-up: the first calls trace
    prepare_s, model_s, compiled_s = [], [], []
    for canvas in canvases:
        started = time.perf_counter()
        x = preprocess_canvas(canvas)
        prepared = time.perf_counter()
        read_digit(model, x)
        read = time.perf_counter()
        compiled(x)
        prepare_s.append(prepared - started)
        model_s.append(read - prepared)
        compiled_s.append(time.perf_counter() - read)
    return prepare_s, model_s, compiled_s


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}" if seconds >= 0.1 else f"{seconds * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=30)
    parser.add_argument("--drawings", type=int, default=200)
    args = parser.parse_args()
    print(f"Machine: {machine()}")

    latencies, right, training = browser_latencies(args.strokes)
    print(f"\nQuick train (5,000 images, 1 epoch), from the click until the canvas is offered: "
          f"{training:.1f} s; {right}/{len(latencies)} strokes read as the digit drawn.")
    prepare_s, model_s, compiled_s = server_latencies(args.drawings)
    total_s = [a + b for a, b in zip(prepare_s, model_s)]

    print("\n| measured | n | p50 (ms) | p95 (ms) | max (ms) | target | met |")
    print("|---|---|---|---|---|---|---|")
    rows = [
        ("browser: mouse-up → Prediction shown", latencies, BROWSER_TARGET_S),
        ("server: preprocess_canvas", prepare_s, None),
        ("server: read_digit (8 nudged copies, one model call)", model_s, None),
        ("server: both", total_s, SERVER_TARGET_S),
        ("for comparison, not in the app: the copies through predict_on_batch",
         compiled_s, None),
    ]
    for name, values, target in rows:
        p50 = statistics.median(values)
        met = "" if target is None else ("yes" if p50 <= target else "**no**")
        goal = "" if target is None else f"p50 ≤ {ms(target)} ms"
        print(f"| {name} | {len(values)} | {ms(p50)} | {ms(percentile(values, 95))} "
              f"| {ms(max(values))} | {goal} | {met} |")


if __name__ == "__main__":
    main()
