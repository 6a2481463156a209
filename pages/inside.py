"""Inside the model: what the first layer looks for, which units fire, and why it reads a digit."""

import numpy as np
import streamlit as st

from mnist_core.figures.images import tile
from mnist_core.figures.inside import (
    activations_figure,
    feature_maps_figure,
    saliency_figure,
    weights_figure,
)
from mnist_core.figures.softmax import softmax_figure
from ui.formats import ARCHITECTURE_NAMES
from ui.reader import is_reader, model_or_reader
from ui.router import within_app
from ui.server import mnist
from ui.session import follow_training, is_active, is_training

within_app()

TEST_IMAGE, DRAWING = "A test image", "My drawing"
LARGEST, ACTIVE, FIRST = "Largest weights", "Most active for this input", "First units"
GRADIENT, OCCLUSION = "Gradient × input", "Occlusion"
UNIT_COUNTS = (8, 16, 32, 64)
SOURCE_KEY, INDEX_KEY = "inside_source", "inside_index"
SEEN_KEY = "inside_seen_request"  # the last "inspect_index" this page has shown

data = mnist()

st.title("Inside the model")
st.markdown("What the network's first layer looks for, which of its units fire for one "
            "digit, and which pixels made it choose its answer.")


found = model_or_reader()
follow_training()
if found is None:
    if is_training():
        st.info("A model is training: this view opens after its first epoch.")
    else:
        st.warning("**No trained model yet.** Train one first, then come back to look inside it.")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/monitoring:")
    st.stop()

from mnist_core import inside  # noqa: E402  (TensorFlow: only once there is a model)

model, epoch, job = found
progress = job.progress()
note = (f"{ARCHITECTURE_NAMES[job.model_config.architecture]} of run `{job.run_id}`, "
        f"weights after epoch {epoch}/{progress.epochs}")
if is_reader(job):
    note = (f"{ARCHITECTURE_NAMES[job.model_config.architecture]}: the ready reader "
            "shipped with the app, since you have no model of your own yet "
            f"(test accuracy {progress.test_accuracy:.2%})")
elif is_active(job):
    note += ": training continues, and this view follows each new epoch."
elif progress.test_accuracy is not None:
    note += f" (test accuracy {progress.test_accuracy:.2%})."
if is_training() and not is_active(job):
    note += " A new run is training: this view switches to it after its first epoch."
st.caption(note)

# --- 1 · The input ---------------------------------------------------------------------


def choose_input_on_arrival(drawing, test_images: int) -> None:
    """Which digit to show when the page opens; within a visit the widgets keep their values.

    A new request from the Data or Evaluate page ("inspect_index") wins, then the
    drawing from the Draw page, then a test image. Streamlit drops this page's widget
    values when another page runs, so a missing value means the page was just opened.
    """
    if SOURCE_KEY in st.session_state:
        return
    requested = st.session_state.get("inspect_index")
    fresh = requested is not None and requested != st.session_state.get(SEEN_KEY)
    st.session_state[SEEN_KEY] = requested
    st.session_state[INDEX_KEY] = min(int(requested or 0), test_images - 1)
    st.session_state[SOURCE_KEY] = TEST_IMAGE if fresh or drawing is None else DRAWING


st.header("1 · One digit")
drawing = st.session_state.get("drawing")
choose_input_on_arrival(drawing, len(data.x_test))
with st.container(horizontal=True, gap="medium"):  # the answer wraps under on a laptop
    choose_column = st.container(width=240)
    image_column = st.container(width="content")
    answer_column = st.container(key="inside_answer")
with choose_column:
    source = st.segmented_control("Input", [TEST_IMAGE, DRAWING], key=SOURCE_KEY) or TEST_IMAGE
    label = None
    if source == TEST_IMAGE:
        index = st.number_input("Test image number", 0, len(data.x_test) - 1, key=INDEX_KEY)
        x = data.x_test[index].astype(np.float32) / 255
        label = int(data.y_test[index])
        st.caption(f"MNIST test image {index}, labelled **{label}**.")
    elif drawing is None:
        x = None
        st.info("Nothing drawn yet.")
        st.page_link("pages/draw.py", label="Draw a digit", icon=":material/draw:")
    else:
        x = np.asarray(drawing, dtype=np.float32)
        st.caption("Your drawing from the Draw page, prepared like MNIST.")
if x is None:
    st.stop()

explanation = inside.explain(model, x)
digit = explanation.digit
with image_column:
    st.image(tile(x, 168, crisp=True), caption="The 28×28 input",
             alt=f"The 28×28 input: {source.lower()}")
