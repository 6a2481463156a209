"""Two people on one server: one trains while the other draws.

The drawing stays responsive (a prediction within a second of lifting the pen), a
newcomer draws at once with the ready reader, and neither person sees the other's run. Each browser context is its own Streamlit
session, as two people's browsers are.
"""

from __future__ import annotations

import re
import statistics
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from .conftest import close_page, new_page
from .test_browser import (
    DRAW_PROMPT,
    RERUN_TIMEOUT_MS,
    TRAINING_TIMEOUT_MS,
    canvas,
    clear_canvas,
    install_latency_probe,
    metric_value,
    one,
    open_app,
    progress_bar,
    set_number_input,
    seven,
    start_training,
    stroke_latency,
)

# Both users' browsers run on the server's own two cores here, next to the training:
# the trainer's tab redraws its progress and charts while the drawer's tab draws. In
# that setting the median is about 0.6 s and single strokes now and then take up to
# ~2.5 s (an epoch ends, the trainer's charts redraw). So the 1 s target is asserted on
# the median of several drawings, and each single one must stay within a few seconds.
# Each is timed inside the page, from the mouse-up to the Prediction metric appearing,
# so Playwright's polling adds nothing (as bench/drawing_latency.py times it).
TARGET_SECONDS = 1.0
WORST_CASE_SECONDS = 4.0
DRAWINGS = [("1", (120, 40, 200)), ("7", (40, 40, 200))] * 3


def run_in(page) -> str:
    """The run id in a page's address."""
    return parse_qs(urlparse(page.url).query)["run"][0]


def test_one_trains_while_the_other_draws(browser, newcomer_app, artifacts):
    """The trainer starts first; a newcomer who arrives meanwhile draws at once, read by
    the ready reader, without a model or a place in the training queue."""
    app_url, _ = newcomer_app
    drawer, trainer = new_page(browser), new_page(browser)
    try:
        open_app(trainer, app_url, "train", "Train the network")
        set_number_input(trainer, "Epochs", 10)
        start_training(trainer)
        expect(trainer).to_have_url(re.compile(r"[?&]run="), timeout=RERUN_TIMEOUT_MS)
        trainer_run = run_in(trainer)
        expect(progress_bar(trainer)).to_contain_text(re.compile(r"batch [1-9]"),
                                                      timeout=TRAINING_TIMEOUT_MS)

        # The drawer arrives while it trains: no model of their own, no queue.
        open_app(drawer, app_url, "draw", "Draw a digit")
        expect(drawer.get_by_text("No model of your own yet")).to_have_count(2)  # page, sidebar
        # A first digit, as anyone tries: this server's first reading loads what every
        # later one reuses, which is not what this test measures.
        install_latency_probe(drawer)
        stroke_latency(drawer, one(120, 40, 200)[0])
        clear_canvas(drawer)

        latencies = []
        for digit, (x, y, size) in DRAWINGS:
            expect(progress_bar(trainer)).to_be_visible()  # still training meanwhile
            (stroke,) = (one if digit == "1" else seven)(x, y, size)
            latencies.append(stroke_latency(drawer, stroke))
            assert metric_value(drawer, "Prediction") == digit
            clear_canvas(drawer)
            expect(drawer.get_by_text(DRAW_PROMPT)).to_be_visible()
        print(f"prediction latency while another user trains: {latencies}")
        assert statistics.median(latencies) <= TARGET_SECONDS, latencies
        assert max(latencies) <= WORST_CASE_SECONDS, latencies

        # Neither sees the other's run.
        sidebar = drawer.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("Training in progress")).to_have_count(0)
        assert "run=" not in drawer.url
        sidebar.get_by_role("link", name="Train", exact=True).click()
        expect(drawer.get_by_text("Press Start training")).to_be_visible(
            timeout=RERUN_TIMEOUT_MS)
        expect(drawer.get_by_text(trainer_run)).to_have_count(0)
        expect(canvas(trainer)).to_have_count(0)

        # The trainer's Stop ends the run; it is kept as stopped.
        trainer.get_by_role("button", name="Stop", exact=True).click()
        expect(trainer.get_by_text(re.compile(r"Stopped (during epoch|after \d+ full epoch)"))).to_be_visible(
            timeout=TRAINING_TIMEOUT_MS)
    finally:
        close_page(trainer)
        close_page(drawer)
