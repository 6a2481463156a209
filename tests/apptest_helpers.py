"""AppTest helpers shared by the page tests.

AppTest runs the real script without a browser; the canvas's JavaScript never runs,
so drawings are injected through the canvas's session-state key.
"""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from ui.server import runs
from ui.session import LATEST_CHECKED

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120  # the first run imports TensorFlow


def app_at(page: str, open_latest: bool = False) -> AppTest:
    """A new session on `page`.

    A new session opens the latest finished run on the server, and the tests share
    one server's runs: unless `open_latest`, the session starts as if it had found
    none, as a newcomer's first visit does.
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if not open_latest:
        at.session_state[LATEST_CHECKED] = True
    at.switch_page(f"pages/{page}.py")
    return at.run()


def app_with_run(page: str, run_id: str) -> AppTest:
    """A new session opened on `page` by a link to a run (a reload, or a shared link)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["run"] = run_id
    at.switch_page(f"pages/{page}.py")
    return at.run()


def train_on_train_page(train_size: int, epochs: int) -> AppTest:
    """A session that trained a run through the Train page, as a user does, to its end."""
    at = app_at("train")
    at.select_slider(key="train_size").set_value(train_size).run()
    at.number_input(key="epochs").set_value(epochs).run()
    next(b for b in at.button if b.label == "Start training").click().run()
    wait_for_training(at)
    assert not at.exception
    return at


def job_of(at: AppTest):
    """The run this app session follows, from the server-wide registry."""
    return runs().get(at.session_state["run_id"])


def wait_for_training(at: AppTest, timeout: float = 120) -> None:
    """Let the background job finish, then rerun the script as the poller would."""
    deadline = time.monotonic() + timeout
    job = job_of(at)
    while not job.progress().status.is_done:
        assert time.monotonic() < deadline, "training did not finish in time"
        time.sleep(0.2)
    at.run()


def canvas_state(image: np.ndarray) -> dict:
    """What the canvas component reports: its drawing as a PNG data URL."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url}, "backgroundFit": None}


def drawn_digit(mnist, index: int) -> np.ndarray:
    """An MNIST test digit drawn large, off-centre, as black ink on a transparent canvas."""
    digit = Image.fromarray(mnist.x_test[index]).resize((196, 196), Image.Resampling.BILINEAR)
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[70:266, 10:206, 3] = np.asarray(digit)
    return canvas


def canvas_key(at: AppTest) -> str:
    return f"canvas-{at.session_state['canvas_version']}"
