"""Home: what the app does, and a first look at the data."""

import numpy as np
import streamlit as st

from mnist_core.data import NUM_CLASSES
from ui.layout import digit_gallery, metrics_row
from ui.router import within_app
from ui.server import mnist

within_app()

SAMPLE_DIGITS = 24

data = mnist()

st.title("MNIST Playground")
st.markdown(
    "Train a neural network to read handwritten digits, then draw one and watch it guess."
)
STEPS = [
    ("1 · Look at the data", "70,000 handwritten digits, 28×28 pixels each, labelled 0–9. "
     "Below: samples; the Data page shows them all.", "pages/data.py", "Go to Data",
     ":material/grid_view:"),
    ("2 · Train", "Pick epochs, batch size and the network in the sidebar, then watch "
     "loss and accuracy improve epoch by epoch.", "pages/train.py", "Go to Train",
     ":material/monitoring:"),
    ("3 · Draw", "Draw a digit with the mouse: the network's softmax output updates "
     "as you draw.", "pages/draw.py", "Go to Draw", ":material/draw:"),
]
# Cards of one height ("stretch"), each link at its card's foot ("distribute"): the
# links line up whatever the length of the text above them; narrow screens stack them.
for column, (heading, text, page, link, icon) in zip(st.columns(len(STEPS)), STEPS):
    with column.container(border=True, height="stretch", vertical_alignment="distribute"):
        st.subheader(heading)
        st.markdown(text)
        st.page_link(page, label=link, icon=icon)

st.header("The data")
if data.is_sample:
    st.warning(f"Using a small offline sample, not the full MNIST: {data.source}. "
               "Set MNIST_DATA to a local mnist.npz for the full 70,000 digits.")
else:
    st.caption(f"Source: {data.name}", help=data.source)
with metrics_row():
    st.metric("Training images", f"{len(data.x_train):,}", width="content")
    st.metric("Test images", f"{len(data.x_test):,}", width="content")
    st.metric("Image size", "28 × 28", width="content")
    st.metric("Classes", NUM_CLASSES, width="content")

if st.button("Show other digits"):
    st.session_state["sample_seed"] = st.session_state.get("sample_seed", 0) + 1
rng = np.random.default_rng(st.session_state.get("sample_seed", 0))
picked = rng.choice(len(data.x_train), SAMPLE_DIGITS, replace=False)
st.markdown(f"**{SAMPLE_DIGITS} training images**, each above its label:")
digit_gallery(data.x_train[picked] / 255, data.y_train[picked], "A handwritten")

st.markdown("Browse every digit, and see how one image becomes the network's input "
            "(28×28 pixels → 784 numbers → /255, and a one-hot label), on the Data page.")
st.page_link("pages/data.py", label="Explore the data", icon=":material/grid_view:")
