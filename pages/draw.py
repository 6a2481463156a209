"""Draw: a digit on the canvas (or a picture), what the model sees, and what it reads."""

from dataclasses import replace

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from mnist_core.confidence import RULE_TEXT
from mnist_core.data import npz_bytes
from mnist_core.drawings import CANVAS_SIZE
from mnist_core.figures.images import tile
from mnist_core.figures.softmax import softmax_figure
from mnist_core.figures.training import evolution_figure
from mnist_core.images import ImageError, load_image
from mnist_core.preprocess import THICK_PEN_TEXT, naive_resize, preprocess_steps
from mnist_core.settings import DRAWINGS_SETUP, DRAWINGS_SETUP_TEXT
from mnist_core.wording import a_digit
from ui.identity import visitor
from ui.layout import digit_gallery, metrics_row
from ui.monitor import progress_bar
from ui.reader import is_reader, reading_job, ready_reader
from ui.router import within_app
from ui.server import mnist
from ui.session import (
    current_job,
    is_active,
    is_training,
    keep_model,
    model_job,
    start_training,
)
from ui.sidebar import request_setup, sidebar_setup

within_app()

INPUT_SIZE = 84  # px: the 28×28 input beside the answer, 3 screen pixels per pixel
MIN_PEN, MAX_PEN, PEN = 6, 40, 18  # px: the pen's width on the canvas, and its default
DRAW, UPLOAD = "Draw", "Upload a picture"
ADAPTED = "adaptation"  # (run id, its name, its config, Adaptation) until kept or discarded

model_config, train_config = sidebar_setup()
st.session_state.setdefault("canvas_version", 0)
st.session_state.setdefault("my_drawings", [])


def clear_canvas() -> None:
    """A new key gives a fresh, empty canvas."""
    st.session_state["canvas_version"] += 1


def keep_drawing(x: np.ndarray) -> None:
    label = st.session_state["drawing_label"]
    st.session_state["my_drawings"].append((x, label))
    st.session_state["kept_message"] = f"Kept as {a_digit(label)}."  # shown by the script


def quick_train() -> None:
    """One epoch of the sidebar's setup; the whole app reruns, so the sidebar shows it too."""
    start_training(model_config, replace(train_config, epochs=1))
    st.session_state["rerun_app"] = True


st.title("Draw a digit")
st.markdown("Draw one digit, 0–9, with the mouse (or a finger). The prediction updates each "
            "time you lift it. Or upload a photo or scan of a handwritten digit.")


def answer_panel(x: np.ndarray | None, steps, source: str, polling: bool) -> None:
    """What the model sees and reads; while a run trains, it follows each new epoch.

    Without a model of the session's own, the ready reader reads; with one, the
    reader's answer stands beside it as a yardstick.
    """
    from mnist_core.predict import read_digit_at  # TensorFlow: not before a model reads

    if polling and not is_training():
        st.rerun()  # the run ended: refresh the whole page once
    job, ready = model_job(), ready_reader()
    if job is None and polling:
        st.info("A model is training: its prediction appears after its first epoch."
                + (" Until then the ready reader reads your drawing." if ready else ""))
        progress_bar(current_job().progress())
    if job is None and ready is None:
        return
    reader_job = job or ready.job
    snapshot = reader_job.latest_snapshot()
    if x is None:
        st.info("Draw a digit on the canvas to see what the network thinks it is."
                if source == DRAW else "Upload a picture of one handwritten digit to see "
                                       "what the network thinks it is.")
        st.plotly_chart(softmax_figure(None), width="stretch")
    else:
        reading = read_digit_at(reader_job.predictor, snapshot, x)
        with st.container(horizontal=True, gap="medium", vertical_alignment="center"):
            st.image(tile(x, INPUT_SIZE, crisp=True), width=INPUT_SIZE,
                     caption="What the model sees", alt="The 28×28 input the network reads")
            st.metric("Prediction", reading.digit, width="content",
                      help="Sure or not: " + RULE_TEXT)
            st.metric("Probability", f"{reading.probabilities[reading.digit]:.1%}",
                      width="content",
                      help="The softmax output for this digit, for the drawing as it is.")
            if job is not None and ready is not None:  # the drawing alone: one image, not nine
                softmax = ready.job.predictor.softmax(ready.job.latest_snapshot(), x)
                st.metric("The ready reader", f"{softmax.argmax()}, {softmax.max():.0%}",
                          width="content",
                          help=f"A yardstick: {ready.words}, shipped with the app.")
        verdict = reading.verdict
        if verdict.sure:
            st.success(verdict.message, icon=":material/check:")
        else:
            st.warning(f"**{verdict.message}** {verdict.reason}", icon=":material/help:")
        thick_pen_hint(steps, source)
        st.plotly_chart(softmax_figure(reading.probabilities), width="stretch")
    if job is None:
        return
    st.caption(_weights_note(job, snapshot))
    if job.model_config.architecture != DRAWINGS_SETUP["architecture"]:
        if st.button("Set up the network that reads drawings best", key="drawings_setup",
                     icon=":material/tune:",
                     help=DRAWINGS_SETUP_TEXT):
            request_setup(DRAWINGS_SETUP, "The sidebar now holds the network that reads "
                                             "drawings best: start it on the Train page.")
    snapshots = job.snapshots()
    if x is not None and len(snapshots) > 1:
        evolution = job.predictor.evolution(snapshots, x)
        st.plotly_chart(evolution_figure([s.epoch for s in snapshots], evolution),
                        width="stretch")


