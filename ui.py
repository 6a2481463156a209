"""Streamlit pieces shared by the pages: the cached dataset, the sidebar, the user's training.

Per-user state lives in `st.session_state`: the current `TrainingJob` ("job") and
the last job that produced a usable model ("trained_job"). Heavy, shared objects
(the dataset) live in `st.cache_resource`. TensorFlow is imported only by the
functions that need it, so pages without a model render before it loads.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import script_runner

from mnist_core.config import ACTIVATIONS, OPTIMIZERS, ModelConfig, TrainConfig
from mnist_core.data import MnistData, load_mnist

BATCH_SIZES = (16, 32, 64, 128, 256, 512, 1024)
LEARNING_RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
UNIT_CHOICES = (16, 32, 64, 128, 256, 512, 1024, 2048)
TRAIN_SIZES = (1_000, 5_000, 10_000, 30_000)
ALL_IMAGES = "all"
POLL_SECONDS = 0.5
ROUTED = "routed_by_app"


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
    """The sidebar's settings for this run's page; every page calls this first.

    Streamlit treats a folder named pages/ as an old-style multipage app until
    st.navigation is called, and AppTest resets that guess before every run: then a
    page runs without app.py, the router. The router marks each run it makes; a page
    run without the mark drops the guess and reruns through the router, which keeps
    the requested page.
    """
    if not st.session_state.pop(ROUTED, False):
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
        st.rerun()
    return st.session_state["config"]


def mark_routed() -> None:
    """Called by app.py on every run, before the page runs."""
    st.session_state[ROUTED] = True


def sidebar_config(data: MnistData) -> tuple[ModelConfig, TrainConfig]:
    """The hyperparameter widgets; their values configure the next training."""
    with st.sidebar.expander("Training", expanded=True):
        epochs = st.number_input("Epochs", min_value=1, max_value=50, value=5, key="epochs")
        batch_size = st.select_slider(
            "Batch size", options=BATCH_SIZES, value=128, key="batch_size",
            help="Images per gradient step. Smaller batches: more steps per epoch.",
        )
        validation_split = st.slider(
            "Validation split", 0.0, 0.3, 0.1, step=0.05, key="validation_split",
            help="Share of the training images held out to check for over-fitting.",
        )
        sizes = [size for size in TRAIN_SIZES if size < len(data.x_train)] + [ALL_IMAGES]
        train_size = st.select_slider(
            "Training images", options=sizes, value=ALL_IMAGES, key="train_size",
            format_func=lambda size: f"all {len(data.x_train):,}" if size == ALL_IMAGES
            else f"{size:,}",
            help="Train on the first N images for a quick experiment.",
        )
    with st.sidebar.expander("Network", expanded=True):
        hidden_layers = st.number_input(
            "Hidden layers", min_value=0, max_value=4, value=1, key="hidden_layers"
        )
        units = st.select_slider(
            "Units per hidden layer", options=UNIT_CHOICES, value=512, key="units",
            disabled=hidden_layers == 0,
        )
        activation = st.selectbox("Activation", ACTIVATIONS, key="activation")
        dropout = st.slider("Dropout", 0.0, 0.5, 0.0, step=0.05, key="dropout")
        optimizer = st.selectbox("Optimizer", OPTIMIZERS, key="optimizer")
        learning_rate = st.select_slider(
            "Learning rate", options=LEARNING_RATES, value=0.001, key="learning_rate",
            format_func=lambda rate: f"{rate:g}",
        )
    model_config = ModelConfig(
        hidden_units=(units,) * hidden_layers, activation=activation, dropout=dropout,
        optimizer=optimizer, learning_rate=learning_rate,
    )
    train_config = TrainConfig(
        epochs=int(epochs), batch_size=batch_size, validation_split=validation_split,
        train_size=None if train_size == ALL_IMAGES else train_size,
    )
    return model_config, train_config


def current_job():
    """This session's latest training job, running or done, or None."""
    return st.session_state.get("job")


