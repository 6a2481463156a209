"""The Inside page, used once from end to end, at each window size.

A visitor looks inside the dense model: a test image, then "My drawing" with nothing
drawn, another test image by its number, the first layer's units in each order and in
a larger number, the evidence by occlusion against another digit; then inside the
convnet, its filters and the feature maps of its second convolution. Each control's
effect is read from the figures themselves (Plotly's copy of what it drew).
"""

from __future__ import annotations

import re
import time

import numpy as np
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from .journey import assert_text_not_truncated, choose_option, end_journey, open_journey
from .test_browser import (
    RERUN_TIMEOUT_MS,
    metric,
    metric_value,
    open_app,
    softmax_argmax,
    wait_until_idle,
)
from .test_journey_data import figure_text_problems, main, mnist, plot_titled, set_main_number
from .test_journey_evaluate import pick_option

SECTIONS = ("1 · One digit", "2 · What the first layer looks for", "3 · Which units fire")
LARGEST, ACTIVE, FIRST = "Largest weights", "Most active for this input", "First units"
INPUT_ALT = "The 28×28 input: a test image"


def segmented_control(page: Page, label: str) -> Locator:
    return main(page).get_by_test_id("stButtonGroup").filter(
        has=page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True))


def choose_segment(page: Page, label: str, option: str) -> None:
    """Click one option of a segmented control; it shows as chosen."""
    button = segmented_control(page, label).get_by_role("radio", name=option, exact=True)
    button.scroll_into_view_if_needed()
    button.click()
    wait_until_idle(page)
    expect(button).to_have_attribute("aria-checked", "true")


def segmented_control_problems(page: Page, label: str) -> list[str]:
    """Options of a segmented control that leave its column or hide one another."""
    return segmented_control(page, label).evaluate(
        """(group, label) => {
            const column = (group.closest('[data-testid="stColumn"]') ?? group)
                .getBoundingClientRect();
            const options = [...group.querySelectorAll('button')]
                .map(button => [button.innerText.trim(), button.getBoundingClientRect()]);
            const problems = options
                .filter(([, r]) => r.left < column.left - 1 || r.right > column.right + 1)
                .map(([text]) => `${label}: "${text}" runs out of its column`);
            options.forEach(([a, r], i) => options.slice(i + 1).forEach(([b, s]) => {
                if (Math.min(r.right, s.right) - Math.max(r.left, s.left) > 2
                        && Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top) > 2) {
                    problems.push(`${label}: "${a}" and "${b}" overlap`);
                }
            }));
            return problems;
        }""",
        label,
    )


def set_main_select_slider(page: Page, label: str, option: str, max_steps: int = 8) -> None:
    """Move a select_slider of the page with the arrow keys until it shows `option`."""
    slider = main(page).get_by_test_id("stSlider").filter(
        has=page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True))
    thumb = slider.locator('input[type="range"]')
    thumb.focus()
    for _ in range(max_steps):
        shown = thumb.get_attribute("aria-valuetext")
        if shown == option:
            break
        page.keyboard.press("ArrowRight" if float(shown) < float(option) else "ArrowLeft")
    thumb.blur()
    wait_until_idle(page)
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text(option)


def weights_plot(page: Page, count: int, noun: str, shape: str) -> Locator:
    """The first layer's weights figure, once it shows `count` `noun`s of `shape`."""
    title = re.compile(rf": weights of {count} {noun}s \({shape} each\)$")
    plot = page.locator(".js-plotly-plot").filter(has=page.locator(".gtitle", has_text=title))
    expect(plot).to_have_count(1)
    return plot


def tile_labels(plot: Locator, expected: list[str] | None = None) -> list[str]:
    """The labels over a tiles figure's tiles ("unit 30", "filter 3"), in order;
    once they are `expected`, if given (what it shows, if never).

    Read again and again through the locator: a rerun may replace the figure's element.
    """
    read = "plot => (plot.layout?.annotations ?? []).map(a => a.text)"
    deadline = time.monotonic() + RERUN_TIMEOUT_MS / 1000
    while True:
        try:
            labels = plot.evaluate(read, timeout=5_000)
        except PlaywrightError:  # none, or two while the rerun swaps them
            labels = None
        if expected is None and labels is not None:
            return labels
        if labels == expected or time.monotonic() > deadline:
            return labels
        plot.page.wait_for_timeout(200)


