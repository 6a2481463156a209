"""What every session shares, made once per server: the dataset and the run registry.

Both live in `st.cache_resource`: MNIST takes seconds to load and is read-only, and
runs outlive the sessions that start them, so that a reload or a shared link finds
its run by id. Each session's own view of the runs is in `ui.session`.
"""

from __future__ import annotations

import atexit
from typing import TYPE_CHECKING

import streamlit as st

from mnist_core.data import MnistData, load_mnist
from mnist_core.runs.cluster import ClusterSettings
from mnist_core.runs.store import RunStore, default_runs_dir

if TYPE_CHECKING:
    from mnist_core.runs.registry import RunRegistry
    from mnist_core.runs.train import TrainingJob


@st.cache_resource(show_spinner="Loading MNIST…")
def mnist() -> MnistData:
    """The dataset, loaded once per server and shared by every session."""
    return load_mnist()


@st.cache_resource
def runs() -> RunRegistry:
    """The server-wide run registry: runs outlive sessions, reloads find them by id.

    Each run is saved as it trains (`MNIST_RUNS_DIR`, default runs/), so runs also
    outlive the server: a link to an earlier server's run brings it back. With
    `MNIST_RAY_ADDRESS`, a Ray cluster trains them, and every app server that shares
    the runs directory and the cluster finds them.
    """
    from mnist_core.runs.registry import RunRegistry

    settings = ClusterSettings.from_environment()
    if settings is None:
        registry = RunRegistry(store=RunStore())  # marks runs a killed server left interrupted
    else:
        registry = RunRegistry.on_cluster(settings, default_runs_dir())
    atexit.register(registry.shutdown)  # stop this server's trainings cleanly when it stops
    return registry


def restore(run_id: str) -> TrainingJob | None:
    """The run with this id, from memory or else from disk; None if it is not there.

    Raises StoreError or ModelFileError, in words, when its files cannot be read.
    """
    return runs().restore(run_id, mnist())


def saved_runs() -> RunStore:
    """The runs on disk: the registry's store, which this server always has."""
    store = runs().store
    assert store is not None, "the app's registry is made with a store"
    return store
