"""The app's CSS, and the blocks the pages lay out alike (pairs, metric rows, digits).

Streamlit has no parameter for a few of the app's layout rules: they are CSS here,
beside the containers whose keys they select, so that a renamed key is seen at once.
"""

from __future__ import annotations

import streamlit as st

from mnist_core.figures.images import tile

# The app's few rules of layout that Streamlit has no parameter for.
APP_CSS = """<style>
/* A collapsed sidebar keeps its controls in the page: hidden, they leave the keyboard's
   Tab order too, instead of taking 21 presses on the way to the page's own controls. */
[data-testid='stSidebar'][data-collapsed='true'] * { visibility: hidden !important; }
/* Blocks side by side while each has room, else one under the other: the Draw and
   Inside pages' answers beside their input, the Evaluate page's images beside its matrix. */
[data-testid='stLayoutWrapper']:has(> .st-key-draw_answer) { min-width: min(100%, 240px); }
[data-testid='stLayoutWrapper']:has(> .st-key-inside_answer) { min-width: min(100%, 300px); }
[data-testid='stLayoutWrapper']:has(> .st-key-data_vectors) { min-width: min(100%, 360px); }
[data-testid='stLayoutWrapper']:has(> [class*='st-key-pair_']) { min-width: min(100%, 320px); }
[data-testid='stLayoutWrapper']:has(> .st-key-confusion_block) { flex: 3 1 480px; }
[data-testid='stLayoutWrapper']:has(> .st-key-cell_block) { flex: 2 1 300px; }
/* A row of pictures sent as one image list (the Draw page's preparation): apart, as in
   a row of single pictures. */
.st-key-preparation_steps [data-testid='stImage'],
.st-key-naive_versus_mnist [data-testid='stImage'] { gap: 0.5rem; }
</style>"""
GALLERY_PX = 56  # each digit of a gallery, 2 screen pixels per pixel


def app_style() -> None:
    """APP_CSS, at the foot of the sidebar.

    Not `st.html`: a style-only `st.html` goes to Streamlit's event container, and on
    some later sessions' pages it was gone (measured on the Train page), taking the
    rules with it. An element of the sidebar is sent with every full run.
    """
    st.sidebar.markdown(APP_CSS, unsafe_allow_html=True)


def pair(first: str, second: str) -> tuple:
    """Two blocks side by side while each has 320 px (two charts, say), else one under
    the other: `st.columns` keeps them side by side down to a phone's width."""
    with st.container(horizontal=True, gap="medium"):
        return st.container(key=f"pair_{first}"), st.container(key=f"pair_{second}")


def metrics_row():
    """A row of metrics that wraps, each as wide as its value: in columns, "83.77%"
    read "83.7…" on a laptop's narrow page."""
    return st.container(horizontal=True, gap="large")


def digit_gallery(images, labels, alt_words: str) -> None:
    """Digits (28×28, floats in [0, 1]) each above its label, wrapping at any width.

    Pictures, not a figure: a figure keeps its height whatever its width, and left
    bands of blank space on a narrow screen; each picture also gets a text for
    screen readers ("<alt_words> 7").
    """
    with st.container(horizontal=True, gap="xsmall"):
        for image, label in zip(images, labels):
            st.image(tile(image, GALLERY_PX, crisp=True), caption=str(int(label)),
                     width=GALLERY_PX, alt=f"{alt_words} {int(label)}")
