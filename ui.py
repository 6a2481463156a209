"""Streamlit pieces shared by the pages: the cached dataset, the sidebar, the user's training.

Per-user state lives in `st.session_state`: the id of the run this session follows
("run_id") and of the run it draws with ("model_run_id"). Heavy, shared objects — the
dataset and the server's run registry — live in `st.cache_resource`. TensorFlow is
imported only by the functions that need it, so pages without a model render first.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Mapping

import streamlit as st
from streamlit.runtime.scriptrunner import script_runner

from mnist_core.config import (
    ACTIVATIONS,
    ARCHITECTURES,
    LR_SCHEDULES,
    OPTIMIZERS,
    ModelConfig,
    TrainConfig,
)
from mnist_core.data import MnistData, load_mnist
from mnist_core.model_file import ModelFileError
from mnist_core.runs.errors import StoreError
from mnist_core.settings import (
    ALL_IMAGES,
    BATCH_SIZES,
    DEFAULTS,
    DRAWING_EXAMPLES,
    LEARNING_RATES,
    MAX_CNN_DROPOUT,
    MAX_DROPOUT,
    MAX_HIDDEN_LAYERS,
    MAX_VALIDATION_SPLIT,
    SLIDER_STEP,
    TRAIN_SIZES,
    UNIT_CHOICES,
    configs,
    link_parameters,
    setup_from_link,
)

ARCHITECTURE_NAMES = {
    "dense": "Dense (classic)",
    "cnn": "Convolutional (CNN)",
    "deep_cnn": "Deeper CNN (batch norm)",
}
ARCHITECTURE_CAPTIONS = {
    "cnn": "Two blocks of 3×3 convolutions (32 and 64 filters) with 2×2 max-pooling, "
           "then dropout and the softmax layer.",
    "deep_cnn": "Two blocks of two 3×3 convolutions (32, then 64 filters), each "
                "batch-normalised, with 2×2 max-pooling and half the dropout; then a "
                "dense layer of 256 units, dropout and the softmax layer. Reads drawn "
                "digits best, trains about ten times slower than the CNN.",
}
SCHEDULE_NAMES = {"constant": "constant", "cosine": "cosine decay to 0"}
# A step of 0.0001 gives "percent" two decimals: 98.10%, not 98.1% beside 97.85%.
_PERCENT = {"format": "percent", "step": 0.0001}
# Short headers, so that the table fits a laptop's narrow column; the tooltips say more.
HISTORY_COLUMNS = {
    "epoch": st.column_config.NumberColumn("Epoch"),
    "loss": st.column_config.NumberColumn("Loss", format="%.4f",
                                          help="Training loss: categorical cross-entropy"),
    "accuracy": st.column_config.NumberColumn("Accuracy", help="Training accuracy", **_PERCENT),
    "val_loss": st.column_config.NumberColumn("Val. loss", format="%.4f",
                                              help="Loss on the validation images"),
    "val_accuracy": st.column_config.NumberColumn("Val. accuracy", **_PERCENT,
                                                  help="Accuracy on the validation images"),
    "seconds": st.column_config.NumberColumn("Seconds", format="%.1f"),
    "samples_per_second": st.column_config.NumberColumn("Images/s", format="localized",
                                                        step=1, help="Training images per second"),
}
POLL_SECONDS = 1.0
CHART_POLL_SECONDS = 3.0
SETUP_REQUEST = "setup_request"  # (sidebar values, message) to apply on the next full run
LATEST_CHECKED = "latest_run_checked"  # this session has looked for the latest finished run
OPENED_LATEST = "opened_latest_run"  # the run this session opened for its user on arrival


def _keep_keras_state_between_reruns() -> None:
    """Stop Streamlit from calling `keras.backend.clear_session()` after every script run.

    That call (garbage collection plus clearing TensorFlow's kernel cache) runs after
    each rerun, every half second while a training is polled, and slowed the training
    thread about 30-fold; it also makes each drawing's prediction slower. This app
    keeps no per-run Keras state that needs clearing, so the clean-up is turned off.
    Streamlit's hook cleans matplotlib.pyplot too, which the app does not use.
    """
    if not hasattr(script_runner, "_clean_problem_modules"):
        raise RuntimeError("Streamlit changed: review _keep_keras_state_between_reruns in ui.py")
    script_runner._clean_problem_modules = lambda: None


_keep_keras_state_between_reruns()


@st.cache_resource(show_spinner="Loading MNIST…")
def mnist() -> MnistData:
    """The dataset, loaded once per server and shared by every session."""
    return load_mnist()


def page_config() -> tuple[ModelConfig, TrainConfig]:
    """The sidebar's settings for this run's page, as app.py read them."""
    return st.session_state["config"]


def switch_page(page: str) -> None:
    """Go to another page, keeping the sidebar's setup and the run in the link.

    `st.switch_page` starts the new page without the browser's widget values, so
    the sidebar would fall back to its defaults: the setup is read back from the
    link instead, which always matches the sidebar. Call it from the script, not
    from a callback (callbacks cannot switch pages).
    """
    st.session_state["setup_from_link_done"] = False
    st.switch_page(page, query_params=st.query_params.to_dict())


def sidebar_config(data: MnistData) -> tuple[ModelConfig, TrainConfig]:
    """The hyperparameter widgets; their values configure the next training.

    Their values live in the page's link too, so a link reproduces the setup.
    """
    _settings_from_link()
    with st.sidebar.expander("Training", expanded=True):
        st.number_input("Epochs", min_value=1, max_value=50, key="epochs")
        st.select_slider(
            "Batch size", options=BATCH_SIZES, key="batch_size",
            help="Images per gradient step. Smaller batches: more steps per epoch.",
        )
        st.slider(
            "Validation split", 0.0, MAX_VALIDATION_SPLIT, step=SLIDER_STEP,
            key="validation_split",
            help="Share of the training images held out to check for over-fitting.",
        )
        sizes = [size for size in TRAIN_SIZES if size < len(data.x_train)] + [ALL_IMAGES]
        if st.session_state["train_size"] not in sizes:
            st.session_state["train_size"] = ALL_IMAGES
        st.select_slider(
            "Training images", options=sizes, key="train_size",
            format_func=lambda size: f"all {len(data.x_train):,}" if size == ALL_IMAGES
            else f"{size:,}",
            help="Train on the first N images for a quick experiment.",
        )
        st.select_slider(
            "Add drawing-style examples", options=DRAWING_EXAMPLES, key="drawing_examples",
            format_func=lambda count: f"{count:,}" if count else "none",
            help="Simulated canvas drawings of training digits, added to the training "
                 "images only: the network learns what the Draw page shows it. Made "
                 "once, then kept beside the runs.",
        )
    with st.sidebar.expander("Network", expanded=True):
        architecture = st.selectbox(
            "Architecture", ARCHITECTURES, key="architecture",
            format_func=ARCHITECTURE_NAMES.get,
            help="The classic tutorial's dense network, Keras' simple MNIST convnet, or a "
                 "deeper convnet with batch normalisation.",
        )
        if architecture == "dense":
            hidden_layers = st.number_input(
                "Hidden layers", min_value=0, max_value=MAX_HIDDEN_LAYERS, key="hidden_layers"
            )
            st.select_slider(
                "Units per hidden layer", options=UNIT_CHOICES, key="units",
                disabled=hidden_layers == 0,
            )
            st.slider("Dropout", 0.0, MAX_DROPOUT, step=SLIDER_STEP, key="dropout")
        else:
            st.caption(ARCHITECTURE_CAPTIONS[architecture])
            st.slider("Dropout", 0.0, MAX_CNN_DROPOUT, step=SLIDER_STEP, key="cnn_dropout")
        st.selectbox("Activation", ACTIVATIONS, key="activation")
        st.checkbox(
            "Data augmentation", key="augment",
            help="Shift, rotate (±15°) and zoom each training image at random: "
                 "slower to train, better at reading drawn digits.",
        )
        st.selectbox("Optimizer", OPTIMIZERS, key="optimizer")
        st.select_slider(
            "Learning rate", options=LEARNING_RATES, key="learning_rate",
            format_func=lambda rate: f"{rate:g}",
        )
        st.selectbox(
            "Learning-rate schedule", LR_SCHEDULES, key="lr_schedule",
            format_func=SCHEDULE_NAMES.get,
            help="Cosine decay lowers the learning rate epoch by epoch toward 0, so the "
                 "last epochs settle instead of jumping about.",
        )
    _settings_to_link()
    return configs({key: st.session_state[key] for key in DEFAULTS})


def request_setup(values: Mapping[str, Any], message: str) -> None:
    """Put these values in the sidebar (and so in the link), from anywhere, fragments too.

    Call it from the script, not from a callback. A button inside a fragment reruns
    only the fragment, and the browser still holds the sidebar's old values, which
    it sends back with the next full run: the values are applied at the start of that
    run instead, before the sidebar's widgets exist, so they win.
    """
    st.session_state[SETUP_REQUEST] = (dict(values), message)
    st.rerun(scope="app")


def _settings_from_link() -> None:
    """Start each setting at its default, or, once per session, at the link's value.

    A value the link gets wrong is clamped or ignored, and the user is told so.
    """
    if not st.session_state.get("setup_from_link_done"):
        st.session_state["setup_from_link_done"] = True
        values, messages = setup_from_link(st.query_params.to_dict())
        st.session_state.update(values)
        for message in messages:
            st.toast(f"From the link: {message}", icon=":material/warning:")
    requested = st.session_state.pop(SETUP_REQUEST, None)
    if requested is not None:
        values, message = requested
        st.session_state.update(values)
        st.toast(message, icon=":material/tune:")
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)  # a widget not shown last run lost its value


def _settings_to_link() -> None:
    """Keep the address bar's setup equal to the sidebar's (defaults left out)."""
    wanted = link_parameters({key: st.session_state[key] for key in DEFAULTS
                              if key in st.session_state})
    for key in DEFAULTS:
        if key in st.query_params and key not in wanted:
            del st.query_params[key]
    for key, text in wanted.items():
        if st.query_params.get(key) != text:
            st.query_params[key] = text


@st.cache_resource
def runs():
    """The server-wide run registry: runs outlive sessions, reloads find them by id.

    Each run is saved as it trains (`MNIST_RUNS_DIR`, default runs/), so runs also
    outlive the server: a link to an earlier server's run brings it back.
    """
    import atexit

    from mnist_core.runs.registry import RunRegistry
    from mnist_core.runs.store import RunStore

    registry = RunRegistry(store=RunStore())  # marks runs a killed server left as interrupted
    atexit.register(registry.shutdown)  # stop trainings cleanly when the server stops
    return registry


def owner() -> str:
    """This browser session's private id: whose runs are whose."""
    return st.session_state.setdefault("owner", secrets.token_hex(8))


def sync_run_with_url() -> None:
    """Keep `?run=ID` in the address bar, and follow a run id that arrives in it.

    A reload or a shared link starts a new session with only the URL: the run id in
    it re-attaches that session to the run, wherever it was started. A new tab or
    the bare address opens the latest finished run instead, so that a returning
    user finds their model rather than "no model yet".
    """
    url_run = st.query_params.get("run")
    session_run = st.session_state.get("run_id")
    checked = st.session_state.get(LATEST_CHECKED, False)
    st.session_state[LATEST_CHECKED] = True
    if url_run and url_run != session_run:
        try:
            found = runs().restore(url_run, mnist())
        except (StoreError, ModelFileError) as error:
            st.toast(f"Run {url_run!r} could not be opened: {error}")
            del st.query_params["run"]
            return
        if found is not None:
            st.session_state["run_id"] = url_run
        else:
            st.toast(f"Run {url_run!r} was not found: it may have been deleted.")
            del st.query_params["run"]
    elif session_run and url_run != session_run:
        st.query_params["run"] = session_run
    elif not session_run and not checked:
        _open_latest_finished_run()


def _open_latest_finished_run() -> None:
    """Follow the newest run on disk that finished with a model, if there is one."""
    store = runs().store
    latest = next((summary for summary in store.list_runs() if summary.status == "finished"),
                  None) if store is not None else None
    if latest is None or find_run(latest.run_id) is None:
        return
    follow_run(latest.run_id)
    st.session_state[OPENED_LATEST] = latest.run_id


def follow_run(run_id: str) -> None:
    """Make a run this session's own: its charts, the model it draws with, its link."""
    st.session_state["run_id"] = st.session_state["model_run_id"] = run_id
    st.session_state.pop(OPENED_LATEST, None)  # chosen now, not opened on arrival
    st.query_params["run"] = run_id


def current_job():
    """The run this session follows (its latest, or one opened by link), or None."""
    return find_run(st.session_state.get("run_id"))


def find_run(run_id: str | None):
    """The run with this id, from memory or else from disk; None if it is gone or unreadable.

    The server keeps only its latest finished runs in memory: older ones load again here.
    """
    if not run_id:
        return None
    try:
        return runs().restore(run_id, mnist())
    except (StoreError, ModelFileError):
        return None


def model_job():
    """The run whose latest epoch snapshot this session draws with, or None.

    The current run once it has finished an epoch; until then the previous one.
    """
    job = current_job()
    if job is not None and job.latest_snapshot() is not None:
        st.session_state["model_run_id"] = job.run_id
    return find_run(st.session_state.get("model_run_id"))


@st.cache_resource(max_entries=8, show_spinner=False)
def _model_at(run_id: str, epoch: int):
    """A network with a run's weights after `epoch`, built once and shared read-only."""
    from mnist_core.model import build_model

    job = find_run(run_id)
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


READER_ID = "reader"  # not a run id (those have 8 characters), so never one of the runs


@dataclass(frozen=True)
class Reader:
    """The ready reader shipped with the app, as a finished run, and what its JSON says."""

    job: Any  # a TrainingJob
    info: Any  # a mnist_core.reader.ReaderInfo

    @property
    def words(self) -> str:
        return f"the ready reader, which reads {self.info.summary}"


@st.cache_resource(show_spinner="Loading the ready reader…")
def reader() -> Reader | None:
    """The ready reader every session can read with, or None where its files are missing
    or refused: then the app asks for a training first, as without it."""
    from mnist_core.model_file import ModelFileError
    from mnist_core.reader import load_reader, read_info
    from mnist_core.runs.train import TrainingJob

    try:
        info = read_info()
        job = TrainingJob.imported(mnist(), load_reader(), "the ready reader",
                                   test=(info.test_loss, info.test_accuracy),
                                   origin="shipped with the app")
    except (OSError, ValueError, KeyError, ModelFileError):
        return None
    job.run_id = READER_ID
    return Reader(job, info)


def is_reader(job) -> bool:
    return job is not None and job.run_id == READER_ID


def reading_job():
    """The run this session draws with, else the ready reader's job, else None."""
    job = model_job()
    if job is None and (ready := reader()) is not None:
        return ready.job
    return job


def model_or_reader():
    """`snapshot_model()`, else the ready reader as (model, 1, its job), else None.

    For views that show a network whatever the session has trained (Evaluate, Inside).
    """
    found = snapshot_model()
    ready = reader() if found is None else None
    return found if ready is None else (ready.job.model, 1, ready.job)


def import_model(data: bytes, name: str):
    """An uploaded `.keras` file as a new run that this session follows; the job.

    Raises ModelFileError, in the user's words, when the file is refused: then
    nothing changes and the session keeps its model.
    """
    import tempfile
    from pathlib import Path

    from mnist_core.model import load_model

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.keras"
        path.write_bytes(data)
        return keep_model(load_model(str(path), name=name), name)


def keep_model(model, name: str, origin: str | None = None):
    """A network made outside training (uploaded, adapted) as a new finished run that
    this session follows, tested on MNIST and saved like any run; the job."""
    from mnist_core.runs.train import TrainingJob

    job = TrainingJob.imported(mnist(), model, name, origin=origin)
    runs().add(job, owner())
    follow_run(job.run_id)
    return job


def is_active(job) -> bool:
    return job is not None and not job.progress().status.is_done


def is_training() -> bool:
    return is_active(current_job())


def start_training(model_config: ModelConfig, train_config: TrainConfig) -> None:
    """Submit a run: it starts now or waits for a free slot, and outlives reruns."""
    from mnist_core.runs.train import TrainingJob

    if is_training():
        st.warning("A run is already in progress: stop it before starting another.")
        return
    job = TrainingJob(mnist(), model_config, train_config)
    runs().submit(job, owner())
    st.session_state["run_id"] = job.run_id
    st.query_params["run"] = job.run_id


def stop_training() -> None:
    job = current_job()
    if is_active(job):
        runs().stop(job.run_id)
        st.toast("Stopping after the current batch…")


def training_monitor() -> None:
    """Progress of this session's run, with charts, refreshed while the run is active.

    The progress bar and figures refresh every POLL_SECONDS; the charts, which cost
    the browser far more to redraw, every CHART_POLL_SECONDS.
    """
    job = current_job()
    if job is None:
        return
    polling = is_active(job)
    st.fragment(run_every=POLL_SECONDS if polling else None)(_progress)(job, polling)
    st.fragment(run_every=CHART_POLL_SECONDS if polling else None)(_charts)(job)


def _progress(job, polling: bool) -> None:
    from mnist_core.runs.records import JobStatus

    progress = job.progress()
    if polling and progress.status.is_done:
        st.rerun()  # the whole app: the sidebar, charts and the Draw page see the outcome
    if progress.status == JobStatus.QUEUED:
        position = runs().queue_position(job.run_id)
        st.info(f"Waiting for a free training slot: number {position} in the queue "
                f"(this server trains {runs().max_concurrent} model(s) at a time). "
                "Stop cancels it.", icon=":material/hourglass_top:")
        return
    if progress.status == JobStatus.RUNNING:
        progress_bar(progress)
    _metrics(progress)
    _outcome(progress)
    if progress.save_error:
        st.warning(f"{progress.save_error} Training goes on; the run may be lost when the "
                   "server stops.", icon=":material/save:")


def _charts(job) -> None:
    from mnist_core.figures import history_figure
    from mnist_core.runs.records import JobStatus

    progress = job.progress()
    if progress.status == JobStatus.QUEUED:
        return
    loss_column, accuracy_column = pair("loss_chart", "accuracy_chart")
    for column, metric in ((loss_column, "loss"), (accuracy_column, "accuracy")):
        column.plotly_chart(
            history_figure(progress.history, metric, progress.epochs,
                           progress.batch_history, progress.batches_per_epoch),
            width="stretch",
        )
    if progress.history:
        st.dataframe(shown_as_rounded(progress.history_rows()), hide_index=True, width="stretch",
                     column_config=HISTORY_COLUMNS, placeholder="—")
        if progress.stopped_mid_epoch and len(progress.history) == progress.epoch:
            st.caption(f"Epoch {progress.epoch} was stopped after {progress.batch:,} of its "
                       f"{progress.batches_per_epoch:,} batches: its row covers those.")


def shown_as_rounded(rows: list[dict], digits: int = 4) -> list[dict]:
    """Table rows with their fractions rounded as the table shows them.

    A column format cuts digits off rather than rounding, and Keras reports float32:
    0.6418 arrives as 0.64179998 and read 64.17% beside the sidebar's 64.18%.
    """
    return [{key: round(value, digits) if isinstance(value, float) else value
             for key, value in row.items()} for row in rows]


def progress_bar(progress) -> None:
    if progress.making_examples:  # before the first epoch, the first time only
        st.progress(progress.examples_made / progress.drawing_examples, text=(
            f"Making the drawing-style examples: {progress.examples_made:,} of "
            f"{progress.drawing_examples:,} (the first time only; they are kept)"))
        return
    st.progress(progress.fraction_done, text=_progress_text(progress))


def _progress_text(progress) -> str:
    if not progress.epoch:
        return "Preparing the data and the model…"
    text = (f"Training: epoch {progress.epoch}/{progress.epochs}, "
            f"batch {progress.batch}/{progress.batches_per_epoch}")
    if progress.eta_seconds is not None:
        text += f" · about {progress.eta_seconds:.0f} s left"
    return text


def _metrics(progress) -> None:
    history = progress.history
    if not history and progress.test_accuracy is None:
        return
    last = history[-1] if history else None
    with st.container(horizontal=True, gap="medium"):
        st.metric("Epochs done", f"{progress.complete_epochs}/{progress.epochs}", width=150)
        seconds = progress.seconds_per_epoch
        st.metric("Seconds per epoch", f"{seconds:.1f}" if seconds else "–", width=170)
        st.metric("Images per second", f"{last.samples_per_second:,.0f}" if last else "–",
                  width=170)
        if progress.test_accuracy is not None:
            st.metric("Test accuracy", f"{progress.test_accuracy:.2%}", width=150)
        else:
            st.metric("Elapsed", f"{progress.elapsed_seconds:.0f} s", width=150)


def _outcome(progress) -> None:
    from mnist_core.runs.records import JobStatus

    if progress.status == JobStatus.FINISHED:
        st.success(f"Training finished: test accuracy **{progress.test_accuracy:.2%}**, "
                   f"test loss {progress.test_loss:.4f}, in {progress.elapsed_seconds:.0f} s.")
    elif progress.status == JobStatus.STOPPED and progress.test_accuracy is not None:
        st.warning(f"{stop_words(progress)} Test accuracy with them: "
                   f"**{progress.test_accuracy:.2%}**.", icon=":material/stop_circle:")
    elif progress.status == JobStatus.STOPPED:
        st.warning("This run was cancelled before it started.")
    elif progress.status == JobStatus.FAILED:
        st.error(f"Training failed: {progress.error}")
    elif progress.status == JobStatus.INTERRUPTED:
        st.warning(f"This run was interrupted when the server stopped, after "
                   f"{len(progress.history)} complete epoch(s); those are kept.")


# The app's few rules of layout that Streamlit has no parameter for.
APP_CSS = """<style>
/* A collapsed sidebar keeps its controls in the page: hidden, they leave the keyboard's
   Tab order too, instead of taking 21 presses on the way to the page's own controls. */
[data-testid='stSidebar'][data-collapsed='true'] * { visibility: hidden !important; }
/* Blocks side by side while each has room, else one under the other: the Draw and
   Inside pages' answers beside their input, the Evaluate page's images beside its matrix. */
[data-testid='stLayoutWrapper']:has(> .st-key-draw_answer) { min-width: min(100%, 240px); }
[data-testid='stLayoutWrapper']:has(> .st-key-inside_answer) { min-width: min(100%, 300px); }
[data-testid='stLayoutWrapper']:has(> .st-key-data_vectors) { min-width: min(100%, 360px); }
[data-testid='stLayoutWrapper']:has(> [class*='st-key-pair_']) { min-width: min(100%, 320px); }
[data-testid='stLayoutWrapper']:has(> .st-key-confusion_block) { flex: 3 1 480px; }
[data-testid='stLayoutWrapper']:has(> .st-key-cell_block) { flex: 2 1 300px; }
</style>"""


def app_style() -> None:
    """APP_CSS, at the foot of the sidebar.

    Not `st.html`: a style-only `st.html` goes to Streamlit's event container, and on
    some later sessions' pages it was gone (measured on the Train page), taking the
    rules with it. An element of the sidebar is sent with every full run.
    """
    st.sidebar.markdown(APP_CSS, unsafe_allow_html=True)


def pair(first: str, second: str) -> tuple:
    """Two blocks side by side while each has 320 px (two charts, say), else one under
    the other: `st.columns` keeps them side by side down to a phone's width."""
    with st.container(horizontal=True, gap="medium"):
        return st.container(key=f"pair_{first}"), st.container(key=f"pair_{second}")


def metrics_row():
    """A row of metrics that wraps, each as wide as its value: in columns, "83.77%"
    read "83.7…" on a laptop's narrow page."""
    return st.container(horizontal=True, gap="large")


def stop_words(progress) -> str:
    """Exactly where a stopped run stopped, and which weights it keeps."""
    if progress.stopped_mid_epoch:
        return (f"Stopped during epoch {progress.epoch} of {progress.epochs}, after batch "
                f"{progress.batch:,} of {progress.batches_per_epoch:,}. The run keeps the "
                f"weights of that moment: {_epochs(progress.complete_epochs)} and "
                f"{progress.batch:,} batches of the next.")
    return (f"Stopped after {_epochs(progress.complete_epochs)} of {progress.epochs}. The run "
            "keeps the weights at the end of the last one.")


def _epochs(count: int) -> str:
    return f"{count} full epoch{'s' if count != 1 else ''}"


def sidebar_status(data: MnistData) -> None:
    """Where the data comes from and what model this session has, under the settings."""
    job = model_job() if "run_id" in st.session_state else None
    if is_training():
        st.sidebar.info("Training in progress…")
    if job is not None and not is_active(job):
        st.sidebar.success(f"**Model ready** — {model_words(job)}", icon=":material/check:")
        if st.session_state.get(OPENED_LATEST) == job.run_id:
            st.sidebar.caption("Your latest finished run, opened for you. The Runs page "
                               "lists every run.")
    elif job is None and not is_training():
        from mnist_core.reader import is_shipped

        st.sidebar.caption("No model of your own yet: the ready reader shipped with the app "
                           "reads your drawings." if is_shipped() else "No trained model yet.")
    st.sidebar.caption(f"Data: {data.name}", help=data.source)


def model_words(job) -> str:
    """A run's model in a few words: its run, epochs and test accuracy."""
    progress = job.progress()
    if job.origin:
        words = f"run `{job.run_id}`, {job.origin}"
    elif progress.stopped_mid_epoch:
        words = f"run `{job.run_id}`, stopped during epoch {progress.epoch}"
    else:
        epochs = len(progress.history)
        words = f"run `{job.run_id}`, {epochs} epoch{'s' if epochs != 1 else ''}"
    if progress.test_accuracy is not None:
        words += f", test accuracy {progress.test_accuracy:.2%}"
    return words


STEP_SIZE = 120  # px: each picture of the preparation; four fit on one row from 1024 px up


def preparation_steps(steps) -> None:
    """The drawing at each stage of its preparation, on one row of equal squares.

    The first two are smoothed (a picture of the drawing); the 20×20 and 28×28 ones
    keep hard pixel edges, since each of their pixels is one number the network reads.
    """
    from mnist_core.figures import tile

    stages = [
        (tile(steps.ink, STEP_SIZE), "1 · the ink (background removed, specks dropped)",
         "The drawing's ink, background removed"),
        (tile(steps.crop, STEP_SIZE), "2 · cropped to the ink", "The ink, cropped"),
        (tile(steps.fitted, STEP_SIZE, crisp=True),
         "3 · strokes evened out, fitted into 20×20", "The digit fitted into 20×20 pixels"),
        (tile(steps.centred, STEP_SIZE, crisp=True), "4 · centred by mass in 28×28: the input",
         "The 28×28 input the network reads"),
    ]
    with st.container(horizontal=True, gap="small", key="preparation_steps"):
        for image, caption, alt in stages:
            st.image(image, caption=caption, width=STEP_SIZE, alt=alt)


def naive_versus_mnist_style(naive, x) -> None:
    """The same drawing shrunk naively and prepared like MNIST, with the model's answer."""
    from mnist_core.figures import tile

    job = reading_job()
    answers = None
    if job is not None:
        import numpy as np

        probabilities = job.predictor.softmax(job.latest_snapshot(), np.stack([naive, x]))
        answers = [f"reads **{p.argmax()}** ({p.max():.0%})" for p in probabilities]
    with st.container(horizontal=True, gap="medium", key="naive_versus_mnist"):
        for image, title in ((naive, "Whole canvas shrunk to 28×28"), (x, "Prepared like MNIST")):
            with st.container(width=STEP_SIZE + 40):
                st.image(tile(image, STEP_SIZE, crisp=True), width=STEP_SIZE, alt=title)
                st.markdown(f"{title}: " + (answers.pop(0) if answers else "no model yet"))
        st.caption("Most drawing apps feed the network the whole canvas shrunk. MNIST's "
                   "digits were cropped, fitted into 20×20 and centred by mass: a network "
                   "trained on them reads a drawing prepared the same way far better.",
                   width=320)


GALLERY_PX = 56  # each digit of a gallery, 2 screen pixels per pixel


def digit_gallery(images, labels, alt_words: str) -> None:
    """Digits (28×28, floats in [0, 1]) each above its label, wrapping at any width.

    Pictures, not a figure: a figure keeps its height whatever its width, and left
    bands of blank space on a narrow screen; each picture also gets a text for
    screen readers ("<alt_words> 7").
    """
    from mnist_core.figures import tile

    with st.container(horizontal=True, gap="xsmall"):
        for image, label in zip(images, labels):
            st.image(tile(image, GALLERY_PX, crisp=True), caption=str(int(label)),
                     width=GALLERY_PX, alt=f"{alt_words} {int(label)}")


def my_drawings_summary() -> None:
    """The user's labelled drawings: how the model does on them, and a download."""
    import numpy as np

    from mnist_core.data import npz_bytes

    drawings = st.session_state.get("my_drawings", [])
    if not drawings:
        st.caption("Label a drawing and keep it to build your own test set.")
        return
    x = np.array([image for image, _ in drawings])
    y = np.array([label for _, label in drawings])
    job = reading_job()
    with metrics_row():
        st.metric("My drawings", len(drawings), width="content")
        if job is not None:
            predicted = job.predictor.softmax(job.latest_snapshot(), x).argmax(axis=1)
            st.metric("Accuracy on my drawings", f"{(predicted == y).mean():.0%}",
                      width="content")
            accuracy = job.progress().test_accuracy
            st.metric("On the MNIST test set",
                      f"{accuracy:.2%}" if accuracy is not None else "–", width="content")
    digit_gallery(x, y, "Your drawing of")
    download_column, forget_column, _ = st.columns([1, 1, 3])
    download_column.download_button(
        "Download (.npz)", npz_bytes(np.round(x * 255), y), file_name="my_drawings.npz",
        mime="application/octet-stream", icon=":material/download:",
        help="x: uint8 images N×28×28 (white on black, like MNIST), y: labels.",
    )
    forget_column.button("Forget them", icon=":material/delete:", on_click=_forget_drawings)


def _forget_drawings() -> None:
    st.session_state["my_drawings"] = []
