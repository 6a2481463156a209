"""The Data page, used once from end to end, at each window size.

A visitor browses the training set, switches to the test set, keeps only the 4s, turns
to page 2, picks one test image by its number and opens it on the Inside page. Every
step is checked against the dataset itself, loaded here as the app loads it; the
figures are read from the DOM (Plotly's own copy of what it drew).
"""

from __future__ import annotations

import functools
import re

import numpy as np
from playwright.sync_api import Locator, Page, expect

from .journey import assert_text_not_truncated, choose_option, end_journey, open_journey
from .test_browser import RERUN_TIMEOUT_MS, metric_value, open_app, table_rows, wait_until_idle

PAGE_SIZE = 48  # images per page of the browse grid
SETS = {"training": "Training (60,000)", "test": "Test (10,000)"}
CHARTS_ON_PAGE = 7  # browse, per digit, pixel values, means, 28×28, flattened, scaled
MAX_LOG_TICKS = 6


@functools.cache
def mnist():
    from mnist_core.data import load_mnist

    return load_mnist()


def main(page: Page) -> Locator:
    return page.get_by_test_id("stMain")


def browse_caption(page: Page) -> Locator:
    return main(page).get_by_test_id("stCaptionContainer").filter(has_text="Each is titled")


# The browse grid is the figure whose titles are all "#index: label".
BROWSE_TITLES_JS = """() => {
    for (const plot of document.querySelectorAll('.js-plotly-plot')) {
        const texts = (plot.layout?.annotations ?? []).map(a => a.text);
        if (texts.length && texts.every(t => /^#\\d+: \\d$/.test(t))) return texts;
    }
    return null;
}"""


def browse_titles(page: Page, expected: list[str]) -> list[str]:
    """The browse grid's image titles once they are `expected` (what it shows, if never)."""
    try:
        page.wait_for_function(f"expected => JSON.stringify(({BROWSE_TITLES_JS})()) === "
                               "JSON.stringify(expected)", arg=expected, timeout=RERUN_TIMEOUT_MS)
    except Exception:
        pass  # the assertion below says what the grid shows instead
    return page.evaluate(BROWSE_TITLES_JS)


def expected_titles(set_name: str, indices: np.ndarray) -> list[str]:
    labels = getattr(mnist(), f"y_{set_name}")
    return [f"#{index}: {labels[index]}" for index in indices]


def plot_titled(page: Page, start: str) -> Locator:
    """The Plotly figure whose title starts with `start`."""
    return page.locator(".js-plotly-plot").filter(
        has=page.locator(".gtitle", has_text=re.compile("^" + re.escape(start))))


def tick_labels(plot: Locator, axis: str) -> list[str]:
    """The tick labels drawn on an axis ("x" or "y"), as the eye reads them."""
    return [text.strip() for text in plot.locator(f"g.{axis}tick text").all_text_contents()]


# Texts of a Plotly figure (titles, axis titles, tick and cell labels) that stick out of
# the figure's own box, where the page cuts them off, or run into each other.
FIGURE_TEXT_PROBLEMS_JS = """plot => {
    const box = plot.getBoundingClientRect();
    const texts = [...plot.querySelectorAll('text')]
        .filter(text => text.textContent.trim())
        .map(text => ({text: text.textContent.trim(), r: text.getBoundingClientRect()}))
        .filter(({r}) => r.width > 0 && r.height > 0);
    const problems = texts
        .filter(({r}) => r.left < box.left - 1 || r.right > box.right + 1)
        .map(({text}) => `"${text}" is cut off at the figure's edge`);
    for (let i = 0; i < texts.length; i++) {
        for (let j = i + 1; j < texts.length; j++) {
            const a = texts[i].r, b = texts[j].r;
            if (Math.min(a.right, b.right) - Math.max(a.left, b.left) > 2
                    && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 2) {
                problems.push(`"${texts[i].text}" runs into "${texts[j].text}"`);
            }
        }
    }
    return problems;
}"""
SHOWN_PROBLEMS = 4  # per figure: the first few say enough


def figure_text_problems(page: Page, state: str) -> list[str]:
    """Texts of the page's figures that a person cannot read whole, in `state`."""
    found = []
    for plot in page.locator(".js-plotly-plot").all():
        problems = plot.evaluate(FIGURE_TEXT_PROBLEMS_JS)
        if problems:
            title = plot.locator(".gtitle").all_text_contents()
            first = plot.evaluate("plot => plot.layout.annotations?.[0]?.text ?? ''")
            where = (f"{state}, figure {title[0]!r}" if title
                     else f"{state}, the figure of {first!r}…")
            more = len(problems) - SHOWN_PROBLEMS
            found.append(f"{where}: {'; '.join(problems[:SHOWN_PROBLEMS])}"
                         + (f" (and {more} more)" if more > 0 else ""))
    return found


def table_is_cut(table: Locator) -> bool:
    """An st.dataframe too narrow for its columns: some hide behind a sideways scroll."""
    table.scroll_into_view_if_needed()
    scroller = table.locator(".dvn-scroller")
    scroller.wait_for()
    return scroller.evaluate("el => el.scrollWidth > el.clientWidth + 1")


def is_power_of_ten(tick: str) -> bool:
    """ "1", "10", "1,000", "10,000,000": a 1, then only zeros (and thousands separators)."""
    return re.fullmatch(r"1(0{0,2})(,000)*", tick) is not None


def set_main_number(page: Page, label: str, value: int) -> None:
    """Type into a number input of the page and commit with Enter, as a person would."""
    field = main(page).get_by_label(label, exact=True)
    field.scroll_into_view_if_needed()
    field.fill(str(value))
    field.press("Enter")
    expect(field).to_have_value(str(value))
    wait_until_idle(page)


