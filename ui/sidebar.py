"""The sidebar: the training settings and their link, and what model this session has.

app.py shows it on every run, before the page; a page reads the setup it holds with
`sidebar_setup()`. The settings also live in the address bar (`?epochs=10&…`), so
that a link reproduces a setup: the choices, defaults and limits are mnist_core's
(`mnist_core.settings`, `mnist_core.config`), never numbers of this module's own.
"""

from __future__ import annotations

from typing import Any, Mapping

import streamlit as st

from mnist_core.config import (
    ACTIVATIONS,
    ARCHITECTURES,
    DEEP_CNN_HEAD_UNITS,
    DEFAULT_MODEL,
    LR_SCHEDULES,
    MAX_EPOCHS,
    MIN_EPOCHS,
    OPTIMIZERS,
    ModelConfig,
    TrainConfig,
)
from mnist_core.data import MnistData
from mnist_core.reader import is_shipped
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
from ui.formats import ARCHITECTURE_NAMES
from ui.identity import Mode, visitor, whose
from ui.session import (
    OPENED_LATEST,
    RUN_ID,
    current_job,
    is_active,
    is_mine,
    is_training,
    model_job,
)

_FIRST, _SECOND = DEFAULT_MODEL.conv_filters  # the convnets' two blocks
ARCHITECTURE_CAPTIONS = {
    "cnn": f"Two blocks of 3×3 convolutions ({_FIRST} and {_SECOND} filters) with 2×2 "
           "max-pooling, then dropout and the softmax layer.",
    "deep_cnn": f"Two blocks of two 3×3 convolutions ({_FIRST}, then {_SECOND} filters), each "
                "batch-normalised, with 2×2 max-pooling and half the dropout; then a "
                f"dense layer of {DEEP_CNN_HEAD_UNITS} units, dropout and the softmax layer. "
                "Reads drawn digits best, trains about ten times slower than the CNN.",
}
SCHEDULE_NAMES = {"constant": "constant", "cosine": "cosine decay to 0"}
SETUP = "config"  # (ModelConfig, TrainConfig): the sidebar's values in this run
SETUP_REQUEST = "setup_request"  # (sidebar values, message) to apply on the next full run
LINK_READ = "setup_from_link_done"  # this session has read its setup from the link


def sidebar_setup() -> tuple[ModelConfig, TrainConfig]:
    """The setup the sidebar holds in this run: the network and training to start next."""
    return st.session_state[SETUP]


def settings_sidebar(data: MnistData) -> None:
    """The hyperparameter widgets; their values configure the next training.

    Their values live in the page's link too, so a link reproduces the setup. Called
    by app.py on every run, before the page: pages read them with `sidebar_setup()`.
    """
    _settings_from_link()
    with st.sidebar.expander("Training", expanded=True):
        st.number_input("Epochs", min_value=MIN_EPOCHS, max_value=MAX_EPOCHS, key="epochs")
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
            format_func=ARCHITECTURE_NAMES.__getitem__,
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
            format_func=SCHEDULE_NAMES.__getitem__,
            help="Cosine decay lowers the learning rate epoch by epoch toward 0, so the "
                 "last epochs settle instead of jumping about.",
        )
    _settings_to_link()
    st.session_state[SETUP] = configs({key: st.session_state[key] for key in DEFAULTS})


def request_setup(values: Mapping[str, Any], message: str) -> None:
    """Put these values in the sidebar (and so in the link), from anywhere, fragments too.

    Call it from the script, not from a callback. A button inside a fragment reruns
    only the fragment, and the browser still holds the sidebar's old values, which
    it sends back with the next full run: the values are applied at the start of that
    run instead, before the sidebar's widgets exist, so they win.
    """
    st.session_state[SETUP_REQUEST] = (dict(values), message)
    st.rerun(scope="app")


def switch_page(page: str) -> None:
    """Go to another page, keeping the sidebar's setup and the run in the link.

    `st.switch_page` starts the new page without the browser's widget values, so
    the sidebar would fall back to its defaults: the setup is read back from the
    link instead, which always matches the sidebar. Call it from the script, not
    from a callback (callbacks cannot switch pages).
    """
    st.session_state[LINK_READ] = False
    st.switch_page(page, query_params=st.query_params.to_dict())


def _settings_from_link() -> None:
    """Start each setting at its default, or, once per session, at the link's value.

    A value the link gets wrong is clamped or ignored, and the user is told so.
    """
    if not st.session_state.get(LINK_READ):
        st.session_state[LINK_READ] = True
        values, messages = setup_from_link(st.query_params.to_dict())
        st.session_state.update(values)
        for message in messages:
            # Long enough to read while the page settles: they say what the link got wrong.
            st.toast(f"From the link: {message}", icon=":material/warning:", duration="long")
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


def identity_sidebar() -> None:
    """Who is signed in, with a sign-out; or a sign-in, where the server has accounts."""
    me = visitor()
    if me.mode is not Mode.ACCOUNTS:
        return
    with st.sidebar.container(horizontal=True, vertical_alignment="center"):
        if me.signed_in:
            st.markdown(f"Signed in as **{me.owner.name or 'you'}**", width="stretch")
            if st.button("Sign out", key="sign_out", icon=":material/logout:"):
                st.logout()
        else:
            st.caption("Sign in to train and keep your runs.", width="stretch")
            sign_in_button(key="sign_in")


def sign_in_button(key: str) -> None:
    """A button that starts the provider's sign-in; the browser comes back signed in."""
    if st.button("Sign in", key=key, type="primary", icon=":material/login:"):
        st.login()


def sidebar_status(data: MnistData) -> None:
    """Where the data comes from and what model this session has, under the settings."""
    job = model_job() if RUN_ID in st.session_state else None
    if is_training():
        training = current_job()
        st.sidebar.info("Training in progress…" if is_mine(training)
                        else f"{whose(training.owner if training else None)} is training…")
    if job is not None and not is_active(job):
        st.sidebar.success(f"**Model ready** — {model_words(job)}", icon=":material/check:")
        if not is_mine(job):
            st.sidebar.caption(f"{whose(job.owner)}, opened by its link: read-only.")
        if st.session_state.get(OPENED_LATEST) == job.run_id:
            st.sidebar.caption("Your latest finished run, opened for you. The Runs page "
                               "lists all your runs.")
    elif job is None and not is_training():
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
