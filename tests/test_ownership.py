"""Whose run is whose: the owner saved with each run, and changes refused to anyone else.

The refusals are tested where they are made (the store, the registry) and through the
app's own server-side calls for a visitor of a shared server: a browser that never
shows a Delete button could still send the request, so hiding it is not enough.
"""

from __future__ import annotations

import json
import threading

import keras
import pytest
from streamlit.testing.v1 import AppTest

from mnist_core.config import TrainConfig
from mnist_core.data import MnistData
from mnist_core.runs.owners import LOCAL, NotYourRun, Owner, session_owner, user_owner
from mnist_core.runs.registry import RunRegistry
from mnist_core.runs.store import RunStore
from mnist_core.runs.train import TrainingJob

ALICE = Owner(user_owner("https://id.example", "alice-1"), "Alice")
BOB = Owner(user_owner("https://id.example", "bob-2"), "Bob")


@pytest.fixture(scope="module")
def data(mnist):
    return MnistData(mnist.x_train[:1000], mnist.y_train[:1000], mnist.x_test[:200],
                     mnist.y_test[:200], source=mnist.source)


def finished_run(data, store: RunStore, owner: Owner) -> TrainingJob:
    job = TrainingJob(data, train_config=TrainConfig(epochs=1, train_size=500), store=store)
    job.owner = owner
    job.run()
    return job


def meta(store: RunStore, run_id: str) -> dict:
    return json.loads((store.run_dir(run_id) / "run.json").read_text())


def test_the_owner_is_saved_with_the_run_and_comes_back_with_it(data, tmp_path):
    store = RunStore(tmp_path)
    job = finished_run(data, store, ALICE)
    assert (meta(store, job.run_id)["owner"], meta(store, job.run_id)["owner_name"]) == (
        ALICE.id, "Alice")
    assert store.load(job.run_id).owner == ALICE
    assert store.list_runs()[0].owner == ALICE
    restored = RunRegistry(store=RunStore(tmp_path)).restore(job.run_id, data)
    assert restored is not None and restored.owner == ALICE


def test_a_run_saved_before_owners_is_the_local_persons(data, tmp_path):
    store = RunStore(tmp_path)
    job = finished_run(data, store, ALICE)
    old = meta(store, job.run_id)
    del old["owner"], old["owner_name"]
    (store.run_dir(job.run_id) / "run.json").write_text(json.dumps(old))
    assert store.load(job.run_id).owner == Owner(LOCAL)
    store.rename(job.run_id, "mine", by=LOCAL)
    with pytest.raises(NotYourRun):
        store.delete(job.run_id, by=BOB.id)


def test_only_the_owner_renames_or_deletes_a_run(data, tmp_path):
    store = RunStore(tmp_path)
    job = finished_run(data, store, ALICE)
    with pytest.raises(NotYourRun, match=f"Run {job.run_id} is Alice's: only they can rename"):
        store.rename(job.run_id, "Bob's now", by=BOB.id)
    with pytest.raises(NotYourRun, match="only they can delete it"):
        store.delete(job.run_id, by=BOB.id)
    assert store.load(job.run_id).name is None and store.exists(job.run_id)
    assert meta(store, job.run_id)["owner"] == ALICE.id  # a refused change leaves it as it was

    store.rename(job.run_id, "first try", by=ALICE.id)
    assert store.load(job.run_id).name == "first try"
    assert meta(store, job.run_id)["owner"] == ALICE.id  # renaming keeps the owner
    store.delete(job.run_id, by=ALICE.id)
    assert not store.exists(job.run_id)


def test_the_command_line_and_the_local_app_change_any_run(data, tmp_path):
    """`by=None`: no one to check, as on one's own machine."""
    store = RunStore(tmp_path)
    job = finished_run(data, store, ALICE)
    store.rename(job.run_id, "renamed locally")
    store.delete(job.run_id)
    assert not store.exists(job.run_id)


