"""Home: what the app does, and a first look at the data."""

import numpy as np
import streamlit as st

import ui
from mnist_core.data import NUM_CLASSES
from mnist_core.figures import digit_grid_figure

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
                "Below: samples; the Data page shows them all.")
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

st.markdown("Browse every digit, and see how one image becomes the network's input "
            "(28×28 pixels → 784 numbers → /255, and a one-hot label), on the Data page.")
st.page_link("pages/data.py", label="Explore the data", icon=":material/grid_view:")
