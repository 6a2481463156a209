"""Training throughput of the default model: against the machine's limit, and what speeds it up.

1. The machine's float32 matrix-multiply rate, measured in TensorFlow on the model's
   own first-layer shape (batch × 784 @ 784 × 512) and on a large square product.
2. The FLOPs of one epoch of the default model (Dense 784→512→10): forward and
   backward passes on the training part, forward on the validation part.
3. The same training done several ways, interleaved over `--repeats` so machine
   noise hits all alike: seconds per epoch (the first epoch, which traces and
   compiles, left out), samples per second, the share of the measured matmul rate,
   the seconds for all the epochs (the first included: what a user waits), and the
   accuracies, to show whether the results changed.

    MNIST_DATA=../shared/data/mnist.npz python bench/training_throughput.py --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass
from typing import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# isort: off
import mnist_core  # noqa: F401  (its TensorFlow settings must come first)
import keras
import tensorflow as tf
# isort: on

from mnist_core.config import ModelConfig
from mnist_core.data import load_mnist, prepare
from mnist_core.model import build_model

VALIDATION_SPLIT = 0.1


def matmul_rate(m: int, k: int, n: int, repeats: int = 50) -> float:
    """FLOP/s of float32 (m×k) @ (k×n) products in a compiled loop, best of 5."""
    a = tf.random.uniform((m, k))
    b = tf.random.uniform((k, n))

    @tf.function
    def products():
        total = tf.zeros((m, n))
        for _ in tf.range(repeats):
            total += tf.matmul(a, b)
        return total

    products()  # trace
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        products().numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * m * k * n * repeats / best


def epoch_flops(model: keras.Model, n_train: int, n_val: int) -> float:
    """Matmul FLOPs of one epoch of a stack of Dense layers (biases and activations are
    a rounding error): per sample, forward 2·in·out per layer; backward the weight
    gradient (2·in·out) and, except for the first layer, the input gradient (2·in·out)."""
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    forward = sum(2 * layer.kernel.shape[0] * layer.kernel.shape[1] for layer in dense)
    first = 2 * dense[0].kernel.shape[0] * dense[0].kernel.shape[1]
    training = 3 * forward - first
    return n_train * training + n_val * forward


class EpochTimes(keras.callbacks.Callback):
    """Wall time of each epoch."""

    def on_train_begin(self, logs=None):
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


@dataclass
class Result:
    seconds_per_epoch: list[float]
    seconds_in_all: list[float]
    train_accuracy: list[float]
    test_accuracy: list[float]


def fit(x_train, y_train, x_test, y_test, epochs: int, batch_size: int = 128,
        jit_compile: bool = False) -> tuple[float, float, float, float]:
    """(median s/epoch after the first, s for all epochs, final training accuracy,
    test accuracy)."""
    model = build_model(ModelConfig())
    if jit_compile:
        model.compile(optimizer=keras.optimizers.RMSprop(), loss="categorical_crossentropy",
                      metrics=["accuracy"], jit_compile=True)
    times = EpochTimes()
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size,
                        validation_split=VALIDATION_SPLIT, callbacks=[times], verbose=0)
    _, test_accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    return (statistics.median(times.seconds[1:]), sum(times.seconds),
            history.history["accuracy"][-1], test_accuracy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)  # the classic run
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    data = load_mnist()
    x_train, y_train = prepare(data.x_train, data.y_train)
    x_test, y_test = prepare(data.x_test, data.y_test)
    n_val = int(len(x_train) * VALIDATION_SPLIT)
    n_fit = len(x_train) - n_val
    print(f"Machine: {os.cpu_count()} cores; TensorFlow {tf.__version__}, "
          f"Keras {keras.__version__}")

    model_shape = matmul_rate(128, 784, 512)
    square = matmul_rate(2048, 2048, 2048, repeats=5)
    print(f"\nfloat32 matmul, 128×784 @ 784×512 (the first layer's): "
          f"{model_shape / 1e9:.1f} GFLOP/s")
    print(f"float32 matmul, 2048×2048 @ 2048×2048: {square / 1e9:.1f} GFLOP/s")
    flops = epoch_flops(build_model(ModelConfig()), n_fit, n_val)
    print(f"One epoch of the default model: {flops / 1e9:.1f} GFLOP "
          f"({n_fit:,} training + {n_val:,} validation images); at the model-shape rate "
          f"that is {flops / model_shape:.2f} s")

    tensors = [tf.constant(array) for array in (x_train, y_train)]
    variants: dict[str, Callable[[], tuple[float, float, float, float]]] = {
        "app's way: fit on float32 numpy arrays, batch 128":
            lambda: fit(x_train, y_train, x_test, y_test, args.epochs),
        "data already as float32 tensors":
            lambda: fit(*tensors, x_test, y_test, args.epochs),
        "jit_compile=True (XLA)":
            lambda: fit(x_train, y_train, x_test, y_test, args.epochs, jit_compile=True),
        "batch 256 (changes the training)":
            lambda: fit(x_train, y_train, x_test, y_test, args.epochs, batch_size=256),
        "batch 512 (changes the training)":
            lambda: fit(x_train, y_train, x_test, y_test, args.epochs, batch_size=512),
    }
    results = {name: Result([], [], [], []) for name in variants}
    for repeat in range(args.repeats):
        order = list(variants) if repeat % 2 == 0 else list(reversed(variants))
        for name in order:
            seconds, seconds_in_all, train_accuracy, test_accuracy = variants[name]()
            result = results[name]
            result.seconds_per_epoch.append(seconds)
            result.seconds_in_all.append(seconds_in_all)
            result.train_accuracy.append(train_accuracy)
            result.test_accuracy.append(test_accuracy)
            print(f"  repeat {repeat + 1}: {name}: {seconds:.2f} s/epoch", flush=True)

    print(f"\n{args.epochs} epochs × {args.repeats} repeats; medians (accuracies: min–max)\n")
    print("| way | s/epoch | samples/s | share of matmul rate | s for all epochs "
          "| training acc. | test acc. |")
    print("|---|---|---|---|---|---|---|")
    for name, result in results.items():
        seconds = statistics.median(result.seconds_per_epoch)
        print(f"| {name} | {seconds:.2f} | {n_fit / seconds:,.0f} "
              f"| {flops / seconds / model_shape:.0%} "
              f"| {statistics.median(result.seconds_in_all):.1f} "
              f"| {span(result.train_accuracy)} | {span(result.test_accuracy)} |")


def span(values: list[float]) -> str:
    return f"{min(values):.2%}–{max(values):.2%}"


if __name__ == "__main__":
    main()
