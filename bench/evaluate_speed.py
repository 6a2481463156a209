"""How long the Evaluate page's numbers take: the softmax of every test image, then the counts.

Timing does not depend on the weights, so untrained networks are measured:
the default dense model, the CNN and the deeper CNN, through `mnist_core.evaluate.evaluate` (one
graph function, batches of 1,000) and, for comparison, calling the model eagerly.

    MNIST_DATA=… python bench/evaluate_speed.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from mnist_core.config import ModelConfig
from mnist_core.data import load_mnist, prepare_images
from mnist_core.evaluate import evaluate
from mnist_core.model import build_model


def timed(run, repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of `run()` over `repeats`, after one warm-up."""
    run()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = load_mnist()
    x = prepare_images(data.x_test)
    print(f"{len(x):,} test images; median of {args.repeats} runs (wall s / CPU s)")
    for name, config in (("dense", ModelConfig()), ("cnn", ModelConfig(architecture="cnn")),
                         ("deeper", ModelConfig(architecture="deep_cnn"))):
        model = build_model(config)
        wall, cpu = timed(lambda: evaluate(model, data.x_test, data.y_test), args.repeats)
        print(f"{name:6} evaluate (graph, batches of 1,000): {wall:.2f} / {cpu:.2f}", flush=True)

        def eager():
            np.concatenate([np.asarray(model(x[i:i + 1000], training=False))
                            for i in range(0, len(x), 1000)])

        wall, cpu = timed(eager, args.repeats)
        print(f"{name:6} eager model calls, for comparison:  {wall:.2f} / {cpu:.2f}", flush=True)


if __name__ == "__main__":
    main()
