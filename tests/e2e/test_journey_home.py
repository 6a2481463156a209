"""The Home page, used once from end to end, at each window size; and what a new tab finds.

The visitor reads the three steps (their links in a row), looks at the sample digits
(labels apart, even on a phone), asks where the data comes from, shows other digits,
and follows each link. A brand-new tab on a server with a finished run opens that run,
ready to draw; a newcomer on a server without runs has no model yet.
"""

from __future__ import annotations

import os
import re
from itertools import combinations

from playwright.sync_api import Locator, Page, expect

from .conftest import ARTIFACTS, SHARED_MNIST, new_page
from .journey import Journey, end_journey, open_journey
from .test_browser import DRAW_PROMPT, go_to, open_app, sidebar, wait_until_idle

HOME = "MNIST Playground"
SAMPLE_TITLE = "24 training images, each under its label"
SAMPLE_DIGITS = 24
STEP_LINKS = {"Go to Data": "Explore the data", "Go to Train": "Train the network",
              "Go to Draw": "Draw a digit"}
PHONE = {"width": 390, "height": 844}
LATEST_CAPTION = "Your latest finished run, opened for you."
# The sample grid as Plotly drew it; its title without the markup of Streamlit's theme.
SAMPLE_PLOT = """[...document.querySelectorAll('.js-plotly-plot')].find(plot =>
    (plot._fullLayout?.title?.text ?? '').replace(/<[^>]*>/g, '') === '%s')""" % SAMPLE_TITLE


def sample_grid(page: Page) -> Locator:
    return page.get_by_test_id("stPlotlyChart").filter(has_text=SAMPLE_TITLE)


def sample_source(page: Page) -> str | None:
    """The grid's picture: one PNG of all the digits, as a data URL."""
    return page.evaluate(f"() => {SAMPLE_PLOT}?.data?.[0]?.source ?? null")


def assert_sample_grid_readable(page: Page) -> None:
    """The title is shown in full, and the 24 labels are drawn without touching each other."""
    grid = sample_grid(page)
    expect(grid).to_be_visible()
    grid.scroll_into_view_if_needed()
    title = grid.locator(".gtitle")
    expect(title).to_have_text(SAMPLE_TITLE)
    title_box, grid_box = title.bounding_box(), grid.bounding_box()
    assert title_box["x"] >= grid_box["x"] - 1 and (
        title_box["x"] + title_box["width"] <= grid_box["x"] + grid_box["width"] + 1
    ), f"the title runs out of its chart: {title_box} in {grid_box}"
    labels = page.evaluate(f"""() => [...{SAMPLE_PLOT}.querySelectorAll('.annotation')]
        .map(label => {{ const r = label.getBoundingClientRect();
                         return [label.textContent, r.left, r.top, r.right, r.bottom]; }})""")
    assert len(labels) == SAMPLE_DIGITS, labels
    assert all(re.fullmatch(r"\d", text) for text, *_ in labels), labels
    assert all(right > left and bottom > top for _, left, top, right, bottom in labels), labels
    touching = [(a[0], b[0], a[1:], b[1:]) for a, b in combinations(labels, 2)
                if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]]
    assert not touching, f"labels overlap (text, text, boxes): {touching}"


def shot_of_the_window(journey: Journey, state: str) -> None:
    """A screenshot of the window as it is, for a state that ends when the window is
    resized for a whole-page shot (a tooltip under the pointer)."""
    journey.page.wait_for_timeout(500)  # a tooltip fades in
    journey.states.append(state)
    folder = ARTIFACTS / "journeys"
    folder.mkdir(parents=True, exist_ok=True)
    journey.page.screenshot(path=folder / f"{journey.name}-{len(journey.states):02d}-{state}.png")


def data_path() -> str:
    """The MNIST file the session's server reads (conftest's default, unless set)."""
    return os.environ.get("MNIST_DATA", str(SHARED_MNIST))


