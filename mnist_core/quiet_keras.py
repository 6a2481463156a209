"""Keras, imported with TensorFlow's start-up notices kept off the user's terminal.

TensorFlow's C++ side prints an info line about its oneDNN kernels, once for each of
its two libraries, before its logging is set up, so `TF_CPP_MIN_LOG_LEVEL` cannot
hold it back: a user saw it twice above the app's own output. The standard error
stream is muted while TensorFlow loads, and its later C++ logs keep to errors unless
the environment says otherwise. Modules that need Keras (or TensorFlow) import it from here.

It also drops TensorFlow's warning that "N out of the last M calls ... triggered
tf.function retracing": the app traces each network's inference once, by design
(`mnist_core.predict.graph_call`), and a visitor who opens the ready reader, a run
and a snapshot in a row traces several networks through the same code, which that
warning takes for a loop retracing one function.
"""

from __future__ import annotations

import logging
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


class _OneTracePerNetwork(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


_import_quietly()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.get_logger().addFilter(_OneTracePerNetwork())

__all__ = ["keras", "tf"]
