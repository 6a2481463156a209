"""Where a drawer's CPU goes: Chromium's and the server's share of each stroke.

Why: under load (bench/load.py) the browsers share the server's 2 cores, so their
CPU per stroke bounds the latency as much as the server's does. One server, one
browser context: quick-trains a model on the Draw page, then for `--strokes`
one-stroke digits times three parts of a drawer's cycle: Clear (the canvas is
created again), drawing the stroke (the pointer's moves on the canvas), and after the
mouse-up (sending the drawing, the rerun, showing the answer, until the page is idle
and half a second more). For each part it prints the CPU time of all of Chromium's
processes and of the server's (from /proc), and the page's main-thread time
(Chrome DevTools Protocol, Performance.getMetrics): all tasks, and of them
JavaScript, layout and style. With `--profile` it also runs the DevTools sampling
profiler and prints JavaScript self-time by script file; the profiler costs CPU
itself, so Chromium's totals in that run are inflated.

Then, in a second browser context, the Train page while its run trains (the default
model for `--epochs` epochs, measured for `--watch` seconds from the second epoch
on): the same numbers per second, since that page redraws its charts on its own.

    MNIST_DATA=../shared/data/mnist.npz .venv/bin/python bench/browser_cpu.py
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import re
import time
from pathlib import Path

from browser import (
    Server,
    chromium,
    clear_canvas,
    describe,
    draw_stroke,
    machine,
    metric,
    new_page,
    one,
    open_app,
    quick_train,
    seven,
    wait_until_idle,
    zero,
)
from playwright.sync_api import Page, expect

PARTS = ("Clear", "drawing the stroke", "after the mouse-up")
WATCHING = "Train page while its run trains, per second"
MAIN_THREAD = {"TaskDuration": "all tasks", "ScriptDuration": "JavaScript",
               "LayoutDuration": "layout", "RecalcStyleDuration": "style"}
NOT_JAVASCRIPT = {"(program)", "(idle)", "(root)"}
SETTLE_S = 0.5  # after the page is idle: late paints and image decodes
SHAPES = [one(50, 30, 220), seven(60, 60, 160), zero(15, 15, 100)]


def cpu_seconds(pids) -> float:
    """User + system CPU time of the given processes, in seconds."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def chromium_pids() -> list[int]:
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"chromium" in cmdline.read_bytes().split(b"\0")[0]:
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue
    return pids


def main_thread_seconds(cdp) -> dict[str, float]:
    reported = cdp.send("Performance.getMetrics")["metrics"]
    return {m["name"]: m["value"] for m in reported if m["name"] in MAIN_THREAD}


def self_time_by_script(profile) -> collections.Counter:
    """Seconds of JavaScript self-time per script file name (or built-in function).

    The profiler's "(program)" (native work outside JavaScript) and "(idle)" samples
    are left out: the main-thread metrics measure those better.
    """
    nodes = {node["id"]: node["callFrame"] for node in profile["nodes"]}
    seconds: collections.Counter = collections.Counter()
    for node_id, delta_us in zip(profile["samples"], profile["timeDeltas"]):
        frame = nodes[node_id]
        name = frame["url"].rsplit("/", 1)[-1] or frame["functionName"] or "(anonymous)"
        if name not in NOT_JAVASCRIPT:
            seconds[name] += delta_us / 1e6
    return seconds


class Meter:
    """CPU of Chromium, of the server and of the page's main thread over some action."""

    def __init__(self, page: Page, server: Server, profile: bool) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Performance.enable")
        if profile:
            self.cdp.send("Profiler.enable")
        self.server, self.profile = server, profile

    def __call__(self, action) -> tuple[float, float, collections.Counter, collections.Counter]:
        """(Chromium s, server s, main-thread s by metric, JavaScript s by script)."""
        before_main, pids = main_thread_seconds(self.cdp), chromium_pids()
        before_chromium, before_server = cpu_seconds(pids), cpu_seconds(self.server.pids())
        if self.profile:
            self.cdp.send("Profiler.start")
        action()
        scripts = collections.Counter()
        if self.profile:
            scripts = self_time_by_script(self.cdp.send("Profiler.stop")["profile"])
        main_thread = collections.Counter(
            {k: v - before_main[k] for k, v in main_thread_seconds(self.cdp).items()})
        server = cpu_seconds(self.server.pids()) - before_server
        return cpu_seconds(pids) - before_chromium, server, main_thread, scripts


