"""This session's runs: the one it follows, the one it draws with, and the `?run=` link.

Per-user state lives in `st.session_state`: the id of the run this session follows
(its charts and progress, RUN_ID) and of the run whose weights it reads drawings with
(MODEL_RUN_ID: the followed run once it has finished an epoch, until then the one
before). Following a run is done in one place, `follow_run`, and so is letting go of
a deleted one, `forget_run`, so that the two ids and the link always agree.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

import streamlit as st

from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.model_file import ModelFileError
from mnist_core.runs.cluster import ClusterError
from mnist_core.runs.errors import StoreError
from mnist_core.runs.owners import NotYourRun
from mnist_core.runs.stored import RunSummary
from ui.identity import Mode, visitor
from ui.server import mnist, restore, runs, saved_runs

FOLLOW_SECONDS = 2.0  # how often a page showing the model checks for a newer epoch

if TYPE_CHECKING:
    from mnist_core.runs.train import TrainingJob

RUN_ID = "run_id"  # the run this session follows
MODEL_RUN_ID = "model_run_id"  # the run this session draws with
LINK = "run"  # the link's parameter: ?run=ID
LATEST_CHECKED = "latest_run_checked"  # this session has looked for the latest finished run
OPENED_LATEST = "opened_latest_run"  # the run this session opened for its user on arrival
LINKED = "linked_runs"  # runs this session opened by their link: on its Runs page too


def follow_run(run_id: str, *, draw_with: bool = True) -> None:
    """Make a run this session's own: its progress and charts, and the `?run=` link.

    With `draw_with`, the session also draws with its model from now on, by the user's
    choice (no longer "your latest finished run, opened for you"). Without it (a run
    just started, or opened by a link), the model follows once the run has finished
    an epoch: see `model_job`.
    """
    st.session_state[RUN_ID] = run_id
    if draw_with:
        st.session_state[MODEL_RUN_ID] = run_id
        st.session_state.pop(OPENED_LATEST, None)
    if st.query_params.get(LINK) != run_id:
        st.query_params[LINK] = run_id


def forget_run(run_id: str) -> None:
    """A run deleted from disk: the server forgets it, and this session lets go of it
    (neither followed, drawn with nor in the link any more)."""
    runs().forget(run_id)
    if st.session_state.get(RUN_ID) == run_id:
        del st.session_state[RUN_ID]
        if st.query_params.get(LINK) == run_id:
            del st.query_params[LINK]
    if st.session_state.get(MODEL_RUN_ID) == run_id:
        del st.session_state[MODEL_RUN_ID]


def sync_run_with_url() -> None:
    """Keep `?run=ID` in the address bar, and follow a run id that arrives in it.

    A reload or a shared link starts a new session with only the URL: the run id in
    it re-attaches that session to the run, wherever it was started. A new tab or
    the bare address opens the latest finished run instead, so that a returning
    user finds their model rather than "no model yet".
    """
    url_run = st.query_params.get(LINK)
    session_run = st.session_state.get(RUN_ID)
    checked = st.session_state.get(LATEST_CHECKED, False)
    st.session_state[LATEST_CHECKED] = True
    if url_run and url_run != session_run:
        try:
            found = restore(url_run)
        except (StoreError, ModelFileError) as error:
            st.toast(f"Run {url_run!r} could not be opened: {error}")
            del st.query_params[LINK]
            return
        if found is not None:
            st.session_state.setdefault(LINKED, set()).add(url_run)
            follow_run(url_run, draw_with=False)
        else:
            st.toast(f"Run {url_run!r} was not found: it may have been deleted.")
            del st.query_params[LINK]
    elif session_run and url_run != session_run:
        st.query_params[LINK] = session_run
    elif not session_run and not checked:
        _open_latest_finished_run()


def _open_latest_finished_run() -> None:
    """Follow the visitor's newest run on disk that finished with a model, if there is one."""
    me = visitor()
    latest = next((summary for summary in saved_runs().list_runs()
                   if summary.status == "finished" and me.owns(summary.owner)), None)
    if latest is None or find_run(latest.run_id) is None:
        return
    follow_run(latest.run_id)
    st.session_state[OPENED_LATEST] = latest.run_id


def find_run(run_id: str | None) -> TrainingJob | None:
    """The run with this id, from memory or else from disk; None if it is gone or unreadable.

    The server keeps only its latest finished runs in memory: older ones load again here.
    """
    if not run_id:
        return None
    try:
        return restore(run_id)
    except (StoreError, ModelFileError):
        return None


def current_job() -> TrainingJob | None:
    """The run this session follows (its latest, or one opened by link), or None."""
    return find_run(st.session_state.get(RUN_ID))


def model_job() -> TrainingJob | None:
    """The run whose latest epoch snapshot this session draws with, or None.

    The current run once it has finished an epoch; until then the previous one.
    """
    job = current_job()
    if job is not None and job.latest_snapshot() is not None:
        st.session_state[MODEL_RUN_ID] = job.run_id
    return find_run(st.session_state.get(MODEL_RUN_ID))


