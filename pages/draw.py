"""Draw: a digit on the canvas (or a picture), what the model sees, and what it reads."""

from dataclasses import replace

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

import ui
from mnist_core.confidence import RULE_TEXT
from mnist_core.figures import enlarge, evolution_figure, softmax_figure
from mnist_core.images import ImageError, load_image
from mnist_core.preprocess import THICK_PEN_TEXT, naive_resize, preprocess_steps
from mnist_core.setup import DRAWINGS_SETUP, DRAWINGS_SETUP_TEXT

CANVAS_SIZE = 280
DRAW, UPLOAD = "Draw", "Upload a picture"

model_config, train_config = ui.page_config()
st.session_state.setdefault("canvas_version", 0)
st.session_state.setdefault("my_drawings", [])


def clear_canvas() -> None:
    """A new key gives a fresh, empty canvas."""
    st.session_state["canvas_version"] += 1


def keep_drawing(x: np.ndarray) -> None:
    st.session_state["my_drawings"].append((x, st.session_state["drawing_label"]))
    st.toast(f"Kept as a {st.session_state['drawing_label']}.")


def quick_train() -> None:
    """One epoch of the sidebar's setup; the whole app reruns, so the sidebar shows it too."""
    ui.start_training(model_config, replace(train_config, epochs=1))
    st.session_state["rerun_app"] = True


st.title("Draw a digit")
st.markdown("Draw one digit, 0–9, with the mouse. The prediction updates each time you "
            "lift it. Or upload a photo or scan of a handwritten digit.")


def prediction_panel(polling: bool) -> None:
    """The model's answer; while a run trains, it follows each new epoch's weights."""
    from mnist_core.predict import read_digit_at

    if polling and not ui.is_training():
        st.rerun()  # the run ended: refresh the whole page once
    x = st.session_state["drawing"]
    job = ui.model_job()
    if job is None:
        st.info("A model is training: the prediction appears after its first epoch.")
        ui.progress_bar(ui.current_job().progress())
        return
    snapshot = job.latest_snapshot()
    if x is None:
        st.info("Draw a digit on the canvas to see what the network thinks it is.")
        st.plotly_chart(softmax_figure(None), width="stretch")
    else:
        reading = read_digit_at(job.predictor, snapshot, x)
        top_columns = st.columns(2)
        top_columns[0].metric("Prediction", reading.digit)
        top_columns[1].metric("Probability", f"{reading.probabilities[reading.digit]:.1%}")
        verdict = reading.verdict
        (st.success if verdict.sure else st.warning)(verdict.message)
        st.caption(RULE_TEXT)
        st.plotly_chart(softmax_figure(reading.probabilities), width="stretch")
    progress = job.progress()
    note = f"Using the weights after epoch {snapshot.epoch}/{progress.epochs} of run `{job.run_id}`"
    if job.imported_from:
        note = f"Using the model imported from {job.imported_from} (run `{job.run_id}`)"
    if ui.is_active(job):
        note += ": training continues, and the prediction follows each new epoch."
    elif progress.test_accuracy is not None:
        note += f" (test accuracy {progress.test_accuracy:.2%})."
    st.caption(note)
    if job.model_config.architecture != DRAWINGS_SETUP["architecture"]:
        st.button("Set up the network that reads drawings best", on_click=ui.use_setup,
                  args=(DRAWINGS_SETUP,), icon=":material/tune:",
                  help=DRAWINGS_SETUP_TEXT)
    snapshots = job.snapshots()
    if x is not None and len(snapshots) > 1:
        evolution = job.predictor.evolution(snapshots, x)
        st.plotly_chart(evolution_figure([s.epoch for s in snapshots], evolution),
                        width="stretch")


@st.fragment
def drawing_area() -> None:
    """Everything that follows the drawing: a stroke reruns only this, not the whole app."""
    if st.session_state.pop("rerun_app", False):
        st.rerun()
    canvas_column, input_column, prediction_column = st.columns([1.15, 0.75, 1.6], gap="medium")
    with canvas_column:
        source = st.segmented_control("Input", [DRAW, UPLOAD], default=DRAW,
                                      label_visibility="collapsed") or DRAW
        image = None
        if source == DRAW:
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
            image = canvas.image_data
            st.button("Clear", on_click=clear_canvas, icon=":material/ink_eraser:")
            st.slider("Pen width", 6, 40, 18, key="pen_width")
        else:
            upload = st.file_uploader("A picture of one handwritten digit",
                                      type=["png", "jpg", "jpeg"])
            if upload is not None:
                try:
                    image = load_image(upload.getvalue(), name=upload.name)
                    st.image(image, caption=upload.name, width=CANVAS_SIZE)
                except ImageError as error:
                    st.error(str(error))

    steps = None if image is None else preprocess_steps(image)
    x = None if steps is None else steps.centred
    st.session_state["drawing"] = x

    with prediction_column:  # before the input column: the answer is sent first
        if ui.model_job() is None and not ui.is_training():
            st.warning("**No trained model yet.** Train one on the Train page, or train "
                       "the network in the sidebar for one quick epoch right here (a few seconds).")
            st.button("Quick train (1 epoch)", type="primary", on_click=quick_train)
        else:
            polling = ui.is_training()
            st.fragment(run_every=1.0 if polling else None)(prediction_panel)(polling)

    with input_column:
        st.markdown("**What the model sees**")
        if x is None:
            st.caption("The 28×28 input appears here once you draw.")
        else:
            st.image(enlarge(x, 6), clamp=True,
                     caption="Cropped, fitted to 20×20 and centred by mass in 28×28, like MNIST.")
            if steps.thick_pen:
                advice = "Draw it" if source == DRAW else "Write it"
                st.info(f"{THICK_PEN_TEXT} {advice} larger, or with a thinner pen.",
                        icon=":material/brush:")

    if steps is not None:
        st.subheader("Why preparing the drawing matters")
        ui.preparation_steps(steps)
        ui.naive_versus_mnist_style(naive_resize(image), x)

        st.subheader("My drawings")
        label_column, keep_column, _ = st.columns([1, 1, 3], vertical_alignment="bottom")
        label_column.selectbox("This drawing is a", range(10), key="drawing_label")
        keep_column.button("Keep it", on_click=keep_drawing, args=(x,),
                           icon=":material/bookmark_add:")
    ui.my_drawings_summary()


drawing_area()