class Gate(keras.callbacks.Callback):
    """Holds a training in its first batch until released."""

    def __init__(self) -> None:
        super().__init__()
        self.started, self.release = threading.Event(), threading.Event()

    def on_train_batch_end(self, batch, logs=None) -> None:
        self.started.set()
        self.release.wait(timeout=60)


def test_only_the_owner_stops_a_training(data, tmp_path):
    registry = RunRegistry(max_concurrent=1, store=RunStore(tmp_path))
    gate = Gate()
    job = TrainingJob(data, train_config=TrainConfig(epochs=2, train_size=500),
                      callbacks=[gate])
    try:
        registry.submit(job, ALICE)
        assert gate.started.wait(timeout=60)
        assert meta(registry.store, job.run_id)["owner"] == ALICE.id  # on disk from the start
        with pytest.raises(NotYourRun, match="only they can stop it"):
            registry.stop(job.run_id, by=BOB.id)
        assert not job.stop_requested
        registry.stop(job.run_id, by=ALICE.id)
        assert job.stop_requested
    finally:
        gate.release.set()
        registry.shutdown()
    assert job.progress().status.value == "stopped"


# --- the app's server-side calls, for a visitor of a shared server -----------------------


def _try_to_change(run_id: str, action: str) -> None:
    """An AppTest script: one session asks the server to change a run, as the Runs page's
    callbacks do, and shows what it answered."""
    import streamlit as st

    from mnist_core.runs.errors import StoreError
    from ui.session import delete_run, rename_run

    try:
        if action == "rename":
            rename_run(run_id, "taken over")
        else:
            delete_run(run_id)
    except StoreError as error:
        st.error(str(error))
    else:
        st.success("done")


def session_asking(action: str, run_id: str) -> AppTest:
    at = AppTest.from_function(_try_to_change, args=(run_id, action), default_timeout=60)
    return at.run()


@pytest.mark.parametrize("action", ["rename", "delete"])
def test_a_visitor_cannot_change_someone_elses_run_on_a_shared_server(
        data, monkeypatch, action):
    from ui.server import saved_runs

    monkeypatch.setenv("MNIST_SHARED", "1")
    store = saved_runs()
    job = finished_run(data, store, Owner(session_owner("someone-else"), None))
    at = session_asking(action, job.run_id)
    assert not at.exception
    assert [error.value for error in at.error] == [
        f"Run {job.run_id} is someone else's: only they can {action} it."]
    assert store.exists(job.run_id) and store.load(job.run_id).name is None


def test_the_local_person_changes_every_run(data, monkeypatch):
    from ui.server import saved_runs

    monkeypatch.delenv("MNIST_SHARED", raising=False)
    store = saved_runs()
    job = finished_run(data, store, Owner(session_owner("a-tab-long-closed"), None))
    at = session_asking("delete", job.run_id)
    assert [success.value for success in at.success] == ["done"]
    assert not store.exists(job.run_id)


def test_the_mode_comes_from_the_environment_and_the_address(monkeypatch):
    from ui.identity import Mode, _is_loopback

    def mode_in_a_session() -> None:
        import streamlit as st

        from ui.identity import server_mode

        st.write(server_mode().value)

    for value, mode in (("1", Mode.ANONYMOUS), ("0", Mode.LOCAL), ("", Mode.LOCAL)):
        monkeypatch.setenv("MNIST_SHARED", value)
        at = AppTest.from_function(mode_in_a_session).run()
        assert at.markdown[0].value == mode.value
    monkeypatch.setenv("MNIST_SHARED", "maybe")
    at = AppTest.from_function(mode_in_a_session).run()
    assert "MNIST_SHARED must be 1" in at.exception[0].message
    assert _is_loopback(None) and _is_loopback("localhost") and _is_loopback("127.0.0.1")
    assert _is_loopback("::1")
    assert not _is_loopback("0.0.0.0") and not _is_loopback("192.168.1.20")
    assert not _is_loopback("class.example.org")
