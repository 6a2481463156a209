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

    MNIST_DATA=../shared/data/mnist.npz .venv/bin/python bench/browser_cpu.py
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
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
    quick_train,
    seven,
    wait_until_idle,
    zero,
)
from playwright.sync_api import expect

PARTS = ("Clear", "drawing the stroke", "after the mouse-up")
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


def measure(strokes: int, profile: bool):
    """Per part: Chromium CPU, server CPU, main-thread seconds, and script self-times."""
    chromium_cpu, server_cpu = collections.Counter(), collections.Counter()
    main_thread = {part: collections.Counter() for part in PARTS}
    scripts = {part: collections.Counter() for part in PARTS}
    with chromium() as browser, Server() as server:
        print(describe(browser))
        server.wait_healthy()
        page = new_page(browser)
        quick_train(page, server.url)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        if profile:
            cdp.send("Profiler.enable")
        actions = {
            "Clear": lambda stroke: clear_canvas(page),
            "drawing the stroke": lambda stroke: draw_stroke(page, stroke),
            "after the mouse-up": lambda stroke: (
                expect(metric(page, "Prediction")).to_be_visible(),
                wait_until_idle(page), time.sleep(SETTLE_S)),
        }
        for number, shape in enumerate(itertools.islice(itertools.cycle(SHAPES), strokes)):
            for part in PARTS[1:] if number == 0 else PARTS:  # the first canvas is empty
                before_main, pids = main_thread_seconds(cdp), chromium_pids()
                before_chromium, before_server = cpu_seconds(pids), cpu_seconds(server.pids())
                if profile:
                    cdp.send("Profiler.start")
                actions[part](shape[0])
                if profile:
                    scripts[part] += self_time_by_script(cdp.send("Profiler.stop")["profile"])
                chromium_cpu[part] += cpu_seconds(pids) - before_chromium
                server_cpu[part] += cpu_seconds(server.pids()) - before_server
                main_thread[part] += collections.Counter(
                    {k: v - before_main[k] for k, v in main_thread_seconds(cdp).items()})
        page.context.close()
    counts = {part: strokes - 1 if part == "Clear" else strokes for part in PARTS}
    return counts, chromium_cpu, server_cpu, main_thread, scripts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=20)
    parser.add_argument("--profile", action="store_true",
                        help="also JavaScript self-time by script (inflates Chromium's CPU)")
    args = parser.parse_args()
    print(f"Machine: {machine()}")
    counts, chromium_cpu, server_cpu, main_thread, scripts = measure(args.strokes, args.profile)

    print("\nCPU per part of a drawer's cycle, ms (mean over the strokes)\n")
    print("| part | n | Chromium, all processes | server | page main thread: "
          + " | ".join(MAIN_THREAD.values()) + " |")
    print("|---|---|---|---|" + "---|" * len(MAIN_THREAD))
    for part in PARTS:
        n = counts[part]
        cells = [f"{main_thread[part][key] / n * 1000:.0f}" for key in MAIN_THREAD]
        print(f"| {part} | {n} | {chromium_cpu[part] / n * 1000:.0f} "
              f"| {server_cpu[part] / n * 1000:.0f} | " + " | ".join(cells) + " |")
    if args.profile:
        print("\nJavaScript self-time by script, ms per part (the 6 largest)\n")
        for part in PARTS:
            top = ", ".join(f"{name} {seconds / counts[part] * 1000:.0f}"
                            for name, seconds in scripts[part].most_common(6))
            print(f"- {part}: {top}")


if __name__ == "__main__":
    main()
