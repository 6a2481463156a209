"""Adapt a model to one person's handwriting: fine-tune a copy on their own drawings.

A user keeps labelled drawings on the Draw page. `adapt` fine-tunes a copy of the
current network on them, mixed with a sample of MNIST training digits so that it
does not forget MNIST, and says how much it helped: accuracy on the drawings before
and after, and on the MNIST test set before and after.

Accuracy on drawings the copy was fine-tuned on would flatter it, so the "after"
number is cross-validated: the drawings are split into folds, and each drawing is
read by a copy fine-tuned on the other folds only. The copy returned is then
fine-tuned on all of them. The weights given are only ever read.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from mnist_core.config import ModelConfig
from mnist_core.data import IMAGE_SIZE, INPUT_DIM, NUM_CLASSES, MnistData, one_hot, prepare
from mnist_core.model import build_model
from mnist_core.predict import predict_proba
from mnist_core.quiet_keras import keras

MIN_DRAWINGS = 20
# Five folds: each copy learns from four fifths of the drawings, nearly all that the
# final copy learns from, so the held-out accuracy is a fair (if modest) estimate of
# the final copy's; even 20 drawings leave 4 to read in each fold. More folds would
# cost more fits for little change.
FOLDS = 5
# The recipe was measured on drawings that lean (docs/recognition.md, "Adapting to
# one's handwriting"): a smaller rate misses much of the gain on held-out drawings,
# a larger one adds hardly any, for larger steps away from what MNIST taught.
LEARNING_RATE = 3e-4  # Adam's
EPOCHS = 3
BATCH_SIZE = 32
MNIST_MIX = 600  # MNIST training digits mixed into every fine-tuning, so MNIST stays known
DRAWING_SHARE = 300  # drawings repeated until they are at least this many of the mix
PREDICT_BATCH = 500  # images per inference call: the deep CNN's activations stay small
STEPS_PER_CALL = 16  # training batches per call into TensorFlow: less overhead per step


class AdaptError(ValueError):
    """A set of drawings that cannot be adapted to, said in the user's words."""


@dataclass(frozen=True)
class Adaptation:
    """What fine-tuning on the drawings gave: the weights and the accuracies around it."""

    weights: tuple[np.ndarray, ...]  # the copy fine-tuned on all the drawings (+ MNIST mix)
    drawings_before: float  # the model as given, on all the drawings (none was fitted to it)
    drawings_after: float  # cross-validated: each drawing read by a copy fine-tuned without it
    test_before: float  # MNIST test accuracy of the model as given
    test_after: float  # MNIST test accuracy of `weights`
    folds: int
    drawings: int
    seconds: float


