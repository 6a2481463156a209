"""Background trainings lower their own and TensorFlow's threads' priority, not the app's."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.runs.priority import TRAINING_NICENESS, yield_cpu_to_users
from mnist_core.runs.train import TrainingJob

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="per-thread priorities are Linux-only")


def niceness(thread_id: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, thread_id)


def test_a_thread_lowers_itself_but_not_other_python_threads():
    seen = {}

    def worker():
        yield_cpu_to_users()
        seen["worker"] = niceness(threading.get_native_id())

    main_before = niceness(threading.get_native_id())
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen["worker"] == max(TRAINING_NICENESS, main_before)
    assert niceness(threading.get_native_id()) == main_before


def test_a_background_training_lowers_tensorflows_workers(mnist):
    python_threads = {thread.native_id for thread in threading.enumerate()}
    main_before = niceness(threading.get_native_id())
    job = TrainingJob(mnist, ModelConfig(hidden_units=(16,)),
                      TrainConfig(epochs=1, train_size=1_000, validation_split=0.0))
    job.start()
    job.join(timeout=120)
    assert job.progress().status.value == "finished"
    others = [int(t) for t in os.listdir("/proc/self/task") if int(t) not in python_threads]
    assert others, "TensorFlow runs workers of its own"
    assert all(niceness(t) >= TRAINING_NICENESS for t in others if _alive(t))
    assert niceness(threading.get_native_id()) == main_before, "the caller keeps its priority"


def _alive(thread_id: int) -> bool:
    return os.path.exists(f"/proc/self/task/{thread_id}")