def thick_pen_hint(steps, source: str) -> None:
    """Loops that a fat pen filled in cannot be reopened: say so while it can be redrawn."""
    if steps is not None and steps.thick_pen:
        advice = "Draw it" if source == DRAW else "Write it"
        st.info(f"{THICK_PEN_TEXT} {advice} larger, or with a thinner pen.",
                icon=":material/brush:")


def _weights_note(job, snapshot) -> str:
    progress = job.progress()
    if job.origin:
        note = f"Using the model {job.origin} (run `{job.run_id}`)"
    elif progress.stopped_mid_epoch and snapshot.epoch == progress.epoch:
        note = (f"Using the weights of run `{job.run_id}` as they were when it was stopped, "
                f"in epoch {snapshot.epoch}")
    else:
        note = (f"Using the weights after epoch {snapshot.epoch}/{progress.epochs} of run "
                f"`{job.run_id}`")
    if is_active(job):
        return note + ": training continues, and the prediction follows each new epoch."
    if progress.test_accuracy is not None:
        return note + f" (test accuracy {progress.test_accuracy:.2%})."
    return note + "."


def picture_input() -> np.ndarray | None:
    """An uploaded picture as an image array, or None; any problem is said in words."""
    upload = st.file_uploader("A picture of one handwritten digit (PNG or JPEG)",
                              key="draw_upload")
    if upload is None:
        return None
    try:
        image = load_image(upload.getvalue(), name=upload.name)
    except ImageError as error:
        st.error(str(error), icon=":material/broken_image:")
        return None
    with st.container(border=True, width="content"):  # a white picture on a white page
        st.image(image, caption=upload.name, width=min(CANVAS_SIZE, image.shape[1]),
                 alt=f"The uploaded picture {upload.name}")
    return image

STEP_SIZE = 120  # px: each picture of the preparation; four fit on one row from 1024 px up


def preparation_steps(steps) -> None:
    """The drawing at each stage of its preparation, on one row of equal squares.

    The first two are smoothed (a picture of the drawing); the 20×20 and 28×28 ones
    keep hard pixel edges, since each of their pixels is one number the network reads.
    One element for the row: it is sent again after every stroke of every visitor.
    """
    with st.container(key="preparation_steps"):
        st.image(
            [tile(steps.ink, STEP_SIZE), tile(steps.crop, STEP_SIZE),
             tile(steps.fitted, STEP_SIZE, crisp=True), tile(steps.centred, STEP_SIZE, crisp=True)],
            caption=["1 · the ink (background removed, specks dropped)", "2 · cropped to the ink",
                     "3 · strokes evened out, fitted into 20×20",
                     "4 · centred by mass in 28×28: the input"],
            alt=["The drawing's ink, background removed", "The ink, cropped",
                 "The digit fitted into 20×20 pixels", "The 28×28 input the network reads"],
            width=STEP_SIZE,
        )