def trained_job():
    """The latest job in this session that left a usable model, or None."""
    job = current_job()
    if job is not None and job.progress().status.has_model:
        st.session_state["trained_job"] = job
    return st.session_state.get("trained_job")


def is_training() -> bool:
    job = current_job()
    return job is not None and not job.progress().status.is_done


def start_training(model_config: ModelConfig, train_config: TrainConfig) -> None:
    """Start a training in the background; it outlives reruns and page switches."""
    from mnist_core.train import TrainingJob

    if is_training():
        st.warning("A training is already running: stop it first.")
        return
    job = TrainingJob(mnist(), model_config, train_config)
    job.start()
    st.session_state["job"] = job


def stop_training() -> None:
    if is_training():
        current_job().stop()
        st.toast("Stopping after the current batch…")


def training_monitor(show_charts: bool = True) -> None:
    """Progress of this session's training, refreshed every half second while it runs."""
    job = current_job()
    if job is None:
        return
    polling = is_training()
    st.fragment(run_every=POLL_SECONDS if polling else None)(_monitor)(job, show_charts, polling)


def _monitor(job, show_charts: bool, polling: bool) -> None:
    from mnist_core.figures import history_figure

    progress = job.progress()
    if polling and progress.status.is_done:
        st.rerun()  # the whole app: the sidebar and the Draw page now have a model
    if not progress.status.is_done:
        if progress.epoch:
            text = (f"Training: epoch {progress.epoch}/{progress.epochs}, "
                    f"batch {progress.batch}/{progress.batches_per_epoch}")
        else:
            text = "Preparing the data and the model…"
        st.progress(progress.fraction_done, text=text)
    history = progress.history
    if history or progress.test_accuracy is not None:
        last = history[-1] if history else None
        columns = st.columns(4)
        columns[0].metric("Epochs done", f"{len(history)}/{progress.epochs}")
        mean_seconds = sum(r.seconds for r in history) / len(history) if history else None
        columns[1].metric("Seconds per epoch", f"{mean_seconds:.1f}" if mean_seconds else "–")
        columns[2].metric("Samples per second", f"{last.samples_per_second:,.0f}" if last else "–")
        if progress.test_accuracy is not None:
            columns[3].metric("Test accuracy", f"{progress.test_accuracy:.2%}")
        else:
            columns[3].metric("Elapsed", f"{progress.elapsed_seconds:.0f} s")
    if show_charts:
        loss_column, accuracy_column = st.columns(2)
        loss_column.plotly_chart(history_figure(history, "loss", progress.epochs), width="stretch")
        accuracy_column.plotly_chart(
            history_figure(history, "accuracy", progress.epochs), width="stretch"
        )
        if history:
            st.dataframe(progress.history_rows(), hide_index=True, width="stretch")
    _outcome(progress)


def _outcome(progress) -> None:
    from mnist_core.train import JobStatus

    if progress.status == JobStatus.FINISHED:
        st.success(f"Training finished: test accuracy **{progress.test_accuracy:.2%}**, "
                   f"test loss {progress.test_loss:.4f}, in {progress.elapsed_seconds:.0f} s.")
    elif progress.status == JobStatus.STOPPED:
        st.warning(f"Training stopped after {len(progress.history)} epoch(s); the weights so far "
                   f"are kept (test accuracy {progress.test_accuracy:.2%}).")
    elif progress.status == JobStatus.FAILED:
        st.error(f"Training failed: {progress.error}")


def sidebar_status(data: MnistData) -> None:
    """Where the data comes from and what model this session has, under the settings."""
    job = trained_job()
    if is_training():
        st.sidebar.info("Training in progress…")
    elif job is not None:
        progress = job.progress()
        st.sidebar.success(f"Model ready: {len(progress.history)} epoch(s), "
                           f"test accuracy {progress.test_accuracy:.2%}")
    else:
        st.sidebar.caption("No trained model yet.")
    st.sidebar.caption(f"Data: {data.source}")
