"""When to say "not sure": a rule chosen from measurements, not a guess.

A softmax is confident far too often: on simulated drawings and random scribbles
(bench/drawn_digits.py), the classic dense model gave a high probability to its top
digit for many of the scribbles. What tells them apart is stability: a real digit
keeps its reading when nudged a little (SHIFTS, ROTATIONS, ZOOM), a scribble does
not. The rule: sure when the mean top probability over the nudged copies is at
least SURE_PROBABILITY and at least SURE_AGREEMENT of the copies agree. How often it
is sure, and right when sure, on drawings and on scribbles: docs/recognition.md,
"Not sure".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage, sparse

from mnist_core.wording import a_digit

SURE_PROBABILITY = 0.7
SURE_AGREEMENT = 0.8
ROTATIONS = (-12.0, 12.0)
SHIFTS = ((0, 2), (0, -2), (2, 0), (-2, 0))
ZOOM = 0.85
RULE_TEXT = (
    f"Sure when the network keeps its answer for the drawing nudged a little (shifted, "
    f"turned, shrunk): at least {SURE_AGREEMENT:.0%} of the nudged copies agree and "
    f"their mean top probability is at least {SURE_PROBABILITY:.0%}."
)


def nudged_copies(x: np.ndarray) -> np.ndarray:
    """The 28×28 input and slightly shifted, rotated and shrunk copies of it (first: x).

    Every nudge is linear in the pixels, so all of them together are one sparse
    matrix, built once: a drawing's copies cost one product instead of seven
    scipy.ndimage calls, far quicker, with the same result (docs/benchmarks.md).
    """
    x = np.asarray(x, dtype=np.float32)
    copies = (_nudge_matrix(x.shape) @ x.ravel()).reshape(-1, *x.shape)
    return np.clip(copies, 0.0, 1.0)


@functools.cache
def _nudge_matrix(shape: tuple[int, int]) -> sparse.csr_array:
    """`_nudge` of every one-pixel image: column i holds the copies of pixel i."""
    pixels = np.eye(shape[0] * shape[1], dtype=np.float32).reshape(-1, *shape)
    columns = _nudge(pixels).reshape(len(pixels), -1)  # pixel × (copy, row, column)
    return sparse.csr_array(columns.T)


def _nudge(images: np.ndarray) -> np.ndarray:
    """Each image of a stack (N×H×W) and its nudged copies: N × copies × H × W."""
    across = (2, 1)  # rotate within each image, not across the stack
    copies = [images]
    copies += [ndimage.rotate(images, angle, axes=across, reshape=False, order=1)
               for angle in ROTATIONS]
    copies += [ndimage.shift(images, (0, *shift), order=0) for shift in SHIFTS]
    small = ndimage.zoom(images, (1, ZOOM, ZOOM), order=1)
    pad = (images.shape[1] - small.shape[1]) // 2
    shrunk = np.zeros_like(images)
    shrunk[:, pad : pad + small.shape[1], pad : pad + small.shape[2]] = small
    copies.append(shrunk)
    return np.stack(copies, axis=1)


@dataclass(frozen=True)
class Verdict:
    """The answer to show: the top digit, the runner-up, and whether to trust it."""

    digit: int
    probability: float
    runner_up: int
    agreement: float
    sure: bool
    copies: int = 8  # the drawing and its nudged copies that were read

    @property
    def message(self) -> str:
        if self.sure:
            return f"It's {a_digit(self.digit)}."
        return f"Not sure — {self.digit} or {self.runner_up}?"

    @property
    def reason(self) -> str:
        """Why not sure, in a sentence: the softmax of one drawing can say 99% and still
        hang on details, which the nudged copies show."""
        agreeing = round(self.agreement * self.copies)
        return (f"Nudged a little (shifted, turned, shrunk), the drawing reads {self.digit} "
                f"in only {agreeing} of {self.copies} copies, with {self.probability:.0%} "
                "on average: the answer hangs on details of the drawing.")


def judge(probabilities: np.ndarray) -> Verdict:
    """A verdict from the softmax of `nudged_copies(x)`, shape (copies, 10)."""
    probabilities = np.asarray(probabilities, dtype=float)
    mean = probabilities.mean(axis=0)
    digit, runner_up = (int(d) for d in np.argsort(mean)[::-1][:2])
    agreement = float((probabilities.argmax(axis=1) == digit).mean())
    sure = mean[digit] >= SURE_PROBABILITY and agreement >= SURE_AGREEMENT
    return Verdict(digit, float(mean[digit]), runner_up, agreement, bool(sure), len(probabilities))
