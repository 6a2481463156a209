"""MNIST Playground's logic: data, model, training, preprocessing, prediction, figures.

Nothing here imports Streamlit, so all of it runs in tests and on the command line.
Submodules that need Keras import it themselves; importing this package does not.
"""