with answer_column:
    with st.container(horizontal=True, gap="medium"):
        st.metric("Prediction", digit, width="content")
        st.metric("Probability", f"{explanation.probabilities[digit]:.1%}", width="content")
        if label is not None:
            st.metric("Label", label, width="content")
    st.plotly_chart(softmax_figure(explanation.probabilities), width="stretch")

# --- 2 · What the first layer looks for ----------------------------------------------------
st.header("2 · What the first layer looks for")
noun = inside.unit_noun(model)
layer = inside.first_layer(model)
all_units = layer.kernel.shape[-1]
first_is_hidden = noun != "digit"
orders = [LARGEST, ACTIVE, FIRST] if first_is_hidden else [FIRST]
counts = [count for count in UNIT_COUNTS if count < all_units]
counts += [all_units] if all_units <= UNIT_COUNTS[-1] else []  # 512 tiles would swamp the page
with st.container(horizontal=True, gap="large"):
    order = st.segmented_control("Which " + noun + "s", orders, default=orders[0]) \
        or orders[0]
    if len(counts) > 1:
        count = st.select_slider("How many", counts, value=min(16, all_units), width=220)
    else:
        count = counts[0]
if order == LARGEST:
    units = inside.strongest_units(model)[:count]
elif order == ACTIVE:
    units = inside.most_active_units(explanation.activations[0])[:count]
else:
    units = np.arange(count)
weights = inside.first_layer_weights(model, units)
st.plotly_chart(weights_figure(weights, units, noun, layer.name), width="stretch")
if noun == "filter":
    st.caption("Each 3×3 filter slides over the image and responds where the ink matches it: "
               "red weights reward ink, blue ones penalise it. They detect edges and stroke "
               "pieces at every position.")
elif noun == "unit":
    st.caption("Each unit multiplies every pixel by a weight and adds them up: red pixels "
               "make it fire when inked, blue ones hold it back. Its pattern is the shape "
               "of ink it responds to.")
else:
    st.caption("This network has no hidden layer: each digit's score is the inked pixels "
               "weighted by its template — red where that digit has ink, blue where it has none.")

# --- 3 · Which units fire -------------------------------------------------------------------
st.header("3 · Which units fire")
activations = explanation.activations
maps = [activation for activation in activations if activation.is_map]
if not activations:
    st.caption("No hidden layer: the pixels go straight to the ten digit scores.")
elif maps:
    names = [activation.name for activation in maps]
    shown = st.selectbox("Convolution layer", names, disabled=len(names) == 1) or names[0]
    activation = maps[names.index(shown)]
    st.plotly_chart(feature_maps_figure(activation), width="stretch")
    st.caption("Each feature map is one filter applied everywhere on the image: bright where "
               "its pattern was found. Deeper layers see larger parts of the digit, at lower "
               "resolution (max-pooling halves it after each convolution).")
for activation in activations:
    if not activation.is_map:
        st.plotly_chart(activations_figure(activation), width="stretch")
if activations and not maps:
    st.caption("One cell per unit, row by row: bright units fire strongly for this input, "
               "black ones stay silent. Hover a cell to see the unit's number — pick "
               "*Most active for this input* above to see what those units look for.")

# --- 4 · Why this digit? ------------------------------------------------------------------
st.header(f"4 · Why {digit}?")
others = [d for d in range(10) if d != digit]
rival = label if label is not None and label != digit else explanation.runner_up
with st.container(horizontal=True, gap="large"):
    method = st.segmented_control("Method", [GRADIENT, OCCLUSION], default=GRADIENT) \
        or GRADIENT
    versus = st.selectbox("And not", others, index=others.index(rival), width=160,
                          help="By default the label when the model is wrong, "
                               "else its second choice.")
if method == GRADIENT:
    evidence = explanation.saliency_maps
    st.caption("Gradient × input: for each inked pixel, how much the digit's score "
               "(before the softmax) would change per unit of ink, times the ink. Red "
               "pixels speak for the digit, blue ones against it; blank pixels are 0.")
else:
    evidence = inside.occlusion(model, x)
    st.caption(f"Occlusion: {inside.OCCLUSION_PATCH}×{inside.OCCLUSION_PATCH} squares of the "
               "input are blanked one at a time. Red where blanking lowers the digit's score "
               "(before the softmax: the ink there speaks for it), blue where it raises it.")
st.plotly_chart(saliency_figure(x, evidence, digit, versus, method.lower()),
                width="stretch")
st.caption(f"Right: red pixels make the network prefer {digit}, blue ones {versus}.")
