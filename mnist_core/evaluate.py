"""How well a model reads the 10,000 test digits, and where it goes wrong.

`evaluate()` runs the network once over the test set; everything else — loss,
accuracy, confusion matrix, per-digit precision/recall/F1, the images behind a
cell, the most confident mistakes — is plain numpy on its softmax, so a page can
ask for any view without calling the network again (its figures: figures.evaluation).
No Streamlit and no sklearn: the counts are simple
enough to do by hand, and tests check them against direct counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from mnist_core.data import NUM_CLASSES, prepare_images

if TYPE_CHECKING:  # keeps TensorFlow out of pages that have no model yet
    import keras

DIGITS = tuple(range(NUM_CLASSES))
EPSILON = 1e-7  # Keras' backend epsilon: probabilities are clipped to it for the loss
BATCH_SIZE = 1_000  # test images per model call: as fast as larger batches, and the
# CNN's first feature maps (1,000 × 26×26×32 floats = 87 MB) stay modest
MISTAKES_SHOWN = 24
CELL_IMAGES_SHOWN = 12

@dataclass(frozen=True)
class Evaluation:
    """A model's answers on the test set and the usual measures of them.

    Rows of `confusion` are true digits, columns the digit the model read.
    """

    y_test: np.ndarray  # (N,) true digits
    probabilities: np.ndarray  # (N, 10) softmax
    predicted: np.ndarray  # (N,) the digit read: argmax of the softmax
    loss: float  # mean categorical cross-entropy, as Keras computes it
    accuracy: float
    confusion: np.ndarray  # (10, 10) counts
    precision: np.ndarray  # (10,) of the images read as d, the share that are d
    recall: np.ndarray  # (10,) of the images of d, the share read as d
    f1: np.ndarray  # (10,) harmonic mean of precision and recall

    @classmethod
    def from_softmax(cls, y_test: np.ndarray, probabilities: np.ndarray) -> Evaluation:
        """All measures from the true digits and the model's softmax for them."""
        y_test = np.asarray(y_test).astype(np.int64)
        probabilities = np.asarray(probabilities, dtype=np.float32)
        if probabilities.shape != (len(y_test), NUM_CLASSES):
            raise ValueError(f"expected softmax of shape ({len(y_test)}, {NUM_CLASSES}), "
                             f"got {probabilities.shape}")
        predicted = probabilities.argmax(axis=1)
        confusion = confusion_matrix(y_test, predicted)
        right = np.diag(confusion).astype(np.float64)
        precision = _share(right, confusion.sum(axis=0))
        recall = _share(right, confusion.sum(axis=1))
        f1 = _share(2 * precision * recall, precision + recall)
        return cls(
            y_test=y_test,
            probabilities=probabilities,
            predicted=predicted,
            loss=cross_entropy(y_test, probabilities),
            accuracy=float(right.sum() / len(y_test)) if len(y_test) else 0.0,
            confusion=confusion,
            precision=precision,
            recall=recall,
            f1=f1,
        )

    @property
    def size(self) -> int:
        return len(self.y_test)

    @property
    def confidence(self) -> np.ndarray:
        """(N,) the probability the model gave to the digit it read."""
        return self.probabilities[np.arange(self.size), self.predicted]

    @property
    def mistakes(self) -> int:
        return int((self.predicted != self.y_test).sum())

    @property
    def macro_precision(self) -> float:
        return float(self.precision.mean())

    @property
    def macro_recall(self) -> float:
        return float(self.recall.mean())

    @property
    def macro_f1(self) -> float:
        return float(self.f1.mean())

    def cell(self, true_digit: int, read_as: int) -> np.ndarray:
        """Test indices of the `true_digit`s read as `read_as`, most confident first."""
        indices = np.flatnonzero((self.y_test == true_digit) & (self.predicted == read_as))
        return indices[np.argsort(-self.confidence[indices], kind="stable")]

    def most_confident_mistakes(self, n: int = MISTAKES_SHOWN) -> np.ndarray:
        """Test indices of the `n` wrong answers given with the highest probability.

        These are the interesting errors: often a mislabelled or truly ambiguous
        digit, sometimes a blind spot of the network.
        """
        wrong = np.flatnonzero(self.predicted != self.y_test)
        return wrong[np.argsort(-self.confidence[wrong], kind="stable")][:n]

    def most_frequent_mistake(self) -> tuple[int, int] | None:
        """(true digit, read as) of the off-diagonal cell with most images; None if none."""
        off_diagonal = self.confusion * (1 - np.eye(NUM_CLASSES, dtype=self.confusion.dtype))
        if not off_diagonal.any():
            return None
        true_digit, read_as = np.unravel_index(off_diagonal.argmax(), off_diagonal.shape)
        return int(true_digit), int(read_as)

    def per_class_rows(self) -> list[dict]:
        """One row per digit, then the macro average (every digit counts the same).

        The average row has no image counts (None): an average of counts means nothing,
        and their total, the size of the test set, is not an average either.
        """
        images = self.confusion.sum(axis=1)
        read = self.confusion.sum(axis=0)
        rows = [
            {"digit": str(digit), "test images": int(images[digit]),
             "read as this digit": int(read[digit]),
             "precision": float(self.precision[digit]), "recall": float(self.recall[digit]),
             "F1": float(self.f1[digit])}
            for digit in DIGITS
        ]
        rows.append({"digit": "average", "test images": None, "read as this digit": None,
                     "precision": self.macro_precision, "recall": self.macro_recall,
                     "F1": self.macro_f1})
        return rows


