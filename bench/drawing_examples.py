"""How long drawing-style examples take to make, and to read back once made.

Times `mnist_core.drawing_examples.drawing_examples` making N examples of MNIST
training digits on every core (the pen and the preparation, per example and in all),
then reading the same examples back from the file it kept.

    MNIST_DATA=../shared/data/mnist.npz python bench/drawing_examples.py --count 15000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from mnist_core.data import load_mnist
from mnist_core.drawing_examples import drawing_examples
from mnist_core.drawings import draw_digit, random_style
from mnist_core.preprocess import preprocess_canvas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=15_000)
    parser.add_argument("--sample", type=int, default=300,
                        help="examples timed one by one, for the split between pen and preparation")
    args = parser.parse_args()
    data = load_mnist()
    print(f"Data: {data.source}; {os.cpu_count()} cores")

    rng = np.random.default_rng(0)
    digits = data.x_train[: args.sample]
    started = time.perf_counter()
    canvases = [draw_digit(digit, random_style(rng)) for digit in digits]
    drawn = time.perf_counter()
    for canvas in canvases:
        preprocess_canvas(canvas)
    prepared = time.perf_counter()
    print(f"One core, per example: the pen {(drawn - started) / args.sample * 1000:.1f} ms, "
          f"the preparation {(prepared - drawn) / args.sample * 1000:.1f} ms")

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        drawing_examples(data.x_train, data.y_train, args.count, seed=1, cache_dir=Path(folder))
        made = time.perf_counter() - started
        started = time.perf_counter()
        drawing_examples(data.x_train, data.y_train, args.count, seed=1, cache_dir=Path(folder))
        read = time.perf_counter() - started
    print(f"{args.count:,} examples on every core: made in {made:.1f} s "
          f"({made / args.count * 1000:.2f} ms each), read back in {read:.2f} s")


if __name__ == "__main__":
    main()
