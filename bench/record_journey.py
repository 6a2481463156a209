"""Record what a real browser sends on the Draw and Train pages, for protocol replays.

Drives one Chromium session through the Draw journey (open Draw, draw a digit stroke
by stroke, clear, draw the next) and a second one through starting and stopping a
training on the Train page, and keeps every rerun the page sent over its websocket
(Playwright's `page.on("websocket")`), with what the page showed after each: the
prediction after a stroke. `bench/capacity.py` and the CI smoke test replay them from
protocol clients (`bench/protocol.py`).

Run it again whenever the Draw or Train page changes (widget ids, fragments):

    MNIST_DATA=../shared/data/mnist.npz .venv/bin/python bench/record_journey.py
"""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path

import streamlit
from browser import (
    DRAW_PROMPT,
    Server,
    chromium,
    draw_stroke,
    metric_value,
    new_page,
    one,
    open_app,
    seven,
    wait_until_idle,
    zero,
)
from playwright.sync_api import Page, expect

from tests.e2e.protocol import replayable

RECORDING = Path(__file__).parent / "recordings" / "journey.json"
DIGITS = [("1", one(120, 40, 200)), ("7", seven(40, 40, 200)), ("0", zero(40, 30, 200)),
          ("7", seven(120, 110, 140)), ("1", one(60, 60, 120))]
TRAINING = "train?epochs=50&train_size=30000"  # long enough to outlast any replay


class Recorder:
    """The reruns a page sends over its websocket, taken out action by action."""

    def __init__(self, page: Page) -> None:
        self.frames: list[bytes] = []
        page.on("websocket", lambda socket: socket.on("framesent", self._sent))

    def _sent(self, payload) -> None:
        if isinstance(payload, (bytes, bytearray)) and replayable(bytes(payload)) is not None:
            self.frames.append(bytes(payload))

    def take(self) -> list[str]:
        taken, self.frames = self.frames, []
        return [base64.b64encode(frame).decode() for frame in taken]


def record_drawing(page: Page, url: str) -> list[dict]:
    recorder = Recorder(page)
    open_app(page, url, "draw", "Draw a digit")
    expect(page.get_by_text(DRAW_PROMPT)).to_be_visible()
    steps = [{"action": "open Draw", "frames": recorder.take()}]
    for number, (digit, strokes) in enumerate(DIGITS):
        if number:
            page.get_by_role("button", name="Clear").click()
            wait_until_idle(page)
            expect(page.get_by_text(DRAW_PROMPT)).to_be_visible()
            steps.append({"action": "clear", "frames": recorder.take()})
        for index, stroke in enumerate(strokes, start=1):
            draw_stroke(page, stroke)
            page.wait_for_timeout(300)
            wait_until_idle(page)
            last = index == len(strokes)
            shown = metric_value(page, "Prediction") if last else None
            steps.append({"action": f"stroke {index}/{len(strokes)} of a {digit}",
                          "frames": recorder.take(), "prediction": shown})
        assert steps[-1]["prediction"] == digit, steps[-1]
    return steps


def record_training(page: Page, url: str) -> list[dict]:
    recorder = Recorder(page)
    open_app(page, url, TRAINING, "Train the network")
    steps = [{"action": "open Train", "frames": recorder.take()}]
    page.get_by_role("button", name="Start training").click()
    wait_until_idle(page)
    steps.append({"action": "start", "frames": recorder.take()})
    page.get_by_role("button", name="Stop", exact=True).click()
    wait_until_idle(page)
    steps.append({"action": "stop", "frames": recorder.take()})
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RECORDING)
    args = parser.parse_args()
    with Server(MNIST_SHARED="1") as server, chromium() as browser:
        server.wait_healthy()
        drawer, trainer = new_page(browser), new_page(browser)
        recording = {
            "streamlit": streamlit.__version__,
            "draw": record_drawing(drawer, server.url),
            "train": record_training(trainer, server.url),
        }
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(recording, indent=1) + "\n")
    frames = sum(len(step["frames"]) for part in ("draw", "train") for step in recording[part])
    print(f"{args.out}: {frames} frames, {args.out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
