"""MNIST Playground: train a network on handwritten digits, then draw one and watch it read.

Entry point and router: the shared frame and sidebar, then the chosen page.
Run with `streamlit run app.py`.

The pages live in app_pages/, not pages/: Streamlit takes a folder named pages/ beside
the entry point for its legacy multipage app, and would run a page without this router.
"""

import streamlit as st

from mnist_core.data import MnistDataError
from ui.layout import app_style
from ui.patches import keep_keras_state_between_reruns
from ui.server import mnist
from ui.session import sync_run_with_url
from ui.sidebar import settings_sidebar, sidebar_status

keep_keras_state_between_reruns()
st.set_page_config(page_title="MNIST Playground", page_icon=":material/draw:", layout="wide")

page = st.navigation(
    [
        st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("app_pages/data.py", title="Data", icon=":material/grid_view:"),
        st.Page("app_pages/train.py", title="Train", icon=":material/monitoring:"),
        st.Page("app_pages/runs.py", title="Runs", icon=":material/history:"),
        st.Page("app_pages/draw.py", title="Draw", icon=":material/draw:"),
        st.Page("app_pages/evaluate.py", title="Evaluate", icon=":material/fact_check:"),
        st.Page("app_pages/inside.py", title="Inside the model", icon=":material/neurology:"),
    ]
)

try:
    data = mnist()
except MnistDataError as error:
    st.error(f"MNIST could not be loaded. {error}")
    st.stop()

sync_run_with_url()
settings_sidebar(data)
sidebar_status(data)
app_style()
page.run()