def adapt(
    model_config: ModelConfig,
    weights: Sequence[np.ndarray],
    x_drawings: np.ndarray,
    y_drawings: np.ndarray,
    data: MnistData,
    *,
    seed: int = 0,
    test_before: float | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> Adaptation:
    """Fine-tune a copy of the network (`model_config`, `weights`) on the drawings.

    `x_drawings`: N 28×28 images (or N 784-vectors) in [0, 1], white digit on black;
    `y_drawings`: their N labels 0–9. Raises AdaptError, in words, for a set that
    cannot be used. `on_progress(fraction)` is called after each fold and at the end.
    The same `seed` gives the same folds, MNIST mix and order of training.
    `test_before`: the network's MNIST test accuracy where it is known already (a
    finished run's), which saves reading the test set once more.

    It fine-tunes FOLDS + 1 times: about half a second each for the dense network on
    two cores, ten times more for the deep CNN, whose every image costs ten times more.
    """
    started = time.perf_counter()
    x, y = check_drawings(x_drawings, y_drawings)
    rng = np.random.default_rng(seed)
    mix = rng.choice(len(data.x_train), size=min(MNIST_MIX, len(data.x_train)), replace=False)
    x_mix, y_mix = prepare(data.x_train[mix], data.y_train[mix])
    x_test, y_test = prepare(data.x_test, data.y_test)
    labels_test = y_test.argmax(axis=1)

    tuner = FineTuner(model_config, weights)
    drawings_before = tuner.accuracy(x, y)
    if test_before is None:
        test_before = tuner.accuracy(x_test, labels_test)

    fold = fold_of(y, FOLDS, seed)
    right = 0
    for k in range(FOLDS):
        held_out = fold == k
        tuner.fine_tune(x[~held_out], y[~held_out], x_mix, y_mix, seed=seed + 1 + k)
        right += int((tuner.read(x[held_out]) == y[held_out]).sum())
        if on_progress is not None:
            on_progress((k + 1) / (FOLDS + 1))

    tuner.fine_tune(x, y, x_mix, y_mix, seed=seed)
    test_after = tuner.accuracy(x_test, labels_test)
    if on_progress is not None:
        on_progress(1.0)
    return Adaptation(
        weights=tuner.weights(),
        drawings_before=drawings_before,
        drawings_after=right / len(y),
        test_before=test_before,
        test_after=test_after,
        folds=FOLDS,
        drawings=len(y),
        seconds=time.perf_counter() - started,
    )


def check_drawings(x_drawings: np.ndarray, y_drawings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The drawings as N×784 float32 and their labels as N ints; AdaptError if unusable."""
    try:
        x = np.asarray(x_drawings, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise AdaptError("Each drawing must be a 28×28 image of numbers.") from error
    if not (x.ndim == 3 and x.shape[1:] == (IMAGE_SIZE, IMAGE_SIZE)
            or x.ndim == 2 and x.shape[1] == INPUT_DIM):
        raise AdaptError(f"Each drawing must be a 28×28 image; these come as {x.shape}.")
    y = np.asarray(y_drawings)
    if y.shape != (len(x),):
        raise AdaptError(
            f"Each drawing needs one label: {len(x)} drawings, labels of shape {y.shape}."
        )
    if len(x) < MIN_DRAWINGS:
        raise AdaptError(f"Keep at least {MIN_DRAWINGS} drawings first: you have {len(x)}.")
    if not np.isfinite(x).all():
        raise AdaptError("Some drawings hold values that are not numbers (NaN or infinite).")
    if x.min() < 0 or x.max() > 1:
        raise AdaptError(
            "Drawings must hold pixel values from 0 to 1 (white digit on black); "
            f"these go from {x.min():g} to {x.max():g}."
        )
    wrong = [label for label in y.tolist()
             if isinstance(label, bool) or label not in range(NUM_CLASSES)]
    if wrong:
        raise AdaptError(f"Every drawing needs a label from 0 to 9; one is labelled {wrong[0]!r}.")
    return x.reshape(len(x), INPUT_DIM), y.astype(int)


def fold_of(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Each drawing's fold, 0 to `folds` − 1, the same for the same labels and seed.

    Each digit's drawings, in a seeded order, are dealt round the folds like cards,
    the deal carrying on from one digit to the next: every fold gets its share of
    every digit, and fold sizes differ by at most one.
    """
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=int)
    dealt = 0
    for digit in range(NUM_CLASSES):
        members = rng.permutation(np.flatnonzero(y == digit))
        fold[members] = (dealt + np.arange(len(members))) % folds
        dealt += len(members)
    return fold


class FineTuner:
    """A private copy of a network, fine-tuned again and again from the same weights.

    One Keras model serves every fold and the final fit: building and compiling a
    new one costs about a second of tracing each time, more than a dense network's
    whole fine-tuning. Each `fine_tune` starts from the original weights and a fresh
    optimizer, so no fit inherits anything from the one before.
    """

    def __init__(self, model_config: ModelConfig, weights: Sequence[np.ndarray]) -> None:
        """Batch normalisation layers (the deep CNN's) are frozen: batches of a few
        drawings would drag their running statistics away from MNIST's, and every
        prediction afterwards, on MNIST too, would use the dragged ones.
        """
        self._weights = [np.array(w, copy=True) for w in weights]
        self.model = build_model(model_config)
        self.model.set_weights(self._weights)
        for layer in self.model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
        self.model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                           loss="categorical_crossentropy", steps_per_execution=STEPS_PER_CALL)
        self.model.optimizer.build(self.model.trainable_variables)
        self._fresh_optimizer = [v.numpy() for v in self.model.optimizer.variables]

    def fine_tune(self, x: np.ndarray, y: np.ndarray, x_mix: np.ndarray, y_mix: np.ndarray,
                  seed: int) -> None:
        """Fine-tune the original weights on drawings `x` (N×784), labels `y`, and the mix.

        The drawings are repeated until they are at least DRAWING_SHARE images, so that
        a few of them weigh against the MNIST mix; a few epochs of Adam at a small
        learning rate then move the weights only a little, which keeps what MNIST
        taught. The order of training is drawn from `seed`: the same inputs give the
        same weights (for networks without dropout).
        """
        self.model.set_weights(self._weights)
        for variable, value in zip(self.model.optimizer.variables, self._fresh_optimizer):
            variable.assign(value)
        repeats = math.ceil(DRAWING_SHARE / len(x))
        x_all = np.concatenate([np.tile(x, (repeats, 1)), x_mix])
        y_all = np.concatenate([one_hot(np.tile(y, repeats)), y_mix])
        rng = np.random.default_rng(seed)
        order = np.concatenate([rng.permutation(len(x_all)) for _ in range(EPOCHS)])
        self.model.fit(x_all[order], y_all[order], batch_size=BATCH_SIZE, epochs=1,
                       shuffle=False, verbose=0)

    def read(self, x: np.ndarray) -> np.ndarray:
        """The digit the network sees in each of the images (N×784).

        Through the app's traced inference (`predict_proba`), traced once for any
        number of images, where `model.predict` traces again for each new batch size.
        """
        return np.concatenate([
            predict_proba(self.model, x[start:start + PREDICT_BATCH]).argmax(axis=1)
            for start in range(0, len(x), PREDICT_BATCH)
        ])

    def accuracy(self, x: np.ndarray, labels: np.ndarray) -> float:
        return float((self.read(x) == labels).mean())

    def weights(self) -> tuple[np.ndarray, ...]:
        return tuple(self.model.get_weights())
