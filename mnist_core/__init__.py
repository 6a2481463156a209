"""MNIST Playground's logic: data, model, training, preprocessing, prediction, figures.

Nothing here imports Streamlit, so all of it runs in tests and on the command line.
Submodules that need Keras import it themselves; importing this package does not.

It does switch on TensorFlow's oneDNN kernels (unless the environment says
otherwise), which must happen before TensorFlow loads. This TensorFlow leaves them
off on CPUs like the project's AMD EPYC, where they make the CNN's inference
markedly faster and training no slower (docs/benchmarks.md, "Evaluating":
bench/evaluate_speed.py, bench/training_throughput.py).

And it keeps numpy's matrix products on the calling thread. The app's are small
(a drawing through a dense network), and OpenBLAS's worker threads only spin on
them, taking the CPU that training and the browser need: with them, a stroke cost
the Streamlit server far more CPU (docs/benchmarks.md, "Where the CPU goes in a
stroke": bench/browser_cpu.py).
"""

import os

import numpy  # noqa: F401  (loaded first: threadpoolctl limits the BLAS it finds loaded)
from threadpoolctl import threadpool_limits

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
threadpool_limits(limits=1, user_api="blas")
