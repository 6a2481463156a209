"""Shared fixtures: real MNIST (from MNIST_DATA) and one small model trained on it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"

# Tests read the local copy of MNIST; these machines cannot download it.
if "MNIST_DATA" not in os.environ and SHARED_MNIST.is_file():
    os.environ["MNIST_DATA"] = str(SHARED_MNIST)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session", autouse=True)
def _isolated_runs_dir(tmp_path_factory):
    """Runs saved during tests (the CLI's `train`, the app) go to a temporary directory,
    never to runs/ or to a runs directory named in the caller's environment."""
    previous = os.environ.get("MNIST_RUNS_DIR")
    path = tmp_path_factory.mktemp("runs")
    os.environ["MNIST_RUNS_DIR"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("MNIST_RUNS_DIR", None)
    else:
        os.environ["MNIST_RUNS_DIR"] = previous


@pytest.fixture(scope="session")
def mnist():
    from mnist_core.data import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def trained_model(mnist):
    """The default classic model after 2 epochs on 30,000 images (~97% test accuracy)."""
    from mnist_core.runs.records import JobStatus
    from mnist_core.runs.train import TrainConfig, TrainingJob

    job = TrainingJob(mnist, train_config=TrainConfig(epochs=2, train_size=30_000))
    job.run()
    assert job.progress().status == JobStatus.FINISHED, job.progress().error
    return job.model


@pytest.fixture
def without_reader(monkeypatch, tmp_path):
    """The app as a checkout without models/reader.keras finds itself: no ready reader."""
    import mnist_core.reader
    from ui.reader import ready_reader

    monkeypatch.setattr(mnist_core.reader, "MODELS_DIR", tmp_path)
    ready_reader.clear()
    yield
    ready_reader.clear()
