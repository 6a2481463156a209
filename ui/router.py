"""The router: the app's pages and the frame around them; app.py runs it.

Streamlit takes a folder named pages/ beside the entry point for its older multipage
layout until `st.navigation` has run on the server: on a fresh server, and in every
AppTest run, a request at a page's address runs that page alone, without this frame.
So each page starts with `within_app()`. Run alone, the page routes the request the
way app.py does, in this same run (no rerun, so no click is lost), and stops there.
"""

from __future__ import annotations

from contextvars import ContextVar

import streamlit as st

from mnist_core.data import MnistDataError
from ui.layout import app_style
from ui.patches import keep_keras_state_between_reruns
from ui.server import mnist
from ui.session import sync_run_with_url
from ui.sidebar import identity_sidebar, settings_sidebar, sidebar_status
from ui.warmup import warm_up_in_background

PAGES = (  # (script, title, icon); the first is the default page
    ("pages/home.py", "Home", ":material/home:"),
    ("pages/data.py", "Data", ":material/grid_view:"),
    ("pages/train.py", "Train", ":material/monitoring:"),
    ("pages/runs.py", "Runs", ":material/history:"),
    ("pages/draw.py", "Draw", ":material/draw:"),
    ("pages/evaluate.py", "Evaluate", ":material/fact_check:"),
    ("pages/inside.py", "Inside the model", ":material/neurology:"),
)

_routing: ContextVar[bool] = ContextVar("routing", default=False)


def route() -> None:
    """The shared frame and sidebar, then the page the address asks for."""
    keep_keras_state_between_reruns()
    st.set_page_config(page_title="MNIST Playground", page_icon=":material/draw:", layout="wide")
    page = st.navigation([
        st.Page(script, title=title, icon=icon, default=index == 0)
        for index, (script, title, icon) in enumerate(PAGES)
    ])
    try:
        data = mnist()
    except MnistDataError as error:
        st.error(f"MNIST could not be loaded. {error}")
        st.stop()
    sync_run_with_url()
    identity_sidebar()
    settings_sidebar(data)
    sidebar_status(data)
    app_style()
    token = _routing.set(True)
    try:
        page.run()
    finally:
        _routing.reset(token)
    warm_up_in_background()  # the page has answered: now get drawing ready


def within_app() -> None:
    """Call first on every page: a page Streamlit ran alone is routed here, then stops."""
    if not _routing.get():
        route()
        st.stop()
