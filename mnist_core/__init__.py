"""MNIST Playground's logic: data, model, training, preprocessing, prediction, figures.

Nothing here imports Streamlit, so all of it runs in tests and on the command line.
Submodules that need Keras import it themselves; importing this package does not.

It does switch on TensorFlow's oneDNN kernels (unless the environment says
otherwise), which must happen before TensorFlow loads. This TensorFlow leaves them
off on CPUs like the project's AMD EPYC; on 2 cores they evaluate the CNN on the
10,000 test images in 0.65 s instead of 1.37 s, and train as fast as without
(bench/evaluate_speed.py, bench/training_throughput.py).
"""

import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
