"""Train: the model the sidebar describes, trained live with per-epoch charts."""

import streamlit as st

from mnist_core.codegen import STYLES, keras_code
from mnist_core.model import build_model, summary_rows
from ui.identity import visitor, whose
from ui.monitor import training_monitor
from ui.router import within_app
from ui.session import current_job, is_active, is_mine, start_training, stop_training
from ui.sidebar import sidebar_setup, sign_in_button

within_app()

model_config, train_config = sidebar_setup()


@st.cache_data(show_spinner=False)
def model_summary(model_config):
    """Building a model only to count its parameters: once per configuration."""
    return summary_rows(build_model(model_config))


st.title("Train the network")
st.markdown(
    "The network reads the 784 pixel values and outputs ten probabilities, one per digit. "
    "Training shows it the images in batches and nudges its weights to reduce the loss."
)

st.subheader("The model")
summary = model_summary(model_config)
with st.container(horizontal=True, gap="large"):
    st.metric("Total parameters", f"{summary.total_params:,}", width="content")
    st.metric("Trainable", f"{summary.trainable_params:,}", width="content")
    st.metric("Layers", len(summary.rows), width="content")
st.dataframe(summary.rows, hide_index=True, width="stretch", column_config={
    "Parameters": st.column_config.NumberColumn(format="localized"),
})
st.caption(
    f"Compiled with optimizer **{model_config.optimizer}** "
    f"(learning rate {model_config.learning_rate:g}"
    f"{', cosine decay to 0' if train_config.lr_schedule == 'cosine' else ''}), "
    "loss **categorical cross-entropy**, "
    f"metric **accuracy**. Training: {train_config.epochs} epoch(s), batch size "
    f"{train_config.batch_size}, {train_config.validation_split:.0%} held out for validation"
    + (f", {train_config.drawing_examples:,} drawing-style examples added to the training "
       "images." if train_config.drawing_examples else ".")
)

with st.expander("Show the code: this setup in plain Keras", icon=":material/code:"):
    st.caption("The same data preparation, network, compile, fit and evaluate as a script "
               "you can copy and run on its own, in each of the three ways Keras builds "
               "a model.")
    for tab, style in zip(st.tabs(list(STYLES)), STYLES):
        tab.code(keras_code(model_config, train_config, style), language="python")

st.subheader("Training")
job = current_job()
active, mine, me = is_active(job), is_mine(job), visitor()
with st.container(horizontal=True):
    if me.may_train:
        st.button("Start training", type="primary", disabled=active and mine,
                  on_click=start_training, args=(model_config, train_config))
    else:
        sign_in_button(key="train_sign_in")
    st.button("Stop", disabled=not (active and mine), on_click=stop_training,
              help="Ends after the current batch and keeps the weights so far; "
                   "a queued run is cancelled." if mine or job is None
              else f"{whose(job.owner)}: only its owner can stop it.")
if not me.may_train:
    st.info("Sign in to train: your runs are then kept under your name and follow you to "
            "any browser.", icon=":material/login:")
elif job is None:
    st.info("Press **Start training** to train the model above on MNIST.")
if job is not None:
    st.caption(f"Run `{job.run_id}` — its link (the address bar, `?run={job.run_id}`) "
               "finds it again after a reload or in another tab.")
    if not mine:
        st.caption(f"{whose(job.owner)}, opened by its link: you can watch it and draw with "
                   "it; only its owner can stop it. **Start training** trains your own.")
    elif active:
        if (job.model_config, job.train_config) != (model_config, train_config):
            st.caption("The sidebar has changed since this run started: "
                       "the new values apply to the next run.")
        st.caption("Training continues while you use other pages; stop it to start another.")
training_monitor()
