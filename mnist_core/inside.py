"""Inside a trained network: what its first layer looks for, which units fire, and why.

- `first_layer_weights`: each first-layer unit's weights (dense) or filter (CNN) as an
  image — the pattern of ink that excites it most.
- `hidden_activations`: what every hidden layer outputs for one input.
- `explain`: softmax, activations and one gradient per digit in a single pass;
  `Explanation.saliency(digit)` is gradient × input of the digit's pre-softmax score.
- `occlusion`: how much each digit's score drops when a patch of the input is blanked.
- Their figures are in mnist_core.figures.inside.

Models are the ones `mnist_core.model.build_model` makes (flat 784-vector inputs, a
softmax Dense layer last); they are shared between sessions and only ever read here.
Nothing here knows about Streamlit.
"""

from __future__ import annotations

import html
import threading
import weakref
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mnist_core.data import IMAGE_SIZE, NUM_CLASSES
from mnist_core.quiet_keras import keras, tf

OCCLUSION_PATCH, OCCLUSION_STRIDE = 6, 2
PROBED_LAYERS = (keras.layers.Dense, keras.layers.Conv2D)


@dataclass(frozen=True)
class LayerActivation:
    """One hidden layer's output for one input: (units,) for Dense, (h, w, filters) for Conv2D."""

    name: str
    kind: str  # "Dense" or "Conv2D"
    values: np.ndarray

    @property
    def is_map(self) -> bool:
        return self.values.ndim == 3

    @property
    def units(self) -> int:
        return self.values.shape[-1]

    def activity(self) -> np.ndarray:
        """How strongly each unit fires: its output, or the mean of its feature map."""
        return self.values.mean(axis=(0, 1)) if self.is_map else self.values

    def maps(self) -> np.ndarray:
        """Feature maps as images, filters first: (filters, h, w)."""
        return np.moveaxis(self.values, -1, 0)

    @property
    def title(self) -> str:
        if self.is_map:
            h, w, filters = self.values.shape
            return f"{html.escape(self.name)} (Conv2D): {filters} feature maps of {h}×{w}"
        return f"{html.escape(self.name)} (Dense): {self.units} units"


@dataclass(frozen=True)
class Explanation:
    """What the network does with one input, from one forward and one backward pass."""

    x: np.ndarray  # the input, 28×28 floats in [0, 1]
    logits: np.ndarray  # (10,) pre-softmax scores
    probabilities: np.ndarray  # (10,) softmax
    gradients: np.ndarray  # (10, 28, 28): d logit[digit] / d pixel
    activations: tuple[LayerActivation, ...]

    @property
    def digit(self) -> int:
        return int(self.probabilities.argmax())

    @property
    def runner_up(self) -> int:
        return int(np.argsort(self.probabilities)[-2])

    @property
    def saliency_maps(self) -> np.ndarray:
        """(10, 28, 28): gradient × input of each digit's score; zero wherever there is no ink.

        For a dense ReLU network the score is exactly this map's sum plus a share of the
        biases, so the map splits the score pixel by pixel; `maps[a] - maps[b]` does the
        same for the log-odds log(p[a] / p[b]).
        """
        return self.gradients * self.x

    def saliency(self, digit: int, versus: int | None = None) -> np.ndarray:
        """28×28: which pixels push towards `digit` (positive) or away (negative).

        With `versus`, towards `digit` rather than `versus`: gradient × input of
        logit[digit] − logit[versus], i.e. of log(p[digit] / p[versus]).
        """
        maps = self.saliency_maps
        return maps[digit] - maps[versus] if versus is not None else maps[digit]


def first_layer(model: keras.Model) -> keras.layers.Layer:
    """The first Dense or Conv2D layer: the one that looks at the pixels themselves."""
    for layer in model.layers:
        if isinstance(layer, PROBED_LAYERS):
            return layer
    raise ValueError("The model has no Dense or Conv2D layer.")


def first_layer_weights(model: keras.Model, units: Sequence[int] | None = None) -> np.ndarray:
    """The first layer's weights per unit as images: (n, 28, 28) dense, (n, kh, kw) CNN.

    A Dense unit's 784 weights, laid out like the pixels they multiply, show the
    pattern it responds to; a Conv2D filter is a small stroke detector slid over the
    image. All units when `units` is None.
    """
    layer = first_layer(model)
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    if isinstance(layer, keras.layers.Conv2D):
        images = np.moveaxis(kernel[:, :, 0, :], -1, 0)  # the input has one channel: grey
    else:
        images = kernel.T.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    return images if units is None else images[np.asarray(units, dtype=int)]


def strongest_units(model: keras.Model) -> np.ndarray:
    """All first-layer units, largest weight norm first: the ones that learned the most."""
    norms = np.sqrt((first_layer_weights(model) ** 2).sum(axis=(1, 2)))
    return np.argsort(-norms, kind="stable")


def most_active_units(activation: LayerActivation) -> np.ndarray:
    """A layer's units, the one that fires most for this input first."""
    return np.argsort(-activation.activity(), kind="stable")


