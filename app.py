"""MNIST Playground: train a network on handwritten digits, then draw one and watch it read.

Entry point and router: the shared frame and sidebar, then the chosen page.
Run with `streamlit run app.py`.

The pages live in app_pages/, not pages/: Streamlit takes a folder named pages/ beside
the entry point for its legacy multipage app, and would run a page without this router.
"""

import streamlit as st

import ui
from mnist_core.data import MnistDataError

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
    data = ui.mnist()
except MnistDataError as error:
    st.error(f"MNIST could not be loaded. {error}")
    st.stop()

ui.sync_run_with_url()
st.session_state["config"] = ui.sidebar_config(data)
ui.sidebar_status(data)
ui.app_style()
page.run()
