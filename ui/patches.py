"""The app's one change to Streamlit's behaviour, made through Streamlit's private API.

In a module of its own so that it is easy to find and to review on each Streamlit
upgrade; it fails loudly at start-up if the internals it relies on have moved.
"""

from __future__ import annotations

from streamlit.runtime.scriptrunner import script_runner


def keep_keras_state_between_reruns() -> None:
    """Stop Streamlit from calling `keras.backend.clear_session()` after every script run.

    That call (garbage collection plus clearing TensorFlow's kernel cache) runs after
    each rerun, every half second while a training is polled, and slowed the training
    thread about 30-fold; it also makes each drawing's prediction slower. This app
    keeps no per-run Keras state that needs clearing, so the clean-up is turned off.
    Streamlit's hook cleans matplotlib.pyplot too, which the app does not use.
    Called by app.py on every run; doing it again changes nothing.
    """
    if not hasattr(script_runner, "_clean_problem_modules"):
        raise RuntimeError("Streamlit changed: review keep_keras_state_between_reruns "
                           "in ui/patches.py")
    script_runner._clean_problem_modules = lambda: None