def test_home_steps_samples_data_source_and_links(browser, app_url, app_log, viewport):
    journey = open_journey(browser, "home", viewport, app_log)
    page = journey.page
    try:
        open_app(page, app_url, "", HOME)
        assert_sample_grid_readable(page)

        # The three steps' links in a row, whatever the length of each card's text.
        boxes = [page.get_by_role("link", name=link).bounding_box() for link in STEP_LINKS]
        side_by_side = all(a["x"] + a["width"] < b["x"] for a, b in zip(boxes, boxes[1:]))
        if journey.width >= 1400:
            assert side_by_side, f"the step cards are not side by side: {boxes}"
        if side_by_side:
            tops = [box["y"] for box in boxes]
            assert max(tops) - min(tops) <= 2, f"the step links are not in a row: {tops}"
        journey.shot("home")

        # Where the data comes from: in words, and the file's path in the tooltip.
        source = sidebar(page).get_by_test_id("stCaptionContainer").filter(
            has_text="Data: MNIST (local file)")
        expect(source).to_be_visible()
        source.get_by_test_id("stTooltipHoverTarget").hover()
        tooltip = page.get_by_test_id("stTooltipContent")
        expect(tooltip).to_contain_text(data_path())
        shot_of_the_window(journey, "data-source-tooltip")
        page.mouse.move(journey.width // 2, 5)
        expect(tooltip).to_have_count(0)

        # Other digits: a new picture, still titled, its labels still apart.
        before = sample_source(page)
        assert before and before.startswith("data:image/png;base64,"), (before or "")[:40]
        page.get_by_role("button", name="Show other digits").click()
        page.wait_for_function(f"before => {{ const source = {SAMPLE_PLOT}?.data?.[0]?.source;"
                               " return source && source !== before; }", arg=before)
        wait_until_idle(page)
        assert_sample_grid_readable(page)
        journey.shot("other-digits")

        # Each step's link opens its page; so does "Explore the data".
        for link, heading in STEP_LINKS.items():
            page.get_by_role("link", name=link).click()
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
            wait_until_idle(page)
            go_to(page, "Home", HOME)
        page.get_by_role("link", name="Explore the data").click()
        expect(page.get_by_role("heading", name="Explore the data")).to_be_visible()
        wait_until_idle(page)
        expect(page).to_have_url(re.compile(r"/data(\?|$)"))
        journey.shot("data-page")
    finally:
        end_journey(journey)


def test_the_sample_labels_stay_apart_on_a_phone(browser, app_url, app_log):
    """At 390×844 the grid's labels still each sit over their own digit."""
    start = app_log.stat().st_size if app_log.exists() else 0
    journey = Journey(new_page(browser, PHONE), "home-390x844", "390x844", app_log, start)
    page = journey.page
    try:
        open_app(page, app_url, "", HOME)
        assert_sample_grid_readable(page)
        journey.shot("phone")
    finally:
        end_journey(journey)


def test_a_new_tab_opens_the_latest_finished_run(browser, app_url, app_log, dense_run):
    """A brand-new tab on the bare address gets the newest finished run, ready to draw."""
    from mnist_core.store import RunStore

    finished = [run.run_id for run in RunStore(recover=False).list_runs()
                if run.status == "finished"]
    assert dense_run in finished, finished
    latest = finished[0]  # newest first: dense_run, or a run another test finished since
    journey = open_journey(browser, "new-tab", "1400x1000", app_log)
    page = journey.page
    try:
        open_app(page, app_url, "", HOME)
        in_link = re.compile(rf"[?&]run={re.escape(latest)}(&|$)")
        expect(page).to_have_url(in_link)
        expect(sidebar(page).get_by_test_id("stAlert")).to_contain_text(
            f"Model ready — run {latest}")
        expect(sidebar(page).get_by_text(LATEST_CAPTION)).to_be_visible()
        journey.shot("latest-run-opened")

        go_to(page, "Draw", "Draw a digit")
        expect(page.get_by_text(DRAW_PROMPT)).to_be_visible()
        expect(page.get_by_text("No trained model yet")).to_have_count(0)
        expect(page).to_have_url(in_link)
        journey.shot("ready-to-draw")
    finally:
        end_journey(journey)
