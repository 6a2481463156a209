"""How well each model reads drawn digits, with naive and with MNIST-style preparation.

Builds a deterministic set of simulated canvas drawings from MNIST *test* digits
(280×280 RGBA, transparent, ink in alpha; 30–90% of the canvas tall, anywhere on
it, pen 10–30 px, ±15°, anti-aliased: see mnist_core/drawings.py), trains each
model the app offers on the full training set, and prints a table: MNIST test
accuracy, accuracy on the drawings with a naive whole-canvas resize and with the
app's preparation, how often the "not sure" rule speaks up, the accuracy on the
drawings that get the thick-pen hint and on the rest, and the median preparation
time. Targets: dense ≥ 95% on drawings, best model ≥ 98%, CNN ≥ 99.0%
on the MNIST test set.

    MNIST_DATA=../shared/data/mnist.npz python bench/drawn_digits.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from mnist_core.confidence import judge, nudged_copies  # noqa: E402
from mnist_core.config import ModelConfig, TrainConfig  # noqa: E402
from mnist_core.data import load_mnist  # noqa: E402
from mnist_core.drawings import draw_scribble, drawn_test_set  # noqa: E402
from mnist_core.predict import predict_proba  # noqa: E402
from mnist_core.preprocess import naive_resize, preprocess_canvas, preprocess_steps  # noqa: E402
from mnist_core.train import TrainingJob  # noqa: E402

MODELS = {  # name: the network, its epochs' argument, its learning-rate schedule
    "dense (classic)": (ModelConfig(), "dense_epochs", "constant"),
    "cnn": (ModelConfig(architecture="cnn", dropout=0.5, optimizer="adam"), "cnn_epochs",
            "constant"),
    "cnn + augmentation": (
        ModelConfig(architecture="cnn", dropout=0.5, optimizer="adam", augment=True),
        "cnn_epochs", "constant",
    ),
    "deeper cnn + augmentation, cosine decay": (
        ModelConfig(architecture="deep_cnn", dropout=0.5, optimizer="adam", augment=True),
        "cnn_epochs", "cosine",
    ),
}


def sure_share(model, inputs: np.ndarray) -> float:
    """Share of inputs the confidence rule calls sure."""
    return float(np.mean([judge(predict_proba(model, nudged_copies(x))).sure for x in inputs]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawings", type=int, default=1000)
    parser.add_argument("--scribbles", type=int, default=300)
    parser.add_argument("--dense-epochs", type=int, default=5)
    parser.add_argument("--cnn-epochs", type=int, default=12)
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args()

    data = load_mnist()
    print(f"Data: {data.source}")
    canvases, labels = drawn_test_set(data.x_test, data.y_test, args.drawings, seed=1)
    rng = np.random.default_rng(7)
    scribbles = [draw_scribble(rng) for _ in range(args.scribbles)]

    timings = []
    steps = []
    for canvas in canvases:
        start = time.perf_counter()
        steps.append(preprocess_steps(canvas))
        timings.append(time.perf_counter() - start)
    mnist_style = np.array([s.centred for s in steps])
    thick_pen = np.array([s.thick_pen for s in steps])
    naive = np.array([naive_resize(canvas) for canvas in canvases])
    scribble_inputs = np.array([x for x in map(preprocess_canvas, scribbles) if x is not None])
    print(f"Median preparation time per drawing: {statistics.median(timings) * 1000:.2f} ms")

    print(f"\n{args.drawings} simulated drawings, {len(scribble_inputs)} scribbles; "
          f"the thick-pen hint on {thick_pen.mean():.1%} of the drawings\n")
    print("| model | MNIST test | drawings, naive resize | drawings, MNIST-style "
          "| 'sure' on drawings | 'sure' on scribbles | with the thick-pen hint | without "
          "| s/epoch |")
    print("|---|---|---|---|---|---|---|---|---|", flush=True)
    for name in args.models:  # each row as soon as its model is trained
        config, epochs_arg, lr_schedule = MODELS[name]
        epochs = getattr(args, epochs_arg)
        job = TrainingJob(data, config, TrainConfig(epochs=epochs, lr_schedule=lr_schedule))
        job.run()
        progress = job.progress()
        model = job.model
        naive_accuracy = (predict_proba(model, naive).argmax(1) == labels).mean()
        right = predict_proba(model, mnist_style).argmax(1) == labels
        print(f"| {name}, {epochs} epochs | {progress.test_accuracy:.2%} | {naive_accuracy:.1%} "
              f"| {right.mean():.1%} | {sure_share(model, mnist_style):.0%} "
              f"| {sure_share(model, scribble_inputs):.0%} | {right[thick_pen].mean():.1%} "
              f"| {right[~thick_pen].mean():.1%} | {progress.seconds_per_epoch:.0f} |",
              flush=True)

if __name__ == "__main__":
    main()
