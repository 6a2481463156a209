"""Cold start: from launching `streamlit run app.py` to the Home page ready in Chromium.

For each of `--starts` fresh servers (headless, free port, MNIST_DATA set, an empty
runs directory), times from the launch of the process to: /_stcore/health answering,
then the Home page ready in a new browser context ("MNIST Playground" heading visible
and the script state notRunning; the browser itself is launched beforehand and not
counted), then the Draw page ready in another fresh context (heading and canvas
visible, script run over). Also reports whether the server process has loaded
TensorFlow by then (its native library in /proc/PID/maps): the app imports it lazily,
so Home and a model-less Draw page should not pay for it. Target: median Home ready
≤ 4 s on 2 cores.

    MNIST_DATA=../shared/data/mnist.npz .venv/bin/python bench/cold_start.py [--starts 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from browser import Server, canvas, chromium, describe, expect, machine, new_page, open_app

TARGET_S = 4.0


def one_start(browser) -> dict:
    with Server() as server:
        healthy = server.wait_healthy()
        home = new_page(browser)
        open_app(home, server.url, "", "MNIST Playground")
        home_ready = server.since_launch()
        tf_after_home = server.has_tensorflow()

        draw = new_page(browser)
        started = time.perf_counter()
        open_app(draw, server.url, "draw", "Draw a digit")
        expect(canvas(draw)).to_be_visible()
        draw_ready = time.perf_counter() - started
        tf_after_draw = server.has_tensorflow()
        rss = server.rss_mb()
        for page in (home, draw):
            page.context.close()
    return dict(healthy=healthy, home=home_ready, draw=draw_ready, tf_home=tf_after_home,
                tf_draw=tf_after_draw, rss=rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    print(f"Machine: {machine()}")

    rows = []
    with chromium() as browser:
        print(describe(browser) + "\n")
        for _ in range(args.starts):
            rows.append(one_start(browser))

    yes = {True: "yes", False: "no"}
    print("| start | server healthy (s) | Home ready (s) | then Draw ready, fresh context (s) "
          "| TensorFlow loaded after Home | after Draw | server RSS (MB) |")
    print("|---|---|---|---|---|---|---|")
    for number, row in enumerate(rows, start=1):
        print(f"| {number} | {row['healthy']:.2f} | {row['home']:.2f} | {row['draw']:.2f} "
              f"| {yes[row['tf_home']]} | {yes[row['tf_draw']]} | {row['rss']:.0f} |")
    median = {key: statistics.median(row[key] for row in rows) for key in ("healthy", "home",
                                                                           "draw", "rss")}
    print(f"| **median** | {median['healthy']:.2f} | **{median['home']:.2f}** "
          f"| {median['draw']:.2f} | | | {median['rss']:.0f} |")
    verdict = "met" if median["home"] <= TARGET_S else "NOT met"
    print(f"\nTarget: Home ready ≤ {TARGET_S:.0f} s from launch (median): {verdict}.")


if __name__ == "__main__":
    main()
