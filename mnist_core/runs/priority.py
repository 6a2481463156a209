"""Background trainings yield the CPU to the people using the app.

A training keeps every core busy for minutes. At the same scheduling priority, a
drawing's prediction (and, on a shared machine, the browser showing it) waits its
turn behind the training's threads. So a background training lowers the priority
("nice" value) of its own thread and of TensorFlow's worker threads: when nothing
else wants the CPU the training still gets all of it, and when a user draws, the
user goes first.

TensorFlow's workers are not Python threads, so they are told apart from the
app's own threads (Streamlit's server and script threads) by not being Python
threads. Per-thread priorities exist on Linux only; elsewhere this does nothing.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

TRAINING_NICENESS = 10  # out of 19: a training gets about a tenth of a contested core

_TASKS = Path("/proc/self/task")


def yield_cpu_to_users() -> None:
    """Lower this thread and every non-Python thread of the process to TRAINING_NICENESS.

    Call it from the training thread, again whenever TensorFlow may have started
    new workers (each epoch). Priorities are only ever lowered, never raised.
    """
    if not sys.platform.startswith("linux") or not _TASKS.is_dir():
        return
    python_threads = {thread.native_id for thread in threading.enumerate()}
    this_thread = threading.get_native_id()
    for entry in _TASKS.iterdir():
        thread_id = int(entry.name)
        if thread_id == this_thread or thread_id not in python_threads:
            _lower(thread_id)


def _lower(thread_id: int) -> None:
    try:
        if os.getpriority(os.PRIO_PROCESS, thread_id) < TRAINING_NICENESS:
            os.setpriority(os.PRIO_PROCESS, thread_id, TRAINING_NICENESS)
    except OSError:  # the thread has just ended
        pass
