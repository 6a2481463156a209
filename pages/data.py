"""Data: browse MNIST digit by digit, see what the set is made of, and prepare one image."""

import numpy as np
import streamlit as st

from mnist_core import explore
from mnist_core.data import NUM_CLASSES
from mnist_core.figures.data import (
    browse_figure,
    class_counts_figure,
    mean_images_figure,
    pixel_histogram_figure,
    preparation_figures,
)
from ui.layout import pair
from ui.router import within_app
from ui.server import mnist
from ui.sidebar import switch_page

within_app()

data = mnist()


@st.cache_data(show_spinner="Summing up the set…")
def summary(set_name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class counts, mean images and pixel histogram: once per set and server.

    Keyed by the set's name, not its arrays: hashing 47 MB of images on every rerun
    would cost more than the numbers themselves.
    """
    x, y = explore.images_and_labels(mnist(), set_name)
    return explore.class_counts(y), explore.mean_images(x, y), explore.pixel_histogram(x)


def look_inside(test_index: int) -> None:
    """Hand the image to the Inside page, which reads "inspect_index"."""
    st.session_state["inspect_index"] = test_index
    st.session_state["open_inside"] = True  # a callback can't switch pages: the script does


@st.fragment
def one_image(set_name: str) -> None:
    """One image and its preparation: a new image number reruns only this part."""
    x, y = explore.images_and_labels(data, set_name)
    index_column, label_column, _ = st.columns([1, 1, 2])
    index = index_column.number_input(
        f"Image number in the {explore.SETS[set_name]} set", 0, len(y) - 1,
        key=f"data_index_{set_name}",
    )
    label = int(y[index])
    label_column.metric("Label", label)
    pixels, flattened, scaled = preparation_figures(x[index], label, index)
    with st.container(horizontal=True, gap="medium"):  # side by side while both have room
        left = st.container(width=260)
        right = st.container(key="data_vectors")
    with left:
        st.plotly_chart(pixels, width="stretch")
        if set_name == "test":
            st.button("Look inside the model with this image", icon=":material/visibility:",
                      on_click=look_inside, args=(index,))
        if st.session_state.pop("open_inside", False):
            switch_page("pages/inside.py")
    with right:
        st.plotly_chart(flattened, width="stretch")
        st.plotly_chart(scaled, width="stretch")
        st.markdown(f"**One-hot label** for the digit {label}: a 1 in position {label}, "
                    "zeros elsewhere — what the softmax output is trained to match.")
        one_hot = explore.one_hot_label(label).astype(int)
        digits = [str(digit) for digit in range(NUM_CLASSES)]
        st.dataframe([dict(zip(digits, one_hot))], hide_index=True, width="content",
                     column_config={digit: st.column_config.NumberColumn(width=34)
                                    for digit in digits})  # all ten in a laptop's column


st.title("Explore the data")
st.markdown("Every image the network learns from or is tested on: browse them digit by "
            "digit, see how the classes balance, what a typical digit looks like, and how "
            "one image becomes the network's input.")

set_column, digit_column = st.columns(2)
set_name = set_column.radio(
    "Set", list(explore.SETS), key="data_set", horizontal=True,
    format_func=lambda name: (f"{explore.SETS[name].capitalize()} "
                              f"({len(explore.images_and_labels(data, name)[1]):,})"),
)
digit = digit_column.selectbox(
    "Digit", [None, *range(NUM_CLASSES)], key="data_digit",
    format_func=lambda d: "all digits" if d is None else f"only {d}s",
)
x, y = explore.images_and_labels(data, set_name)
counts, means, pixel_counts = summary(set_name)

st.header("Browse")
indices = explore.class_indices(y, digit)
pages = explore.page_count(indices)
page_column, caption_column = st.columns([1, 3], vertical_alignment="bottom")
# One page control per set and digit: each keeps its own place, and its range.
page = page_column.number_input("Page", 1, pages, key=f"data_page_{set_name}_{digit}")
shown = explore.page_of(indices, page)
caption_column.caption(
    f"{len(indices):,} images{'' if digit is None else f' of the digit {digit}'} in the "
    f"{explore.SETS[set_name]} set: page {page} of {pages}, images #{shown[0]}–#{shown[-1]}. "
    "Each is titled with its index in the set and its label."
)
st.plotly_chart(browse_figure(x, y, shown), width="stretch")

st.header("The set at a glance")
balance_column, pixels_column = pair("class_balance", "pixel_values")
balance_column.plotly_chart(class_counts_figure(counts, explore.SETS[set_name]),
                            width="stretch")
balance_column.caption(f"Nearly balanced: the most common digit, {counts.argmax()}, has "
                       f"{counts.max() / counts.min():.2f}× the images of the rarest, "
                       f"{counts.argmin()}. On such a set, accuracy alone is a fair score.")
pixels_column.plotly_chart(pixel_histogram_figure(pixel_counts, explore.SETS[set_name]),
                           width="stretch")
pixels_column.caption(f"{pixel_counts[0] / pixel_counts.sum():.0%} of the pixels are 0, the "
                      "black background. Most ink pixels are near 255, the full stroke; "
                      "the greys are the strokes' soft edges.")
st.plotly_chart(mean_images_figure(means), width="stretch")
st.caption("The mean image of each digit: the average of all its images, pixel by pixel. "
           "Blurred where writers differ, bright where they agree.")

st.header("One image, prepared for the network")
one_image(set_name)