def naive_versus_mnist_style(naive, x) -> None:
    """The same drawing shrunk naively and prepared like MNIST, with the model's answer."""
    job = reading_job()
    titles = ["Whole canvas shrunk to 28×28", "Prepared like MNIST"]
    answers = ["no model yet"] * 2
    if job is not None:
        probabilities = job.predictor.softmax(job.latest_snapshot(), np.stack([naive, x]))
        answers = [f"reads **{p.argmax()}** ({p.max():.0%})" for p in probabilities]
    with st.container(key="naive_versus_mnist"):
        st.image([tile(naive, STEP_SIZE, crisp=True), tile(x, STEP_SIZE, crisp=True)],
                 caption=[f"{title}: {answer}" for title, answer in zip(titles, answers)],
                 alt=titles, width=STEP_SIZE)
        st.caption("Most drawing apps feed the network the whole canvas shrunk. MNIST's "
                   "digits were cropped, fitted into 20×20 and centred by mass: a network "
                   "trained on them reads a drawing prepared the same way far better.")


def my_drawings_summary() -> None:
    """The user's labelled drawings: how the model does on them, and a download."""
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
    forget_column.button("Forget them", icon=":material/delete:", on_click=forget_drawings)


def forget_drawings() -> None:
    st.session_state["my_drawings"] = []


@st.fragment
def drawing_area() -> None:
    """Everything that follows the drawing: a stroke reruns only this, not the whole app."""
    if st.session_state.pop("rerun_app", False):
        st.rerun()
    kept = st.session_state.pop("kept_message", None)
    if kept:
        st.toast(kept, icon=":material/bookmark_added:")
    adapted = st.session_state.pop("adapted_message", None)
    if adapted:
        st.toast(adapted, icon=":material/model_training:")
    with st.container(horizontal=True, gap="medium"):
        with st.container(width=CANVAS_SIZE + 8, key="draw_input"):
            source = st.segmented_control("Input", [DRAW, UPLOAD], default=DRAW,
                                          label_visibility="collapsed") or DRAW
            image = None
            if source == DRAW:
                st.space("small")  # room for the canvas's floating toolbar
                canvas = st_canvas(
                    stroke_width=st.session_state.get("pen_width", PEN),
                    stroke_color="#000000",
                    width=CANVAS_SIZE,
                    height=CANVAS_SIZE,
                    drawing_mode="freedraw",
                    update_streamlit=True,
                    return_image_data=True,
                    key=f"canvas-{st.session_state['canvas_version']}",
                )
                image = canvas.image_data
                with st.container(horizontal=True, vertical_alignment="bottom"):
                    st.button("Clear", on_click=clear_canvas, icon=":material/ink_eraser:")
                    st.slider("Pen width", MIN_PEN, MAX_PEN, PEN, key="pen_width")
            else:
                image = picture_input()
        answer = st.container(key="draw_answer")

    steps = None if image is None else preprocess_steps(image)
    x = None if steps is None else steps.centred
    st.session_state["drawing"] = x

    with answer:
        if source == UPLOAD and image is not None and steps is None:
            st.warning("No digit found: this picture looks blank. Upload one with a dark "
                       "digit on light paper, or a white digit on black.",
                       icon=":material/image_search:")
        polling, ready = is_training(), ready_reader()
        if polling:  # follows each new epoch on its own, every second
            st.fragment(run_every=1.0)(answer_panel)(x, steps, source, polling)
        elif model_job() is not None or ready is not None:
            answer_panel(x, steps, source, polling)
        if model_job() is None and not polling:
            if ready is None:
                st.warning("**No trained model yet.** Train one on the Train page, or train "
                           "the network in the sidebar for one quick epoch right here "
                           "(a few seconds).")
                thick_pen_hint(steps, source)
            else:
                st.info(f"**No model of your own yet**: {ready.words}, reads your "
                        "drawing. Train your own on the Train page, or the sidebar's "
                        "network for one quick epoch right here (a few seconds).",
                        icon=":material/auto_awesome:")
            st.button("Quick train (1 epoch)", type="primary", on_click=quick_train)

    if steps is not None:
        st.subheader("Why preparing the drawing matters")
        preparation_steps(steps)
        naive_versus_mnist_style(naive_resize(image), x)

        st.subheader("My drawings")
        # A form: choosing the label reruns nothing, and Keep sends it with the click.
        with st.form("keep_drawing", border=False, enter_to_submit=False), \
                st.container(horizontal=True, vertical_alignment="bottom"):
            st.selectbox("This drawing is a", range(10), key="drawing_label", width=160)
            st.form_submit_button("Keep it", on_click=keep_drawing, args=(x,),
                                  icon=":material/bookmark_add:")
    my_drawings_summary()
    adapt_section()


