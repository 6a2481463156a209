"""Draw: a digit on the canvas, the 28×28 input the model sees, and its softmax."""

from dataclasses import replace

import streamlit as st
from streamlit_drawable_canvas import st_canvas

import ui
from mnist_core.figures import enlarge, evolution_figure, softmax_figure
from mnist_core.preprocess import preprocess_canvas

CANVAS_SIZE = 280

model_config, train_config = ui.page_config()
st.session_state.setdefault("canvas_version", 0)


def clear_canvas() -> None:
    """A new key gives a fresh, empty canvas."""
    st.session_state["canvas_version"] += 1


st.title("Draw a digit")
st.markdown("Draw one digit, 0–9, large and in the middle of the box. "
            "The prediction updates each time you lift the mouse.")

canvas_column, input_column, prediction_column = st.columns([1.15, 0.75, 1.6], gap="medium")
with canvas_column:
    st.space("small")  # room for the canvas's floating toolbar
    canvas = st_canvas(
        stroke_width=st.session_state.get("pen_width", 18),
        stroke_color="#000000",
        width=CANVAS_SIZE,
        height=CANVAS_SIZE,
        drawing_mode="freedraw",
        update_streamlit=True,
        return_image_data=True,
        key=f"canvas-{st.session_state['canvas_version']}",
    )
    st.button("Clear", on_click=clear_canvas, icon=":material/ink_eraser:")
    st.slider("Pen width", 6, 40, 18, key="pen_width")

x = None if canvas.image_data is None else preprocess_canvas(canvas.image_data)

with input_column:
    st.markdown("**What the model sees**")
    if x is None:
        st.caption("The 28×28 input appears here once you draw.")
    else:
        st.image(enlarge(x, 6), clamp=True,
                 caption="Cropped, fitted to 20×20 and centred by mass in 28×28, like MNIST.")

st.session_state["drawing"] = x


def prediction_panel(polling: bool) -> None:
    """The model's answer; while a run trains, it follows each new epoch's weights."""
    if polling and not ui.is_training():
        st.rerun()  # the run ended: refresh the whole page once
    x = st.session_state["drawing"]
    job = ui.model_job()
    if job is None:
        if ui.is_training():
            st.info("A model is training: the prediction appears after its first epoch.")
            ui.progress_bar(ui.current_job().progress())
        else:
            st.warning("**No trained model yet.** Train one on the Train page, or train "
                       "the network in the sidebar for one quick epoch right here (a few seconds).")
            st.button("Quick train (1 epoch)", type="primary", on_click=ui.start_training,
                      args=(model_config, replace(train_config, epochs=1)))
        return
    snapshot = job.latest_snapshot()
    if x is None:
        st.info("Draw a digit on the canvas to see what the network thinks it is.")
    else:
        probabilities = job.predictor.predict(snapshot, x)
        digit = int(probabilities.argmax())
        top_columns = st.columns(2)
        top_columns[0].metric("Prediction", digit)
        top_columns[1].metric("Probability", f"{probabilities[digit]:.1%}")
        st.plotly_chart(softmax_figure(probabilities), width="stretch")
    progress = job.progress()
    note = f"Using the weights after epoch {snapshot.epoch}/{progress.epochs} of run `{job.run_id}`"
    if ui.is_active(job):
        note += ": training continues, and the prediction follows each new epoch."
    elif progress.test_accuracy is not None:
        note += f" (test accuracy {progress.test_accuracy:.2%})."
    st.caption(note)
    snapshots = job.snapshots()
    if x is not None and len(snapshots) > 1:
        evolution = job.predictor.evolution(snapshots, x)
        st.plotly_chart(evolution_figure([s.epoch for s in snapshots], evolution),
                        width="stretch")


with prediction_column:
    polling = ui.is_training()
    st.fragment(run_every=1.0 if polling else None)(prediction_panel)(polling)