def firing_order(page: Page) -> list[int]:
    """The hidden units from the most active down, read from the "Which units fire" grid."""
    plot = page.locator(".js-plotly-plot").filter(
        has=page.locator(".gtitle", has_text=re.compile(r"\(Dense\): \d+ units, \d+ firing")))
    cells = plot.evaluate(
        """plot => { const trace = plot._fullData[0];
            return [Array.from(trace.z, row => Array.from(row)),
                    Array.from(trace.customdata, row => Array.from(row))]; }""")
    values, units = (np.asarray(grid, dtype=float).ravel() for grid in cells)
    known = ~np.isnan(values)
    values, units = values[known], units[known].astype(int)
    return [int(unit) for unit in units[np.argsort(-values, kind="stable")]]


def expect_feature_maps(page: Page, layer: str, count: int) -> None:
    """One feature-map figure, of `layer`'s `count` filters (none left of another layer)."""
    expect(main(page).locator(".gtitle").filter(has_text="(Conv2D):")).to_have_text(
        [re.compile(rf"^{re.escape(layer)} \(Conv2D\): {count} feature maps of \d+×\d+$")])


def saliency_title(page: Page) -> Locator:
    return main(page).locator(".gtitle").filter(has_text=re.compile(r"^Why \d and not \d\?"))


def input_image(page: Page) -> Locator:
    return main(page).get_by_role("img", name=re.compile("^The 28×28 input"))


