"""MNIST Playground's logic: data, model, training, preprocessing, prediction, figures.

Nothing here imports Streamlit, so all of it runs in tests and on the command line.
Submodules that need Keras import it themselves; importing this package does not.

It does switch on TensorFlow's oneDNN kernels (unless the environment says
otherwise), which must happen before TensorFlow loads. This TensorFlow leaves them
off on CPUs like the project's AMD EPYC; on 2 cores they evaluate the CNN on the
10,000 test images in 0.65 s instead of 1.37 s, and train as fast as without
(bench/evaluate_speed.py, bench/training_throughput.py).

And it keeps numpy's matrix products on the calling thread. The app's are small
(a drawing through a dense network: 0.2 ms), and OpenBLAS's worker threads only spin
on them, taking the CPU that training and the browser need: in the Streamlit server
a stroke cost 265–396 ms of CPU with them, 117 ms without (docs/benchmarks.md).
"""

import os

import numpy  # noqa: F401  (loaded first: threadpoolctl limits the BLAS it finds loaded)
from threadpoolctl import threadpool_limits

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
threadpool_limits(limits=1, user_api="blas")
