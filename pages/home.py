"""Home: what the app does, the data, and how the classic tutorial prepares it."""

import numpy as np
import streamlit as st

import ui
from mnist_core.data import INPUT_DIM, NUM_CLASSES, prepare_images
from mnist_core.figures import digit_grid_figure, image_figure, vector_strip_figure

SAMPLE_DIGITS = 24

ui.page_config()
data = ui.mnist()

st.title("MNIST Playground")
st.markdown(
    "Train a neural network to read handwritten digits, then draw one and watch it guess."
)
step1, step2, step3 = st.columns(3)
with step1:
    st.subheader("1 · Look at the data")
    st.markdown("70,000 handwritten digits, 28×28 pixels each, labelled 0–9. "
                "Below: samples, and how each image becomes the network's input.")
with step2:
    st.subheader("2 · Train")
    st.markdown("Pick epochs, batch size and the network in the sidebar, then watch "
                "loss and accuracy improve epoch by epoch.")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/monitoring:")
with step3:
    st.subheader("3 · Draw")
    st.markdown("Draw a digit with the mouse: the network's softmax output updates "
                "as you draw.")
    st.page_link("pages/draw.py", label="Go to Draw", icon=":material/draw:")

st.header("The data")
if data.is_sample:
    st.warning(f"Using a small offline sample, not the full MNIST: {data.source}. "
               "Set MNIST_DATA to a local mnist.npz for the full 70,000 digits.")
else:
    st.caption(f"Source: {data.source}")
counts = st.columns(4)
counts[0].metric("Training images", f"{len(data.x_train):,}")
counts[1].metric("Test images", f"{len(data.x_test):,}")
counts[2].metric("Image size", "28 × 28")
counts[3].metric("Classes", NUM_CLASSES)

if st.button("Show other digits"):
    st.session_state["sample_seed"] = st.session_state.get("sample_seed", 0) + 1
rng = np.random.default_rng(st.session_state.get("sample_seed", 0))
picked = rng.choice(len(data.x_train), SAMPLE_DIGITS, replace=False)
st.plotly_chart(digit_grid_figure(data.x_train[picked], data.y_train[picked], columns=12),
                width="stretch")

st.header("Preparing an image for the network")
index = st.columns([1, 3])[0].number_input("Training image number", 0, len(data.x_train) - 1, 0)
image, label = data.x_train[index], int(data.y_train[index])
vector = prepare_images(image[np.newaxis])[0]
left, right = st.columns([1, 2])
with left:
    st.plotly_chart(image_figure(image, f"28×28 pixels, 0–255 (label {label})", zmax=255),
                    width="stretch")
with right:
    st.plotly_chart(vector_strip_figure(image.reshape(-1), f"Flattened: {INPUT_DIM} numbers"),
                    width="stretch")
    st.plotly_chart(vector_strip_figure(vector, "Scaled by /255: float32 in [0, 1]"),
                    width="stretch")
    st.markdown(f"**One-hot label** for the digit {label}: a 1 in position {label}, "
                "zeros elsewhere — what the softmax output is trained to match.")
    one_hot_row = (np.arange(NUM_CLASSES) == label).astype(int)
    st.dataframe([dict(zip(map(str, range(NUM_CLASSES)), one_hot_row))], hide_index=True)