def start_training(page: Page, url: str, epochs: int) -> None:
    """The Train page, the sidebar's default model for `epochs`, Start; wait for epoch 2."""
    open_app(page, url, "train", "Train the network")
    field = page.get_by_test_id("stSidebar").get_by_label("Epochs", exact=True)
    field.fill(str(epochs))
    field.press("Enter")
    wait_until_idle(page)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(re.compile(r"Training: epoch 2/"))).to_be_visible(timeout=300_000)


def measure(strokes: int, profile: bool, epochs: int, watch_s: float):
    """Per part (and for watching a training, per second): Chromium CPU, server CPU,
    main-thread seconds, and script self-times."""
    chromium_cpu, server_cpu = collections.Counter(), collections.Counter()
    main_thread = {part: collections.Counter() for part in PARTS + (WATCHING,)}
    scripts = {part: collections.Counter() for part in PARTS + (WATCHING,)}

    def add(part: str, measured) -> None:
        chromium_cpu[part] += measured[0]
        server_cpu[part] += measured[1]
        main_thread[part] += measured[2]
        scripts[part] += measured[3]

    with chromium() as browser, Server() as server:
        print(describe(browser))
        server.wait_healthy()
        page = new_page(browser)
        quick_train(page, server.url)
        meter = Meter(page, server, profile)
        actions = {
            "Clear": lambda stroke: clear_canvas(page),
            "drawing the stroke": lambda stroke: draw_stroke(page, stroke),
            "after the mouse-up": lambda stroke: (
                expect(metric(page, "Prediction")).to_be_visible(),
                wait_until_idle(page), time.sleep(SETTLE_S)),
        }
        for number, shape in enumerate(itertools.islice(itertools.cycle(SHAPES), strokes)):
            for part in PARTS[1:] if number == 0 else PARTS:  # the first canvas is empty
                add(part, meter(lambda: actions[part](shape[0])))
        page.context.close()

        trainer = new_page(browser)
        start_training(trainer, server.url, epochs)
        add(WATCHING, Meter(trainer, server, profile)(lambda: time.sleep(watch_s)))
        trainer.context.close()
    counts = {part: strokes - 1 if part == "Clear" else strokes for part in PARTS}
    counts[WATCHING] = watch_s
    return counts, chromium_cpu, server_cpu, main_thread, scripts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=20)
    parser.add_argument("--profile", action="store_true",
                        help="also JavaScript self-time by script (inflates Chromium's CPU)")
    parser.add_argument("--epochs", type=int, default=20, help="of the watched training")
    parser.add_argument("--watch", type=float, default=20, help="seconds to watch it train")
    args = parser.parse_args()
    print(f"Machine: {machine()}")
    counts, chromium_cpu, server_cpu, main_thread, scripts = measure(
        args.strokes, args.profile, args.epochs, args.watch)

    print("\nCPU per part of a drawer's cycle, ms (mean over the strokes), and per second "
          "of watching a training (the server's includes the training itself)\n")
    print("| part | n | Chromium, all processes | server | page main thread: "
          + " | ".join(MAIN_THREAD.values()) + " |")
    print("|---|---|---|---|" + "---|" * len(MAIN_THREAD))
    for part in PARTS + (WATCHING,):
        n = counts[part]
        cells = [f"{main_thread[part][key] / n * 1000:.0f}" for key in MAIN_THREAD]
        print(f"| {part} | {n:g} | {chromium_cpu[part] / n * 1000:.0f} "
              f"| {server_cpu[part] / n * 1000:.0f} | " + " | ".join(cells) + " |")
    if args.profile:
        print("\nJavaScript self-time by script, ms per part (the 6 largest)\n")
        for part in PARTS + (WATCHING,):
            top = ", ".join(f"{name} {seconds / counts[part] * 1000:.0f}"
                            for name, seconds in scripts[part].most_common(6))
            print(f"- {part}: {top}")


if __name__ == "__main__":
    main()