def adapt_section() -> None:
    """Fine-tune a copy of the model on the kept drawings; keep the copy as a run, or not."""
    from mnist_core.adapt import MIN_DRAWINGS  # TensorFlow: not before a model reads

    drawings = st.session_state["my_drawings"]
    job = reading_job()
    if not drawings or job is None or is_active(job):
        return
    st.subheader("Adapt to my handwriting")
    if len(drawings) < MIN_DRAWINGS:
        st.caption(f"Keep {MIN_DRAWINGS} drawings or more, and a copy of the model can learn "
                   f"your handwriting from them: you have {len(drawings)}.")
        return
    name = "the ready reader" if is_reader(job) else f"run {job.run_id}"
    if st.button("Adapt to my handwriting", icon=":material/model_training:",
                 help=f"Fine-tunes a copy of {name} on your drawings, mixed with MNIST "
                      "digits so that it does not forget them. The model you started from "
                      "stays as it is."):
        adapt_to_drawings(job, name, drawings)
    adapted = st.session_state.get(ADAPTED)
    if adapted is not None:
        adaptation_report(*adapted)


def adapt_to_drawings(job, name: str, drawings) -> None:
    from mnist_core.adapt import AdaptError, adapt  # TensorFlow: not before a model reads

    x = np.array([image for image, _ in drawings])
    y = np.array([label for _, label in drawings])
    bar = st.progress(0.0, text=f"Fine-tuning copies of {name} on your drawings…")
    try:
        adaptation = adapt(job.model_config, job.latest_snapshot().weights, x, y, mnist(),
                           test_before=job.progress().test_accuracy,
                           on_progress=lambda done: bar.progress(done, text=(
                               f"Fine-tuning copies of {name} on your drawings… {done:.0%}")))
    except AdaptError as error:
        st.session_state.pop(ADAPTED, None)
        st.error(str(error), icon=":material/error:")
    else:
        st.session_state[ADAPTED] = (job.run_id, name, job.model_config, adaptation)
    finally:
        bar.empty()


def change(after: float, before: float, digits: int) -> dict:
    """A metric's delta in percentage points from `before`; grey and arrowless if none."""
    points = round((after - before) * 100, digits)
    still = {"delta_color": "off", "delta_arrow": "off"} if points == 0 else {}
    return {"delta": f"{points:+.{digits}f} points", **still,
            "delta_description": f"from {before:.{digits}%}"}


def adaptation_report(run_id: str, name: str, config, adaptation) -> None:
    """Before and after, on the drawings held out and on MNIST; keep or discard the copy."""
    with metrics_row():
        st.metric("My drawings, held out", f"{adaptation.drawings_after:.0%}", width="content",
                  **change(adaptation.drawings_after, adaptation.drawings_before, 0),
                  help="Each drawing read by a copy fine-tuned without it "
                       f"({adaptation.folds} folds), so the score is not flattered.")
        st.metric("MNIST test set", f"{adaptation.test_after:.2%}", width="content",
                  **change(adaptation.test_after, adaptation.test_before, 2))
    st.caption(f"A copy of {name}, fine-tuned on your {adaptation.drawings} drawings mixed "
               f"with MNIST digits, in {adaptation.seconds:.0f} s. {name[0].upper()}{name[1:]} "
               "itself is unchanged.")
    with st.container(horizontal=True):
        may_keep = visitor().may_train
        if st.button("Keep it as a new run", type="primary", icon=":material/save:",
                     disabled=not may_keep, help=None if may_keep else "Sign in to keep it."):
            from mnist_core.model import build_model  # TensorFlow: not before a model reads

            model = build_model(config)
            model.set_weights(list(adaptation.weights))
            with st.spinner("Testing the adapted model on MNIST and saving it…"):
                keep_model(model, name, origin=f"adapted from {name} to "
                                               f"{adaptation.drawings} of your drawings")
            del st.session_state[ADAPTED]
            st.session_state["adapted_message"] = ("The adapted model is a new run: you draw "
                                                   "with it now.")
            st.rerun(scope="app")
        if st.button("Discard it", icon=":material/delete:"):
            del st.session_state[ADAPTED]
            st.rerun(scope="fragment")


drawing_area()
