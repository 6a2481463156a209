"""The Data explorer's numbers: browse MNIST by digit and see what it is made of.

Everything here works on the uint8 arrays of `MnistData` (images N×28×28, labels N), so
the Data page only chooses a set and places what these functions return.
"""

from __future__ import annotations

import numpy as np

from mnist_core.data import NUM_CLASSES, MnistData

PAGE_SIZE = 48
PIXEL_LEVELS = 256  # uint8: 0 (background) to 255 (full ink)
SETS = {"train": "training", "test": "test"}


def images_and_labels(data: MnistData, set_name: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of the "train" or "test" set."""
    if set_name not in SETS:
        raise ValueError(f"Unknown set {set_name!r}: expected one of {', '.join(SETS)}.")
    return getattr(data, f"x_{set_name}"), getattr(data, f"y_{set_name}")


def class_counts(y: np.ndarray) -> np.ndarray:
    """Images per digit, 0–9: MNIST is nearly, not exactly, balanced."""
    return np.bincount(y, minlength=NUM_CLASSES)


def mean_images(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The average image of each digit (10×28×28, 0–255): the typical shape of a class."""
    return np.stack([x[y == digit].mean(axis=0) for digit in range(NUM_CLASSES)])


def pixel_histogram(x: np.ndarray) -> np.ndarray:
    """How many pixels have each value 0–255.

    About four pixels in five are background (0), so only the ink is counted value by
    value and the zeros are the rest: much faster than counting all 47 million pixels
    of the training set (docs/benchmarks.md, "Evaluating").
    """
    ink = x[x > 0]
    counts = np.bincount(ink, minlength=PIXEL_LEVELS)
    counts[0] = x.size - ink.size
    return counts


def class_indices(y: np.ndarray, digit: int | None) -> np.ndarray:
    """Indices of the images of one digit, in dataset order; all of them for None."""
    return np.arange(len(y)) if digit is None else np.flatnonzero(y == digit)


def page_count(indices: np.ndarray, page_size: int = PAGE_SIZE) -> int:
    """Pages needed to show `indices`; at least one, so the page control always has a range."""
    return max(1, -(-len(indices) // page_size))


def page_of(indices: np.ndarray, page: int, page_size: int = PAGE_SIZE) -> np.ndarray:
    """The indices on `page`, counted from 1 as the page control shows it."""
    start = (page - 1) * page_size
    return indices[start:start + page_size]


def one_hot_label(label: int) -> np.ndarray:
    """The label as the network's target: a 1 at position `label`, zeros elsewhere."""
    return (np.arange(NUM_CLASSES) == label).astype(np.float32)


