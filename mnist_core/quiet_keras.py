"""Keras, imported with TensorFlow's start-up notices kept off the user's terminal.

TensorFlow's C++ side prints an info line about its oneDNN kernels, once for each of
its two libraries, before its logging is set up, so `TF_CPP_MIN_LOG_LEVEL` cannot
hold it back: a user saw it twice above the app's own output. The standard error
stream is muted while TensorFlow loads, and its later C++ logs keep to errors unless
the environment says otherwise. Modules that need Keras (or TensorFlow) import it from here.
"""

from __future__ import annotations

import os
import sys


def _import_quietly() -> None:
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_import_quietly()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

__all__ = ["keras", "tf"]
