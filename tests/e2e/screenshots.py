"""The README's pictures, made the way the browser tests use the app.

    python tests/e2e/screenshots.py

Starts the app on a runs directory of its own, trains the classic model on the Train
page (docs/images/train.png is taken mid-run, charts growing), then draws a 7 on the
Draw page (docs/images/draw.png). Needs Debian's Chromium and MNIST (MNIST_DATA).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect  # noqa: E402

from tests.e2e.conftest import (  # noqa: E402
    ARTIFACTS,
    VIEWPORT,
    app_server,
    launched_chromium,
)
from tests.e2e.test_browser import (  # noqa: E402
    LARGE,
    draw_digit,
    finished_alert,
    go_to,
    open_app,
    progress_bar,
    seven,
)

IMAGES = ROOT / "docs" / "images"
SETUP = "train"  # the classic run: 5 epochs of the dense network, batches of 128


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=120_000)
    with tempfile.TemporaryDirectory() as runs, \
            app_server(ARTIFACTS / "streamlit-screenshots.log", MNIST_RUNS_DIR=runs) as (_, url), \
            launched_chromium() as browser:
        page = browser.new_context(viewport=VIEWPORT).new_page()
        open_app(page, url, SETUP, "Train the network")
        page.get_by_role("button", name="Start training").click()
        page.wait_for_function(  # mid-run: two epochs on the charts, more to come
            """() => [...document.querySelectorAll('.js-plotly-plot')].some(plot =>
                (plot.data || []).some(trace => trace.name === 'validation'
                                               && trace.x.length === 2))""")
        expect(progress_bar(page)).to_be_visible()
        page.get_by_role("heading", name="Training").evaluate("el => el.scrollIntoView()")
        page.screenshot(path=IMAGES / "train.png")
        expect(finished_alert(page)).to_be_visible()

        go_to(page, "Draw", "Draw a digit")
        assert draw_digit(page, seven(*LARGE)) == "7"
        page.get_by_role("heading", name="Draw a digit").evaluate("el => el.scrollIntoView()")
        page.screenshot(path=IMAGES / "draw.png")
    print(f"Saved {IMAGES / 'train.png'} and {IMAGES / 'draw.png'}")


if __name__ == "__main__":
    main()