def evaluate(
    model: keras.Model, x_test: np.ndarray, y_test: np.ndarray, batch_size: int = BATCH_SIZE
) -> Evaluation:
    """Run `model` over the test images (uint8 N×28×28) and measure its answers."""
    return Evaluation.from_softmax(y_test, softmax_of(model, x_test, batch_size))


def softmax_of(model: keras.Model, x_test: np.ndarray, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """(N, 10) softmax for uint8 images, prepared like the training images.

    The model is called in large batches through one `tf.function`: as a graph,
    TensorFlow fuses each convolution with its bias and ReLU, so the CNN takes far
    less time than called eagerly, and tracing it costs little. `model.predict` is
    as fast for the CNN but slower for the dense model. The timings:
    docs/benchmarks.md, "Evaluating" (bench/evaluate_speed.py).
    """
    from mnist_core.predict import graph_call  # TensorFlow: only once a model is evaluated

    x = prepare_images(np.asarray(x_test)).reshape(-1, *model.input_shape[1:])
    if not len(x):
        return np.zeros((0, NUM_CLASSES), np.float32)
    call = graph_call(model)
    return np.concatenate([call(x[start:start + batch_size]).numpy()
                           for start in range(0, len(x), batch_size)])


def confusion_matrix(y_test: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """(10, 10) counts: row = true digit, column = digit read."""
    pairs = np.asarray(y_test, np.int64) * NUM_CLASSES + np.asarray(predicted, np.int64)
    return np.bincount(pairs, minlength=NUM_CLASSES**2).reshape(NUM_CLASSES, NUM_CLASSES)


def cross_entropy(y_test: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean categorical cross-entropy exactly as Keras computes it from probabilities.

    Keras rescales each row to sum to 1 and clips to [ε, 1−ε] before the log, so a
    confident wrong answer costs at most −log(ε) ≈ 16 instead of infinity.
    """
    if not len(y_test):
        return 0.0
    p = np.asarray(probabilities, np.float64)
    p = p / p.sum(axis=1, keepdims=True)
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return float(-np.log(p[np.arange(len(p)), np.asarray(y_test, np.int64)]).mean())


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """part / whole, and 0 where whole is 0 (a digit never read has precision 0)."""
    part, whole = np.asarray(part, np.float64), np.asarray(whole, np.float64)
    return np.divide(part, whole, out=np.zeros_like(part), where=whole > 0)


def selected_cell(points: Sequence[dict]) -> tuple[int, int] | None:
    """(true digit, read as) of the first cell clicked in `confusion_figure`, or None.

    Plotly reports a clicked marker by its coordinates: x is the digit read, y the
    true digit. Points of other traces (none today) are ignored.
    """
    for point in points:
        x, y = point.get("x"), point.get("y")
        if x is not None and y is not None and x in DIGITS and y in DIGITS:
            return int(y), int(x)
    return None


# --- Titles -------------------------------------------------------------------------------


def mistake_title(evaluation: Evaluation, index: int) -> str:
    """ "4 → 9 (97%)": the true digit, the digit read and how sure, short enough to stand
    over a gallery image on a laptop's narrow page (the page says which is which)."""
    read = int(evaluation.predicted[index])
    p = float(evaluation.probabilities[index, read])
    share = f"{p:.0%}" if p < 0.995 else f"{p:.1%}"  # 99.6% sure and wrong is not "100%"
    return f"{int(evaluation.y_test[index])} → {read} ({share})"


def probability_title(evaluation: Evaluation, index: int) -> str:
    """ "#1234 · p(9)=0.83": the test image's index and the model's probability for its reading."""
    read = int(evaluation.predicted[index])
    return f"#{index} · p({read})={evaluation.probabilities[index, read]:.2f}"
