"""Ask a trained model what digit it sees.

`model.predict` has a set-up cost per call far too large for a prediction on every
stroke, and an eager `model(x)` runs op by op. The model's inference is traced once
into a `tf.function` (`graph_call`) and called directly, faster than either and than
`predict_on_batch`.

Even a traced call spends most of its time in TensorFlow's executor, most of all
when the call comes after a pause, as strokes do; a dense network's few matrix
products take a fraction of that in numpy. So the Draw page reads drawings with
`dense_forward` whenever the network is a stack of Dense layers (the default), and
through TensorFlow otherwise. The timings: docs/benchmarks.md, "Drawing latency"
(bench/drawing_latency.py).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from mnist_core.confidence import Verdict, judge, nudged_copies
from mnist_core.config import ModelConfig
from mnist_core.data import IMAGE_SIZE
from mnist_core.model import build_model
from mnist_core.quiet_keras import keras
from mnist_core.runs.records import Snapshot

BLANK = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)


def predict_proba(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Softmax probabilities: shape (10,) for one 28×28 image, (N, 10) for a batch.

    Images are 28×28 floats in [0, 1] (white digit on black), or already flat 784-vectors.
    """
    batch, single = _as_batch(x, model.input_shape[1:])
    probabilities = graph_call(model)(batch).numpy()
    return probabilities[0] if single else probabilities


def _as_batch(x: np.ndarray, shape: Sequence[int]) -> tuple[np.ndarray, bool]:
    """(the images as a float32 batch of `shape`, whether `x` was a single image)."""
    x = np.asarray(x, dtype=np.float32)
    single = x.shape in ((IMAGE_SIZE, IMAGE_SIZE), (IMAGE_SIZE * IMAGE_SIZE,))
    return x.reshape((1 if single else len(x), *shape)), single


# Each model's inference as a traced graph function (see `graph_call`).
_GRAPH_CALLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_GRAPH_CALLS_LOCK = threading.Lock()


def graph_call(model: keras.Model):
    """The model's inference as a `tf.function`, traced once per model, not per call.

    Any batch size runs the same graph. It reads the model's variables, so new
    weights (`set_weights`) are used without tracing again. Held weakly: a
    snapshot's model that is dropped from the app's cache goes, and its function
    with it.
    """
    from mnist_core.quiet_keras import tf

    with _GRAPH_CALLS_LOCK:
        call = _GRAPH_CALLS.get(model)
        if call is None:
            model_ref = weakref.ref(model)
            signature = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)
            call = tf.function(lambda batch: model_ref()(batch, training=False),  # type: ignore[misc]
                               input_signature=[signature])
            _GRAPH_CALLS[model] = call
        return call


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


_NUMPY_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "softmax": _softmax,
}
# Layers that leave a flat input as it is at inference (augmentation acts in training only).
_INFERENCE_IDENTITY = (
    keras.layers.Dropout, keras.layers.Flatten, keras.layers.Reshape,
    keras.layers.RandomTranslation, keras.layers.RandomRotation, keras.layers.RandomZoom,
)


def dense_forward(model: keras.Model) -> Callable[[np.ndarray], np.ndarray] | None:
    """The model's inference in numpy, if it is a stack of Dense layers on flat 784-vectors;
    else None.

    Takes flat 784-vectors (N×784) and gives the softmax, as the model does. It holds
    a copy of the weights as they are now: build it again after they change.
    """
    if tuple(model.input_shape[1:]) != (IMAGE_SIZE * IMAGE_SIZE,):
        return None  # a Dense layer on 28×28 images works on rows, not on flat vectors
    steps = []
    for layer in model.layers:
        if isinstance(layer, _INFERENCE_IDENTITY):
            continue
        activation = getattr(getattr(layer, "activation", None), "__name__", None)
        if not isinstance(layer, keras.layers.Dense) or activation not in _NUMPY_ACTIVATIONS:
            return None
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        bias = keras.ops.convert_to_numpy(layer.bias) if layer.use_bias else 0.0
        steps.append((kernel, bias, _NUMPY_ACTIVATIONS[activation]))

    def forward(batch: np.ndarray) -> np.ndarray:
        for kernel, bias, activation in steps:
            batch = activation(batch @ kernel + bias)
        return batch

    return forward


class SnapshotPredictor:
    """Predictions from a run's epoch snapshots, on a private copy of its network.

    The training thread keeps changing the run's own model, so predictions never
    use it: this copy gets a snapshot's weights, under a lock shared by every
    session that views the run. A dense network then answers in numpy
    (`dense_forward`), any other through TensorFlow.
    """

    def __init__(self, model_config: ModelConfig) -> None:
        self._model = build_model(model_config)
        self._forward: Callable[[np.ndarray], np.ndarray] | None = None
        self._epoch: int | None = None
        self._lock = threading.Lock()

    def softmax(self, snapshot: Snapshot, x: np.ndarray) -> np.ndarray:
        with self._lock:
            if snapshot.epoch != self._epoch:
                self._model.set_weights(list(snapshot.weights))
                self._forward = dense_forward(self._model)
                self._epoch = snapshot.epoch
            if self._forward is None:
                return predict_proba(self._model, x)
            batch, single = _as_batch(x, (IMAGE_SIZE * IMAGE_SIZE,))
            probabilities = self._forward(batch)
            return probabilities[0] if single else probabilities

    def warm_up(self, snapshot: Snapshot) -> None:
        """One prediction on a blank batch of drawing size, so the first real one is fast."""
        self.softmax(snapshot, np.zeros((len(nudged_copies(BLANK)), IMAGE_SIZE, IMAGE_SIZE)))

    def evolution(self, snapshots: Sequence[Snapshot], x: np.ndarray) -> np.ndarray:
        """The softmax for `x` after each snapshot's epoch: shape (epochs, 10)."""
        return np.array([self.softmax(snapshot, x) for snapshot in snapshots])


@dataclass(frozen=True)
class Reading:
    """What the network makes of one input: its softmax and how far to trust it."""

    probabilities: np.ndarray  # softmax for the input itself, shape (10,)
    verdict: Verdict

    @property
    def digit(self) -> int:
        return int(self.probabilities.argmax())


def read_digit(model: keras.Model, x: np.ndarray) -> Reading:
    """Softmax and verdict in one model call: the input and its nudged copies as a batch."""
    return _reading(predict_proba(model, nudged_copies(x)))


def read_digit_at(predictor: SnapshotPredictor, snapshot: Snapshot, x: np.ndarray) -> Reading:
    """`read_digit` with a run's weights as they were after `snapshot`'s epoch."""
    return _reading(predictor.softmax(snapshot, nudged_copies(x)))


def _reading(probabilities_of_copies: np.ndarray) -> Reading:
    return Reading(probabilities_of_copies[0], judge(probabilities_of_copies))