class _Probe:
    """A sub-model sharing the network's layers: every hidden output plus the last features.

    The softmax layer's own input (its "features") is taken instead of its output, so
    the pre-softmax scores are computed here and their gradients do not vanish in a
    saturated softmax.
    """

    def __init__(self, model: keras.Model) -> None:
        output = model.layers[-1]
        if not (isinstance(output, keras.layers.Dense)
                and getattr(output.activation, "__name__", "") == "softmax"):
            raise ValueError("The model's last layer must be a Dense softmax layer.")
        self.output_layer = output
        self.hidden = [layer for layer in model.layers[:-1] if isinstance(layer, PROBED_LAYERS)]
        self.input_shape = tuple(model.input_shape[1:])
        self.features_are_input = output.input is model.inputs[0]
        outputs = [layer.output for layer in self.hidden]
        if not self.features_are_input:
            outputs.append(output.input)
        self.model = keras.Model(inputs=model.inputs, outputs=outputs) if outputs else None

    def __call__(self, batch: tf.Tensor) -> tuple[list[tf.Tensor], tf.Tensor, tf.Tensor]:
        """(hidden outputs, logits, probabilities) for a batch shaped like the model's input."""
        result = self.model(batch, training=False) if self.model is not None else []
        outputs = list(result) if isinstance(result, (list, tuple)) else [result]
        features = batch if self.features_are_input else outputs.pop()
        flat = tf.reshape(features, (tf.shape(features)[0], -1))
        logits = tf.matmul(flat, self.output_layer.kernel) + self.output_layer.bias
        return outputs, logits, tf.nn.softmax(logits)


_probes: weakref.WeakKeyDictionary[keras.Model, _Probe] = weakref.WeakKeyDictionary()
_probes_lock = threading.Lock()


def _probe(model: keras.Model) -> _Probe:
    """The model's probe, built once per model (a few ms) and dropped with the model."""
    with _probes_lock:
        probe = _probes.get(model)
        if probe is None:
            probe = _probes[model] = _Probe(model)
        return probe


def _as_image(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.size != IMAGE_SIZE * IMAGE_SIZE:
        raise ValueError(f"Expected one 28×28 image, got shape {x.shape}.")
    return x.reshape(IMAGE_SIZE, IMAGE_SIZE)


def _activations(probe: _Probe, outputs: list[tf.Tensor], row: int = 0) -> tuple:
    return tuple(
        LayerActivation(layer.name, type(layer).__name__,
                        keras.ops.convert_to_numpy(output[row]))
        for layer, output in zip(probe.hidden, outputs)
    )


def hidden_activations(model: keras.Model, x: np.ndarray) -> list[LayerActivation]:
    """Every hidden Dense/Conv2D layer's output for one 28×28 input, input side first."""
    probe = _probe(model)
    outputs, _, _ = probe(tf.constant(_as_image(x).reshape(1, *probe.input_shape)))
    return list(_activations(probe, outputs))


def explain(model: keras.Model, x: np.ndarray) -> Explanation:
    """Softmax, hidden activations and the gradient of every digit's score, for one input.

    Ten copies of the input go through the network as one batch, and copy k's
    logit[k] is differentiated: one backward pass gives all ten gradients.
    """
    x = _as_image(x)
    probe = _probe(model)
    batch = tf.constant(np.repeat(x.reshape(1, *probe.input_shape), NUM_CLASSES, axis=0))
    with tf.GradientTape() as tape:
        tape.watch(batch)
        outputs, logits, probabilities = probe(batch)
        own_scores = tf.reduce_sum(tf.linalg.diag_part(logits))
    gradients = keras.ops.convert_to_numpy(tape.gradient(own_scores, batch))
    return Explanation(
        x=x,
        logits=keras.ops.convert_to_numpy(logits[0]),
        probabilities=keras.ops.convert_to_numpy(probabilities[0]),
        gradients=gradients.reshape(NUM_CLASSES, IMAGE_SIZE, IMAGE_SIZE),
        activations=_activations(probe, outputs),
    )


def saliency(model: keras.Model, x: np.ndarray, digit: int, versus: int | None = None
             ) -> np.ndarray:
    """28×28 gradient × input for `digit` (rather than `versus`); see `Explanation.saliency`."""
    return explain(model, x).saliency(digit, versus)


def occlusion(model: keras.Model, x: np.ndarray, patch: int = OCCLUSION_PATCH,
              stride: int = OCCLUSION_STRIDE) -> np.ndarray:
    """(10, 28, 28): how much each digit's score drops when the pixel's area is blanked.

    A patch×patch square of the input is set to background at every `stride`-th
    position; each pixel gets the mean drop over the patches that cover it. Positive:
    the ink there is evidence for the digit; negative: evidence against it. Unlike
    gradients, this asks the network directly, at the cost of one batch of copies.
    The score is the pre-softmax one, as for gradient × input: a softmax at 99.99%
    barely moves when part of the digit is hidden, its score does. `maps[a] - maps[b]`
    is then the drop in log(p[a] / p[b]).
    """
    x = _as_image(x)
    last = IMAGE_SIZE - patch
    starts = sorted(set(range(0, last + 1, stride)) | {last})
    corners = [(top, left) for top in starts for left in starts]
    copies = np.repeat(x[np.newaxis], len(corners) + 1, axis=0)
    covered = np.zeros((len(corners), IMAGE_SIZE, IMAGE_SIZE), np.float32)
    for number, (top, left) in enumerate(corners, start=1):
        copies[number, top:top + patch, left:left + patch] = 0.0
        covered[number - 1, top:top + patch, left:left + patch] = 1.0
    probe = _probe(model)
    _, logits, _ = probe(tf.constant(copies.reshape(len(copies), *probe.input_shape)))
    logits = keras.ops.convert_to_numpy(logits)
    drops = logits[0] - logits[1:]  # (patches, 10)
    total = np.einsum("pd,phw->dhw", drops, covered)
    return total / covered.sum(axis=0)


def unit_noun(model: keras.Model) -> str:
    """What the first layer's units are: filters (CNN), units, or digits (no hidden layer)."""
    layer = first_layer(model)
    if layer is model.layers[-1]:
        return "digit"
    return "filter" if isinstance(layer, keras.layers.Conv2D) else "unit"