def test_a_visitor_looks_inside_a_dense_network_and_a_convnet(
        browser, app_url, app_log, dense_run, cnn_run, viewport):
    y_test = mnist().y_test
    journey = open_journey(browser, "inside", viewport, app_log)
    page = journey.page
    try:
        open_app(page, app_url, f"inside?run={dense_run}", "Inside the model")
        expect(main(page).get_by_text(re.compile(
            rf"^Dense \(classic\) of run {dense_run}, weights after epoch 1/1 "
            r"\(test accuracy \d+\.\d\d%\)\.$"))).to_be_visible()
        for heading in SECTIONS:
            expect(page.get_by_role("heading", name=heading)).to_be_visible()

        # A test image, the first: its number, label, prediction and the four figures.
        expect(segmented_control(page, "Input").get_by_role("radio", name="A test image")
               ).to_have_attribute("aria-checked", "true")
        expect(main(page).get_by_label("Test image number", exact=True)).to_have_value("0")
        expect(page.locator(".js-plotly-plot")).to_have_count(4)
        expect(input_image(page)).to_have_attribute("alt", INPUT_ALT)
        assert metric_value(page, "Label") == str(y_test[0])
        digit = metric_value(page, "Prediction")
        assert softmax_argmax(page) == int(digit), "the softmax's tallest bar is not the answer"
        expect(page.get_by_role("heading", name=f"4 · Why {digit}?")).to_be_visible()
        unreadable = figure_text_problems(page, "test image 0")
        for label in ("Input", "Which units", "Method"):
            unreadable += segmented_control_problems(page, label)
        try:
            assert_text_not_truncated(page, metric(page, "Probability"), "the probability")
        except AssertionError as error:
            unreadable.append(str(error))
        journey.shot("test-image-0")

        # My drawing, with nothing drawn: a sentence and a link to the Draw page.
        choose_segment(page, "Input", "My drawing")
        expect(main(page).get_by_text("Nothing drawn yet.", exact=True)).to_be_visible()
        draw_link = main(page).get_by_role("link", name="Draw a digit")
        expect(draw_link).to_have_attribute("href", re.compile(r"(^|/)draw(\?|$)"))
        expect(metric(page, "Prediction")).to_have_count(0)
        expect(page.get_by_role("heading", name=SECTIONS[1])).to_have_count(0)
        journey.shot("no-drawing")

        # Back to a test image, another one by its number: the input and label follow.
        choose_segment(page, "Input", "A test image")
        expect(metric(page, "Prediction")).to_be_visible()
        before = input_image(page).get_attribute("src")
        index = 1234
        label = int(y_test[index])
        assert label != int(y_test[0]), "pick an image whose label differs from #0's"
        set_main_number(page, "Test image number", index)
        expect(main(page).get_by_text(f"MNIST test image {index}, labelled {label}.")
               ).to_be_visible()
        expect(metric(page, "Label").get_by_test_id("stMetricValue")).to_have_text(str(label))
        expect(input_image(page)).not_to_have_attribute("src", before or "")
        digit = metric_value(page, "Prediction")
        assert softmax_argmax(page) == int(digit)
        expect(page.get_by_role("heading", name=f"4 · Why {digit}?")).to_be_visible()
        journey.shot(f"test-image-{index}")

        # Which units: the largest weights, the first units, the most active ones.
        plot = weights_plot(page, 16, "unit", "28×28")
        largest = tile_labels(plot)
        assert len(largest) == 16 and all(re.fullmatch(r"unit \d+", t) for t in largest)
        first = [f"unit {unit}" for unit in range(16)]
        assert largest != first, "the largest weights are the first units"
        choose_segment(page, "Which units", FIRST)
        assert tile_labels(plot, first) == first
        journey.shot("first-units")

        choose_segment(page, "Which units", ACTIVE)
        set_main_select_slider(page, "How many", "32")
        active = [f"unit {unit}" for unit in firing_order(page)[:32]]
        plot = weights_plot(page, 32, "unit", "28×28")
        assert tile_labels(plot, active) == active, "not the units that fire most"
        assert active[:16] not in (largest, first)
        journey.shot("most-active-32")

        # Why this digit: by occlusion, and against another digit.
        title = saliency_title(page)
        # A list: exactly one such title (a rerun shows the old figure until it ends).
        expect(title).to_have_text([re.compile(rf"^Why {digit} and not \d\? \(gradient × input\)$")])
        rival = int(re.search(r"and not (\d)", title.text_content()).group(1))
        choose_segment(page, "Method", "Occlusion")
        expect(title).to_have_text([f"Why {digit} and not {rival}? (occlusion)"])
        expect(main(page).get_by_text("Occlusion: ", exact=False)).to_be_visible()
        versus = next(d for d in range(10) if d not in (int(digit), rival))
        choose_option(page, main(page).get_by_test_id("stSelectbox").filter(
            has=page.get_by_test_id("stWidgetLabel").get_by_text("And not", exact=True)),
            str(versus))
        expect(title).to_have_text([f"Why {digit} and not {versus}? (occlusion)"])
        plot_titled(page, f"Why {digit} and not {versus}?").scroll_into_view_if_needed()
        panels = plot_titled(page, f"Why {digit} and not {versus}?").evaluate(
            "plot => plot.layout.annotations.map(a => a.text)")
        assert panels == [f"evidence for {digit}", f"evidence for {versus}",
                          f"{digit} rather than {versus}"], panels
        expect(main(page).get_by_text(
            f"Right: red pixels make the network prefer {digit}, blue ones {versus}.")
        ).to_be_visible()
        journey.shot("occlusion")

        # The convnet: 3×3 filters, and the feature maps of each convolution.
        open_app(page, app_url, f"inside?run={cnn_run}", "Inside the model")
        expect(main(page).get_by_text(re.compile(
            rf"^Convolutional \(CNN\) of run {cnn_run}, weights after epoch 1/1"))).to_be_visible()
        for heading in SECTIONS:
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
        expect(page.locator(".js-plotly-plot")).to_have_count(4)  # no hidden dense layer
        filters = tile_labels(weights_plot(page, 16, "filter", "3×3"))
        assert len(filters) == 16 and all(re.fullmatch(r"filter \d+", t) for t in filters)
        layers = main(page).get_by_test_id("stSelectbox").filter(
            has=page.get_by_test_id("stWidgetLabel").get_by_text("Convolution layer", exact=True))
        first_layer = layers.locator("input").input_value()
        expect_feature_maps(page, first_layer, 32)
        unreadable += figure_text_problems(page, "the convnet")
        journey.shot("convnet")

        second_layer = pick_option(page, layers, 1)
        assert second_layer != first_layer
        expect_feature_maps(page, second_layer, 64)
        journey.shot("convnet-second-layer")

        assert not unreadable, "hard to read:\n" + "\n".join(unreadable)
    finally:
        end_journey(journey)
