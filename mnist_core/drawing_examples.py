"""Drawing-style training examples: simulated canvas drawings of *training* digits.

A network that has seen only MNIST's scanned pen strokes reads canvas drawings a
little worse than MNIST itself (docs/recognition.md). These examples are training
digits traced with a round pen of random width, size, slant and place
(`mnist_core.drawings`), then prepared exactly as the Draw page prepares a drawing,
so that training sees what the Draw page will show the network.

Made once: they are kept in a file keyed by everything that decides them (the digits
they are drawn from, how many, the seed), and read back from it afterwards.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

from mnist_core.drawings import draw_digit, random_style
from mnist_core.preprocess import preprocess_canvas

GENERATOR_VERSION = 1  # bump when the drawings or their preparation change
CHUNK = 250  # examples per progress report

Progress = Callable[[int, int], None]  # (examples made, examples wanted)


def drawing_examples(
    x_pool: np.ndarray,
    y_pool: np.ndarray,
    count: int,
    seed: int = 0,
    cache_dir: Path | None = None,
    on_progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`count` drawings of digits picked from `x_pool`, as 28×28 uint8 images and labels.

    The same arguments always give the same examples. With a `cache_dir` they are
    read from there when made before, else made and saved there.
    """
    if count <= 0:
        return np.zeros((0, *x_pool.shape[1:]), np.uint8), np.zeros(0, y_pool.dtype)
    path = None if cache_dir is None else Path(cache_dir) / cache_name(x_pool, y_pool, count, seed)
    if path is not None and path.exists():
        try:
            with np.load(path, allow_pickle=False) as saved:
                return saved["x"], saved["y"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # a damaged file (cut short, emptied, garbled) is made again
    x, y = _make(x_pool, y_pool, count, seed, on_progress)
    if path is not None:
        _save(path, x, y)
    return x, y


def cache_name(x_pool: np.ndarray, y_pool: np.ndarray, count: int, seed: int) -> str:
    """The cache file's name: a digest of the pool, the count, the seed and the version."""
    digest = hashlib.blake2b(digest_size=8)
    for array in (x_pool, y_pool):
        digest.update(np.ascontiguousarray(array).data)
    digest.update(f"{count}-{seed}-{GENERATOR_VERSION}".encode())
    return f"drawing-examples-{count}-{digest.hexdigest()}.npz"


def _make(x_pool: np.ndarray, y_pool: np.ndarray, count: int, seed: int,
          on_progress: Progress | None) -> tuple[np.ndarray, np.ndarray]:
    """Draw and prepare the examples on every core (the pen and the preparation run in
    scipy and scikit-image, outside Python's lock)."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(x_pool), size=count, replace=count > len(x_pool))
    styles = [random_style(rng) for _ in range(count)]
    x = np.zeros((count, *x_pool.shape[1:]), np.uint8)

    def one(i: int) -> None:
        prepared = preprocess_canvas(draw_digit(x_pool[picks[i]], styles[i]))
        if prepared is not None:
            x[i] = np.round(prepared * 255)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for start in range(0, count, CHUNK):
            list(pool.map(one, range(start, min(start + CHUNK, count))))
            if on_progress is not None:
                on_progress(min(start + CHUNK, count), count)
    return x, y_pool[picks]


def _save(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    """Write to a temporary file and rename it, so a reader never sees half a file."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as file:
            temporary = Path(file.name)
            np.savez(file, x=x, y=y)
        os.replace(temporary, path)
    except OSError:  # not kept: made again next time, which is slower but correct
        if temporary is not None:
            temporary.unlink(missing_ok=True)
