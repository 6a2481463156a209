"""MNIST Playground: train a network on handwritten digits, then draw one and watch it read.

Entry point: `streamlit run app.py`. The router (ui.router) draws the shared frame and
sidebar, then the page the address asks for.
"""

from ui.router import route

route()