def test_a_visitor_browses_the_sets_and_opens_one_test_image_inside(
        browser, app_url, app_log, dense_run, viewport):
    data = mnist()
    journey = open_journey(browser, "data", viewport, app_log)
    page = journey.page
    try:
        open_app(page, app_url, f"data?run={dense_run}", "Explore the data")
        expect(page.locator(".js-plotly-plot")).to_have_count(CHARTS_ON_PAGE)

        # The training set first: 60,000 images, 48 to a page, in dataset order.
        expect(browse_caption(page)).to_contain_text(
            "60,000 images in the training set: page 1 of 1250, images #0–#47.")
        titles = expected_titles("train", np.arange(PAGE_SIZE))
        assert browse_titles(page, titles) == titles
        expect(plot_titled(page, "Images per digit (training set)")).to_have_count(1)

        # Readable figures: the log axis marks powers of ten only, the image no scale.
        histogram = plot_titled(page, "Pixel values (training set, log scale)")
        ticks = tick_labels(histogram, "y")
        assert 2 <= len(ticks) <= MAX_LOG_TICKS, f"the log axis's tick labels: {ticks}"
        assert all(is_power_of_ten(tick) for tick in ticks), (
            f"tick labels that are not powers of ten: {ticks}")
        image = plot_titled(page, "#0, label 5")
        expect(image).to_have_count(1)
        assert tick_labels(image, "x") == [] and tick_labels(image, "y") == [], (
            "the 28×28 image has tick labels")
        unreadable = figure_text_problems(page, "training set")
        one_hot = main(page).get_by_test_id("stDataFrame")
        expect(one_hot.locator("thead th").first).to_have_text("0")
        if table_is_cut(one_hot):  # its accessible copy holds the columns in sight only
            unreadable.append("the one-hot label's table hides some of its ten columns")
        else:
            expect(one_hot.locator("thead th")).to_have_text([str(d) for d in range(10)])
            assert table_rows(one_hot) == [{str(d): str(int(d == 5)) for d in range(10)}]
        journey.shot("training-set")

        # The test set: the counts, the grid and the image number follow.
        main(page).get_by_text(SETS["test"], exact=True).click()
        expect(browse_caption(page)).to_contain_text(
            "10,000 images in the test set: page 1 of 209, images #0–#47.")
        titles = expected_titles("test", np.arange(PAGE_SIZE))
        assert browse_titles(page, titles) == titles
        expect(plot_titled(page, "Images per digit (test set)")).to_have_count(1)
        expect(plot_titled(page, "Pixel values (test set, log scale)")).to_have_count(1)
        expect(main(page).get_by_label("Image number in the test set", exact=True)).to_be_visible()
        journey.shot("test-set")

        # Only the 4s: every title ends with ": 4", in dataset order.
        fours = np.flatnonzero(data.y_test == 4)
        choose_option(page, main(page).get_by_test_id("stSelectbox").filter(has_text="Digit"),
                      "only 4s")
        pages = -(-len(fours) // PAGE_SIZE)
        expect(browse_caption(page)).to_contain_text(
            f"{len(fours):,} images of the digit 4 in the test set: page 1 of {pages}, "
            f"images #{fours[0]}–#{fours[PAGE_SIZE - 1]}.")
        titles = browse_titles(page, expected_titles("test", fours[:PAGE_SIZE]))
        assert len(titles) == PAGE_SIZE and all(t.endswith(": 4") for t in titles), titles
        journey.shot("only-4s")

        # Page 2: the next 48 fours.
        set_main_number(page, "Page", 2)
        expect(browse_caption(page)).to_contain_text(
            f"page 2 of {pages}, images #{fours[PAGE_SIZE]}–#{fours[2 * PAGE_SIZE - 1]}.")
        second = browse_titles(page, expected_titles("test", fours[PAGE_SIZE:2 * PAGE_SIZE]))
        assert second == expected_titles("test", fours[PAGE_SIZE:2 * PAGE_SIZE])
        assert not set(second) & set(titles), "page 2 shows images of page 1"
        journey.shot("page-2")

        # One test image by its number: its label, as the dataset has it.
        index = 1234
        label = int(data.y_test[index])
        assert label != int(data.y_test[0]), "pick an image whose label differs from #0's"
        set_main_number(page, "Image number in the test set", index)
        expect(plot_titled(page, f"#{index}, label {label}")).to_have_count(1)
        assert metric_value(page, "Label") == str(label)
        expect(main(page).get_by_text(f"for the digit {label}: a 1 in position {label}")
               ).to_be_visible()
        journey.shot(f"image-{index}")

        # Look inside the model with it: the Inside page opens on that test image.
        button = page.get_by_role("button", name="Look inside the model with this image")
        button.scroll_into_view_if_needed()
        assert_text_not_truncated(page, button, "the 'Look inside' button")
        button.click()
        expect(page.get_by_role("heading", name="Inside the model", exact=True)).to_be_visible(
            timeout=RERUN_TIMEOUT_MS)
        wait_until_idle(page)
        expect(page).to_have_url(re.compile(r"/inside\?(.*&)?run=" + re.escape(dense_run)))
        expect(main(page).get_by_label("Test image number", exact=True)).to_have_value(str(index))
        expect(main(page).get_by_text(f"MNIST test image {index}, labelled {label}.")
               ).to_be_visible()
        assert metric_value(page, "Label") == str(label)
        journey.shot("inside-opened")

        assert not unreadable, "hard to read:\n" + "\n".join(unreadable)
    finally:
        end_journey(journey)
