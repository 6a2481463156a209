"""Visitors without browsers: protocol clients replaying a recorded Draw journey.

A short version of `bench/capacity.py` for CI. Three clients, each its own Streamlit
session, replay the strokes a real Chromium sent (`bench/recordings/journey.json`) at
once, interleaved at random: every stroke is answered with the prediction the
recording showed, no error, so no session reads another's drawing. And a fresh
server gets drawing ready in the background once its first page has answered.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState

from .conftest import ROOT, app_server
from .protocol import Client, replayable

RECORDING = ROOT / "bench" / "recordings" / "journey.json"
CLIENTS = 3


def run(coroutine):
    """Run the clients in a thread of their own: Playwright's sync API may already run
    an event loop in this one (the browser tests' session-wide browser)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def draw_journey() -> list[dict]:
    return json.loads(RECORDING.read_text())["draw"]


async def replay(url: str, journey: list[dict], seed: int) -> list[str]:
    """One visitor's journey; what went wrong, step by step (nothing, hopefully)."""
    rng = random.Random(seed)
    problems = []
    async with Client(url) as client:
        for step in journey:
            await asyncio.sleep(rng.uniform(0.05, 0.4))  # the three interleave
            for frame in step["frames"]:
                reply = await client.send(replayable(base64.b64decode(frame)), timeout=120)
                expected = step.get("prediction")
                if not reply.finished or reply.exceptions:
                    problems.append(f"{step['action']}: finished={reply.finished}, "
                                    f"{reply.exceptions}")
                elif expected is not None and reply.prediction != expected:
                    problems.append(f"{step['action']}: read {reply.prediction!r}, "
                                    f"the recording {expected!r}")
    return problems


async def visitors(url: str) -> list[list[str]]:
    journey = draw_journey()
    return await asyncio.gather(*(replay(url, journey, seed) for seed in range(CLIENTS)))


def loaded_tensorflow(pid: int) -> bool:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return "_pywrap_tensorflow" in maps or "libtensorflow" in maps


def wait_until_quiet(pid: int, timeout: float = 120) -> None:
    """Until the process has used under 5% of a core for a second (or `timeout`)."""
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu()
        time.sleep(1.0)
        if cpu() - before < 0.05:
            return


def test_three_visitors_draw_at_once_and_each_reads_their_own_drawing(artifacts, tmp_path):
    journey = draw_journey()
    assert sum(1 for step in journey if step.get("prediction")) >= 3, "a recording to replay"
    log = artifacts / "streamlit-protocol-replay.log"
    with app_server(log, MNIST_SHARED="1", MNIST_RUNS_DIR=str(tmp_path / "runs")) as (_, url):
        problems = run(visitors(url))
    assert problems == [[]] * CLIENTS


def test_a_fresh_server_gets_drawing_ready_after_its_first_page(artifacts, tmp_path):
    """Home answers without TensorFlow; then, with no one on the Draw page, the server
    loads it (and the ready reader) in the background, and says nothing about it."""
    log = artifacts / "streamlit-warm-up.log"
    with app_server(log, MNIST_RUNS_DIR=str(tmp_path / "runs")) as (process, url):
        assert not loaded_tensorflow(process.pid)

        async def open_home() -> bool:
            async with Client(url) as client:
                reply = await client.send(BackMsg(rerun_script=ClientState()))
                return reply.finished and not reply.exceptions

        assert run(open_home())
        deadline = time.monotonic() + 120
        while not loaded_tensorflow(process.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert loaded_tensorflow(process.pid), "TensorFlow was not loaded in the background"
        wait_until_quiet(process.pid)  # the reader loads and reads: nothing in the log
    lines = [line for line in log.read_text().splitlines()
             if line.strip() and not any(text in line for text in (
                 "Uvicorn server started", "You can now view", "URL: http", "Stopping..."))]
    assert lines == []