@st.cache_resource(max_entries=8, show_spinner=False)
def _model_at(run_id: str, epoch: int):
    """A network with a run's weights after `epoch`, built once and shared read-only."""
    from mnist_core.model import build_model  # TensorFlow: not for pages without a model

    job = find_run(run_id)
    assert job is not None, f"run {run_id} is gone"  # the session found it a moment ago
    snapshot = next(s for s in job.snapshots() if s.epoch == epoch)
    model = build_model(job.model_config)
    model.set_weights(list(snapshot.weights))
    return model


def snapshot_model():
    """(model, epoch, job): a network with this session's latest snapshot, or None.

    For views that need the network itself (gradients, layer outputs, weights),
    not only its softmax. Never modify the model: other sessions may share it.
    """
    job = model_job()
    if job is None:
        return None
    epoch = job.latest_snapshot().epoch
    return _model_at(job.run_id, epoch), epoch, job


def is_active(job: TrainingJob | None) -> TypeGuard[TrainingJob]:
    """Whether the run is queued or training (and so not None)."""
    return job is not None and not job.progress().status.is_done


def is_training() -> bool:
    """Whether the run this session follows is queued or training (its own or a linked one)."""
    return is_active(current_job())


def is_mine(job: TrainingJob | None) -> bool:
    """Whether this session's visitor owns the run: may rename, delete or stop it."""
    return job is not None and visitor().owns(job.owner)


def own_training() -> bool:
    """Whether this session's own run is queued or training: one at a time per person."""
    job = current_job()
    return is_active(job) and is_mine(job)


def visible_runs(summaries: list[RunSummary]) -> list[RunSummary]:
    """The saved runs this visitor sees on the Runs page: every run locally; elsewhere
    their own and those this session opened by link."""
    me, linked = visitor(), st.session_state.get(LINKED, set())
    return [summary for summary in summaries
            if me.mode is Mode.LOCAL or summary.run_id in linked
            or (summary.owner is not None and me.owns(summary.owner))]


def rename_run(run_id: str, name: str) -> None:
    """Rename a saved run; NotYourRun unless it is the visitor's (checked on disk)."""
    saved_runs().rename(run_id, name, by=visitor().by)


def delete_run(run_id: str) -> None:
    """Delete a saved run for good and let go of it; NotYourRun unless it is the visitor's,
    RunActive while it trains."""
    saved_runs().delete(run_id, by=visitor().by)
    forget_run(run_id)


def weights_in_use() -> tuple[str, int] | None:
    """(run id, epoch) of the weights this session draws with, or None."""
    job = model_job()
    latest = job.latest_snapshot() if job is not None else None
    return None if job is None or latest is None else (job.run_id, latest.epoch)


def follow_training(every: float = FOLLOW_SECONDS) -> None:
    """While this session's run trains, rerun the page once newer weights are ready or
    the run ends, so that a page showing the model follows it epoch by epoch."""
    if is_training():
        st.fragment(run_every=every)(_rerun_on_new_weights)(weights_in_use())


def _rerun_on_new_weights(shown: tuple[str, int] | None) -> None:
    if weights_in_use() != shown or not is_training():
        st.rerun()


def start_training(model_config: ModelConfig, train_config: TrainConfig) -> None:
    """Submit a run: it starts now or waits for a free slot, and outlives reruns."""
    me = visitor()
    if not me.may_train:
        st.warning("Sign in to train: your runs are kept under your name.")
        return
    if own_training():
        st.warning("A run is already in progress: stop it before starting another.")
        return
    job = runs().new_job(mnist(), model_config, train_config)
    try:
        runs().submit(job, me.owner)
    except ClusterError as error:
        st.error(str(error), icon=":material/cloud_off:")
        return
    follow_run(job.run_id, draw_with=False)  # no epoch yet: the model follows after one


def stop_training() -> None:
    job = current_job()
    if not is_active(job):
        return
    try:
        runs().stop(job.run_id, by=visitor().by)
    except NotYourRun as error:
        st.toast(str(error), icon=":material/block:")
    else:
        st.toast("Stopping after the current batch…")


def import_model(data: bytes, name: str) -> TrainingJob:
    """An uploaded `.keras` file as a new run that this session follows; the job.

    Raises ModelFileError, in the user's words, when the file is refused: then
    nothing changes and the session keeps its model.
    """
    from mnist_core.model import load_model  # TensorFlow: not for pages without a model

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.keras"
        path.write_bytes(data)
        return keep_model(load_model(str(path), name=name), name)


def keep_model(model, name: str, origin: str | None = None) -> TrainingJob:
    """A network made outside training (uploaded, adapted) as a new finished run that
    this session follows, tested on MNIST and saved like any run; the job."""
    from mnist_core.runs.train import TrainingJob  # TensorFlow: not for pages without a model

    job = TrainingJob.imported(mnist(), model, name, origin=origin)
    runs().add(job, visitor().owner)
    follow_run(job.run_id)
    return job
