"""Ask a trained model what digit it sees.

The model is called directly: `model.predict` costs about 40 ms of set-up per
call, far too much for a prediction on every stroke; a direct call takes ~1 ms.
"""

from __future__ import annotations

import keras
import numpy as np

from mnist_core.data import IMAGE_SIZE


def predict_proba(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Softmax probabilities: shape (10,) for one 28×28 image, (N, 10) for a batch.

    Images are 28×28 floats in [0, 1] (white digit on black), or already flat 784-vectors.
    """
    x = np.asarray(x, dtype=np.float32)
    single = x.shape in ((IMAGE_SIZE, IMAGE_SIZE), (IMAGE_SIZE * IMAGE_SIZE,))
    batch = x.reshape((1 if single else len(x), *model.input_shape[1:]))
    probabilities = keras.ops.convert_to_numpy(model(batch, training=False))
    return probabilities[0] if single else probabilities
