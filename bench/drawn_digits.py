"""How well each model reads drawn digits, with naive and with MNIST-style preparation.

Builds a deterministic set of simulated canvas drawings from MNIST *test* digits
(280×280 RGBA, transparent, ink in alpha; 30–90% of the canvas tall, anywhere on
it, pen 10–30 px, ±15°, anti-aliased: see mnist_core/drawings.py), trains each
model the app offers on the full training set, and prints a table: MNIST test
accuracy, accuracy on the drawings with a naive whole-canvas resize and with the
app's preparation, accuracy on the hand-drawn digits of mnist_core/stroke_digits.py
(every style of every digit drawn as mouse strokes, not by the MNIST-skeleton
simulator: a model tuned to the simulator must read these too), how often the
"not sure" rule speaks up, the accuracy on the drawings that get the thick-pen hint
and on the rest, and the median preparation time.

The dense row is the tutorial's model, the app's default: it has no target of its
own any more, its drawings accuracy is reported to show what the tutorial's network
does with drawings. Targets: best model ≥ 98% on drawings, CNN ≥ 99.0% on the MNIST
test set. `--reader` adds a row for the ready reader shipped in models/reader.keras
(loaded, not trained; see mnist_core/reader.py).

    MNIST_DATA=../shared/data/mnist.npz python bench/drawn_digits.py
    MNIST_DATA=../shared/data/mnist.npz python bench/drawn_digits.py --reader --models
        (the ready reader alone, in a minute)
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from mnist_core.confidence import judge, nudged_copies
from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.data import load_mnist
from mnist_core.drawings import draw_scribble, drawn_test_set
from mnist_core.predict import predict_proba
from mnist_core.preprocess import naive_resize, preprocess_canvas, preprocess_steps
from mnist_core.reader import load_reader, read_info, reader_path
from mnist_core.runs.train import TrainingJob
from mnist_core.stroke_digits import hand_drawn_set

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


class Inputs:
    """Everything the models are asked to read, prepared once."""

    def __init__(self, data, drawings: int, scribbles: int) -> None:
        canvases, self.labels = drawn_test_set(data.x_test, data.y_test, drawings, seed=1)
        rng = np.random.default_rng(7)
        scribble_canvases = [draw_scribble(rng) for _ in range(scribbles)]
        timings, steps = [], []
        for canvas in canvases:
            start = time.perf_counter()
            steps.append(preprocess_steps(canvas))
            timings.append(time.perf_counter() - start)
        self.preparation_seconds = statistics.median(timings)
        self.mnist_style = np.array([s.centred for s in steps])
        self.thick_pen = np.array([s.thick_pen for s in steps])
        self.naive = np.array([naive_resize(canvas) for canvas in canvases])
        self.scribbles = np.array(
            [x for x in map(preprocess_canvas, scribble_canvases) if x is not None])
        hand_canvases, self.hand_labels = hand_drawn_set()
        self.hand_drawn = np.array([preprocess_canvas(canvas) for canvas in hand_canvases])
        self.x_test, self.y_test = data.x_test.astype(np.float32) / 255, data.y_test


def row(name: str, model, inputs: Inputs, test_accuracy: float | None = None,
        seconds_per_epoch: float | None = None) -> str:
    """One line of the table for `model`; MNIST's test accuracy measured here if not given."""
    if test_accuracy is None:
        test_accuracy = float(np.mean(
            predict_proba(model, inputs.x_test).argmax(1) == inputs.y_test))
    naive_accuracy = (predict_proba(model, inputs.naive).argmax(1) == inputs.labels).mean()
    right = predict_proba(model, inputs.mnist_style).argmax(1) == inputs.labels
    hand = (predict_proba(model, inputs.hand_drawn).argmax(1) == inputs.hand_labels).mean()
    thick = inputs.thick_pen
    per_epoch = "—" if seconds_per_epoch is None else f"{seconds_per_epoch:.0f}"
    return (f"| {name} | {test_accuracy:.2%} | {naive_accuracy:.1%} | {right.mean():.1%} "
            f"| {hand:.1%} | {sure_share(model, inputs.mnist_style):.0%} "
            f"| {sure_share(model, inputs.scribbles):.0%} | {right[thick].mean():.1%} "
            f"| {right[~thick].mean():.1%} | {per_epoch} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawings", type=int, default=1000)
    parser.add_argument("--scribbles", type=int, default=300)
    parser.add_argument("--dense-epochs", type=int, default=5)
    parser.add_argument("--cnn-epochs", type=int, default=12)
    parser.add_argument("--train-size", type=int, default=None,
                        help="train on the first N training images only (for a quick try)")
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS),
                        help="the models to train (none: give --models alone)")
    parser.add_argument("--reader", action="store_true",
                        help="add a row for the shipped models/reader.keras (no training)")
    args = parser.parse_args()

    data = load_mnist()
    print(f"Data: {data.source}")
    inputs = Inputs(data, args.drawings, args.scribbles)
    print(f"Median preparation time per drawing: {inputs.preparation_seconds * 1000:.2f} ms")

    print(f"\n{args.drawings} simulated drawings, {len(inputs.hand_labels)} hand-drawn digits "
          f"(mnist_core/stroke_digits.py), {len(inputs.scribbles)} scribbles; "
          f"the thick-pen hint on {inputs.thick_pen.mean():.1%} of the drawings\n")
    print("| model | MNIST test | drawings, naive resize | drawings, MNIST-style "
          "| hand-drawn (strokes) | 'sure' on drawings | 'sure' on scribbles "
          "| with the thick-pen hint | without | s/epoch |")
    print("|---|---|---|---|---|---|---|---|---|---|", flush=True)
    notes = []
    if args.reader:
        if reader_path().exists():
            try:
                made = read_info().made
                trained = (f", trained {made['training_minutes']} min, {made['date']}"
                           if "training_minutes" in made else "")
            except (OSError, ValueError, KeyError):
                trained = ""
            print(row(f"ready reader (models/reader.keras{trained})", load_reader(), inputs),
                  flush=True)
        else:
            notes.append(f"No ready reader row: {reader_path()} is missing "
                         "(python -m mnist_core reader makes it).")
    for name in args.models:  # each row as soon as its model is trained
        config, epochs_arg, lr_schedule = MODELS[name]
        epochs = getattr(args, epochs_arg)
        job = TrainingJob(data, config, TrainConfig(epochs=epochs, lr_schedule=lr_schedule,
                                                    train_size=args.train_size))
        job.run()
        progress = job.progress()
        if progress.test_accuracy is None:
            print(f"| {name}, {epochs} epochs | failed: {progress.error} |", flush=True)
            continue
        print(row(f"{name}, {epochs} epochs", job.model, inputs, progress.test_accuracy,
                  progress.seconds_per_epoch), flush=True)
    for note in notes:
        print(f"\n{note}")


if __name__ == "__main__":
    main()
