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
SAMPLE_TITLE = "24 training images, each above its label:"
SAMPLE_DIGITS = 24
STEP_LINKS = {"Go to Data": "Explore the data", "Go to Train": "Train the network",
              "Go to Draw": "Draw a digit"}
PHONE = {"width": 390, "height": 844}
LATEST_CAPTION = "Your latest finished run, opened for you."


def sample_images(page: Page) -> Locator:
    """The 24 sample digits: pictures with alt text "A handwritten 7"."""
    return page.get_by_test_id("stMain").get_by_role("img", name=re.compile(r"^A handwritten \d$"))


def sample_source(page: Page) -> str:
    """The first sample's picture, as the browser fetches it."""
    return sample_images(page).first.get_attribute("src")


def assert_sample_grid_readable(page: Page) -> None:
    """The heading is shown, the 24 digits each above its own label, none overlapping."""
    expect(page.get_by_text(SAMPLE_TITLE)).to_be_visible()
    expect(sample_images(page)).to_have_count(SAMPLE_DIGITS)
    sample_images(page).first.scroll_into_view_if_needed()
    items = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMain"] img')]
        .filter(img => /^A handwritten \\d$/.test(img.alt))
        .map(img => { const figure = img.closest('[data-testid="stImageContainer"]') ?? img.parentElement;
                      const caption = figure.querySelector('[data-testid="stImageCaption"]');
                      const r = img.getBoundingClientRect(), c = caption.getBoundingClientRect();
                      return [img.alt.slice(-1), caption.textContent.trim(),
                              [r.left, r.top, r.right, r.bottom], [c.left, c.top, c.right, c.bottom]]; })""")
    assert len(items) == SAMPLE_DIGITS, items
    for digit, label, image, caption in items:
        assert label == digit, f"the label {label!r} is under a {digit}"
        assert caption[1] >= image[3] - 1 and caption[0] < image[2] and image[0] < caption[2], (
            f"the label {label} is not under its digit: {image} {caption}")
    captions = [caption for *_, caption in items]
    touching = [(a, b) for a, b in combinations(captions, 2)
                if a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1]
    assert not touching, f"labels overlap: {touching}"


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

        # Other digits: new pictures, still each above its label.
        before = sample_source(page)
        page.get_by_role("button", name="Show other digits").click()
        expect(sample_images(page).first).not_to_have_attribute("src", before)
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
    """At 390×844 the samples wrap, each label still under its own digit."""
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
    from mnist_core.runs.store import RunStore

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
