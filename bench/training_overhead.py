"""How much the app's training path costs over a plain Keras `model.fit`.

Both sides do the same work — prepare the data, fit the same model, evaluate on the
test set — in one process, interleaved so that machine noise hits both alike. The
app's side adds its Keras callback (progress, per-batch history, NaN check, stop
check) and a weight snapshot per epoch. Target: median ratio ≤ 1.05.

    MNIST_DATA=../shared/data/mnist.npz python bench/training_overhead.py --repeats 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.data import load_mnist, prepare
from mnist_core.model import build_model
from mnist_core.runs.records import JobStatus
from mnist_core.runs.train import TrainingJob


def plain_keras(data, model_config: ModelConfig, train_config: TrainConfig) -> float:
    """The classic tutorial's code path, timed end to end."""
    start = time.perf_counter()
    limit = train_config.train_size
    x_train, y_train = prepare(data.x_train[:limit], data.y_train[:limit])
    x_test, y_test = prepare(data.x_test, data.y_test)
    model = build_model(model_config)
    model.fit(x_train, y_train, epochs=train_config.epochs, batch_size=train_config.batch_size,
              validation_split=train_config.validation_split, verbose=0)
    model.evaluate(x_test, y_test, verbose=0)
    return time.perf_counter() - start


def app_path(data, model_config: ModelConfig, train_config: TrainConfig) -> float:
    """The app's TrainingJob, run in this thread, timed end to end."""
    start = time.perf_counter()
    job = TrainingJob(data, model_config, train_config)
    job.run()
    elapsed = time.perf_counter() - start
    assert job.progress().status == JobStatus.FINISHED, job.progress().error
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    data = load_mnist()
    model_config = ModelConfig()
    train_config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size,
                               train_size=args.train_size)
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"Data: {data.source}; {train_config}")
    app_path(data, model_config, train_config)  # warm-up: imports, kernels, caches

    rows = []
    for repeat in range(args.repeats):
        # Alternate which side goes first, so drift over time hits both alike.
        if repeat % 2:
            app = app_path(data, model_config, train_config)
            plain = plain_keras(data, model_config, train_config)
        else:
            plain = plain_keras(data, model_config, train_config)
            app = app_path(data, model_config, train_config)
        rows.append((plain, app, app / plain))

    print(f"\n{'repeat':>6} {'plain fit (s)':>14} {'app path (s)':>13} {'ratio':>7}")
    for number, (plain, app, ratio) in enumerate(rows, start=1):
        print(f"{number:>6} {plain:>14.2f} {app:>13.2f} {ratio:>7.3f}")
    median = statistics.median(ratio for _, _, ratio in rows)
    verdict = "within" if median <= 1.05 else "OVER"
    print(f"\nMedian ratio app/plain: {median:.3f} ({verdict} the 1.05 target)")


if __name__ == "__main__":
    main()
