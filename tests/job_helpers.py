"""Waiting on a training job from a test: poll its progress, fail instead of hanging."""

from __future__ import annotations

import time

import pytest

from mnist_core.runs.records import JobProgress
from mnist_core.runs.train import TrainingJob

TIMEOUT = 120  # seconds; far above what any job here needs, so a hang fails instead of blocking


def wait_until(job: TrainingJob, condition, timeout: float = TIMEOUT) -> JobProgress:
    """The first progress view that satisfies `condition`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progress = job.progress()
        if condition(progress):
            return progress
        time.sleep(0.005)
    pytest.fail(f"timed out waiting; last progress: {job.progress()}")
