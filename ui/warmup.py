"""Drawing ready before anyone draws: loaded in the background, once per server.

A fresh server imports TensorFlow, loads the ready reader and prepares its first
prediction only when a drawing needs them: the first visitor's first stroke used to
wait for all of it. The first page a visitor opens answers first, as fast as before;
then a thread does that work, so that when someone draws, it is done.
"""

from __future__ import annotations

import threading

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from mnist_core.drawings import draw_digit, random_style
from mnist_core.figures.images import tile
from mnist_core.figures.softmax import softmax_figure
from mnist_core.preprocess import naive_resize, preprocess_steps
from mnist_core.runs.priority import yield_cpu_to_users
from ui.reader import ready_reader
from ui.server import mnist


def warm_up_in_background() -> None:
    """Start the warm-up, once per server; call it after a page has answered."""
    _warming()


@st.cache_resource(show_spinner=False)
def _warming() -> threading.Thread:
    # Not a daemon: a server stopped meanwhile waits for it, rather than killing it in
    # the middle of TensorFlow's native code (which aborts with "FATAL: exception not
    # rethrown").
    thread = threading.Thread(target=_warm_up, name="warm-up", daemon=False)
    # The ready reader is a cached resource: Streamlit reads it within a session's context.
    add_script_run_ctx(thread, get_script_run_ctx())
    thread.start()
    return thread


def _warm_up() -> None:
    """What a first stroke needs: the reader, its first reading, the preparation, the chart."""
    yield_cpu_to_users()  # background work, like a training: people using the app go first
    canvas = draw_digit(mnist().x_test[0], random_style(np.random.default_rng(0)))
    steps = preprocess_steps(canvas)
    naive_resize(canvas)
    softmax_figure(None)
    reader = ready_reader()
    if steps is None or reader is None:
        return
    tile(steps.ink)
    snapshot = reader.job.latest_snapshot()
    if snapshot is not None:
        from mnist_core.predict import read_digit_at  # TensorFlow: here, in the background

        read_digit_at(reader.job.predictor, snapshot, steps.centred)
