"""The Evaluate page, used once from end to end, at each window size.

A visitor reads the dense model's scores, clicks a cell of the confusion matrix, picks
another one with the two boxes beside it, opens one of the cell's images and one of the
most confident mistakes on the Inside page, reads the per-digit table, and finally
looks at a convnet's evaluation. What they see is checked against itself: the matrix's
counts (read from the figure) against the metrics, the table and the gallery captions.
"""

from __future__ import annotations

import re

import numpy as np
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from mnist_core.wording import a_digit

from .journey import choose_option, end_journey, open_journey
from .test_browser import (
    RERUN_TIMEOUT_MS,
    TRAINING_TIMEOUT_MS,
    configure_training,
    go_to,
    metric,
    metric_value,
    open_app,
    percent,
    start_training,
    table_rows,
    wait_until_idle,
)
from .test_journey_data import figure_text_problems, main, mnist, table_is_cut

TEST_IMAGES = 10_000
CELL_IMAGES_SHOWN = 12
TABLE_HEADERS = ["Digit", "Test images", "Read as this digit", "Precision", "Recall", "F1"]
WIDE_MATRIX_PX = 500  # the confusion figure's width in a 1400 px window
CELL_PX = 40  # each cell of the matrix at 1400 px: a target as large as a fingertip


def model_caption(page: Page) -> Locator:
    """The caption that names the model evaluated: its run and epoch."""
    return page.get_by_test_id("stCaptionContainer").filter(has_text="weights after epoch")


def confusion_plot(page: Page) -> Locator:
    """The matrix, once the page has settled: while a page switch or a rerun settles,
    the last copy of it can linger for a moment beside the new one."""
    plot = page.locator(".st-key-evaluate_chart .js-plotly-plot").filter(
        has=page.locator(".gtitle", has_text="Confusion matrix"))
    expect(plot).to_have_count(1)
    return plot


def confusion_counts(page: Page) -> np.ndarray:
    """The counts written in the matrix's cells: rows true digits, columns readings."""
    cells = confusion_plot(page).evaluate(
        "plot => plot.layout.annotations.map(a => [a.y, a.x, a.text])")
    counts = np.full((10, 10), -1)
    for true_digit, read_as, text in cells:
        counts[int(true_digit), int(read_as)] = int(text)
    assert (counts >= 0).all(), f"cells without a count: {np.argwhere(counts < 0).tolist()}"
    return counts


def chosen_cell(page: Page) -> tuple[int, int]:
    """(true digit, read as) of the cell the matrix outlines."""
    shape = confusion_plot(page).evaluate("plot => plot.layout.shapes[0]")
    return round(shape["y0"] + 0.5), round(shape["x0"] + 0.5)


def click_cell(page: Page, true_digit: int, read_as: int) -> None:
    """Click the middle of a cell, as a person does: its place from Plotly's axes."""
    plot = confusion_plot(page)
    plot.scroll_into_view_if_needed()
    x, y = plot.evaluate(
        """(plot, [row, column]) => {
            const box = plot.getBoundingClientRect(), layout = plot._fullLayout;
            return [box.left + layout.xaxis._offset + layout.xaxis.l2p(column),
                    box.top + layout.yaxis._offset + layout.yaxis.l2p(row)];
        }""",
        [true_digit, read_as],
    )
    page.mouse.move(x - 5, y - 5)
    page.mouse.move(x, y, steps=3)
    page.mouse.click(x, y)
    wait_until_idle(page)


def cell_box(page: Page, label: str) -> Locator:
    """The "True digit" or "Read as" selectbox beside the matrix."""
    return main(page).get_by_test_id("stSelectbox").filter(
        has=page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True))


def cell_caption(page: Page) -> Locator:
    return main(page).get_by_test_id("stMarkdownContainer").filter(has_text="test image(s) of a")


def expected_caption(count: int, true_digit: int, read_as: int) -> str:
    verdict = "read right" if true_digit == read_as else f"read as {a_digit(read_as)}"
    more = (f", most confident first; the first {CELL_IMAGES_SHOWN} shown:"
            if count > CELL_IMAGES_SHOWN else ":")
    return f"{count:,} test image(s) of {a_digit(true_digit)} {verdict}{more}"


def assert_cell_shown(page: Page, counts: np.ndarray, true_digit: int, read_as: int) -> None:
    """The boxes, the outline and the caption all name the cell, with its count."""
    expect(cell_box(page, "True digit").locator("input")).to_have_value(str(true_digit))
    expect(cell_box(page, "Read as").locator("input")).to_have_value(str(read_as))
    expect(cell_caption(page)).to_have_text(
        expected_caption(int(counts[true_digit, read_as]), true_digit, read_as))
    page.wait_for_function(
        """([row, column]) => { const plot = [...document.querySelectorAll('.js-plotly-plot')]
            .find(p => (p.layout?.title?.text ?? '').includes('Confusion matrix'));
            const shape = plot?.layout?.shapes?.[0];
            return shape && shape.x0 === column - 0.5 && shape.y0 === row - 0.5; }""",
        arg=[true_digit, read_as], timeout=RERUN_TIMEOUT_MS)
    assert chosen_cell(page) == (true_digit, read_as)


def gallery_titles(page: Page, pattern: str) -> list[str]:
    """The image titles of the gallery whose titles all match `pattern` (a JS regex)."""
    return page.evaluate(
        """pattern => { const title = new RegExp(pattern);
            for (const plot of document.querySelectorAll('.js-plotly-plot')) {
                const texts = (plot.layout?.annotations ?? []).map(a => a.text);
                if (texts.length && texts.every(t => title.test(t))) return texts;
            }
            return []; }""",
        pattern,
    )


def image_box(page: Page, key: str) -> Locator:
    """The "Test image" selectbox under the cell's images or under the mistakes."""
    return page.locator(f".st-key-{key}").get_by_test_id("stSelectbox")


def pick_option(page: Page, select: Locator, position: int) -> str:
    """Open an st.selectbox, click its option at `position`; the option's text."""
    field = select.locator("input")
    field.scroll_into_view_if_needed()
    field.click()
    listbox = page.get_by_role("listbox")
    try:
        listbox.wait_for(timeout=3_000)
    except PlaywrightTimeoutError:  # a click that landed while the page was settling
        field.press("ArrowDown")
    option = listbox.get_by_role("option").nth(position)
    text = option.inner_text().strip()
    option.click()
    wait_until_idle(page)
    expect(field).to_have_value(text)
    return text


def open_inside(page: Page, key: str) -> None:
    """Press the "Look inside the model" button beside the "Test image" box `key`."""
    page.locator(f".st-key-{key}_inside").get_by_role("button").click()
    expect(page.get_by_role("heading", name="Inside the model", exact=True)).to_be_visible(
        timeout=RERUN_TIMEOUT_MS)
    wait_until_idle(page)


def assert_inside_shows(page: Page, run: str, index: int, label: int, read: int) -> None:
    """The Inside page shows test image `index`, its label and the model's reading."""
    expect(page).to_have_url(re.compile(r"/inside\?(.*&)?run=" + re.escape(run)))
    expect(main(page).get_by_label("Test image number", exact=True)).to_have_value(str(index))
    expect(main(page).get_by_text(f"MNIST test image {index}, labelled {label}.")).to_be_visible()
    assert metric_value(page, "Label") == str(label)
    assert metric_value(page, "Prediction") == str(read), "the Inside page reads it otherwise"


def test_a_visitor_reads_the_scores_and_opens_mistakes_inside(
        browser, app_url, app_log, dense_run, cnn_run, viewport):
    y_test = mnist().y_test
    journey = open_journey(browser, "evaluate", viewport, app_log)
    page = journey.page
    try:
        open_app(page, app_url, f"evaluate?run={dense_run}", "Evaluate the model")
        expect(main(page).get_by_text(f"Model: run {dense_run}, weights after epoch 1/1 · "
                                      "Dense (classic).")).to_be_visible()

        # The scores, formatted, and consistent with the matrix.
        expect(metric(page, "Test accuracy")).to_be_visible()
        expect(confusion_plot(page)).to_be_visible()
        counts = confusion_counts(page)
        assert (counts.sum(axis=1) == np.bincount(y_test, minlength=10)).all(), counts
        mistakes = int(counts.sum() - np.trace(counts))
        accuracy = metric_value(page, "Test accuracy")
        assert re.fullmatch(r"\d{1,3}\.\d{2}%", accuracy), accuracy
        assert accuracy == f"{1 - mistakes / TEST_IMAGES:.2%}", (accuracy, mistakes)
        assert re.fullmatch(r"\d\.\d{4}", metric_value(page, "Test loss"))
        assert metric_value(page, f"Mistakes (of {TEST_IMAGES:,})") == f"{mistakes:,}"
        macro_f1 = metric_value(page, "Macro F1")
        assert re.fullmatch(r"\d{1,3}\.\d{2}%", macro_f1), macro_f1

        # A large matrix, whose texts all show; it opens on the most frequent mistake.
        width = confusion_plot(page).bounding_box()["width"]
        cell = confusion_plot(page).evaluate("plot => plot._fullLayout.xaxis._length / 10")
        if journey.width >= 1400:
            assert width >= WIDE_MATRIX_PX and cell >= CELL_PX, (
                f"the confusion matrix is {width:.0f} px wide, its cells {cell:.0f} px")
        off_diagonal = np.where(np.eye(10, dtype=bool), -1, counts)
        ranked = [divmod(int(i), 10) for i in np.argsort(-off_diagonal, axis=None, kind="stable")]
        assert_cell_shown(page, counts, *ranked[0])
        unreadable = figure_text_problems(page, "scores")
        journey.shot("scores")

        # A click on another cell: the boxes, the outline and the caption follow.
        clicked = ranked[1]
        click_cell(page, *clicked)
        assert_cell_shown(page, counts, *clicked)
        journey.shot("cell-clicked")

        # The two boxes choose a cell too.
        true_digit, read_as = ranked[2]
        choose_option(page, cell_box(page, "True digit"), str(true_digit))
        choose_option(page, cell_box(page, "Read as"), str(read_as))
        assert_cell_shown(page, counts, true_digit, read_as)
        titles = gallery_titles(page, r"^#\d+ · p\(\d\)=")
        assert len(titles) == min(CELL_IMAGES_SHOWN, int(counts[true_digit, read_as])), titles
        assert all(re.fullmatch(rf"#\d+ · p\({read_as}\)=[01]\.\d\d", t) for t in titles), titles
        unreadable += figure_text_problems(page, "a cell chosen")
        journey.shot("cell-chosen")

        # Look inside the model with the cell's second image.
        second = pick_option(page, image_box(page, "cell_image"), 1)
        assert second == titles[1], (second, titles)
        index = int(re.match(r"#(\d+)", second).group(1))
        assert y_test[index] == true_digit
        open_inside(page, "cell_image")
        assert_inside_shows(page, dense_run, index, true_digit, read_as)
        journey.shot("cell-image-inside")

        # The per-digit table, with human headers; then a confident mistake inside.
        go_to(page, "Evaluate", "Evaluate the model")
        table = main(page).get_by_test_id("stDataFrame")
        table.scroll_into_view_if_needed()
        expect(table.locator("thead th")).to_have_text(TABLE_HEADERS)
        assert not table_is_cut(table), "the per-digit table needs a sideways scroll"
        rows = table_rows(table)
        assert [row["Digit"] for row in rows] == [*map(str, range(10)), "average"], rows
        assert [int(row["Test images"]) for row in rows[:10]] == list(counts.sum(axis=1))
        assert [int(row["Read as this digit"]) for row in rows[:10]] == list(counts.sum(axis=0))
        # The metric rounds to 0.01%, the table's copy to four decimals: one step apart at most.
        assert abs(percent(macro_f1) - float(rows[-1]["F1"])) <= 0.00011, (macro_f1, rows[-1])
        mistake_titles = gallery_titles(page, r"^\d → \d \(")
        assert len(mistake_titles) == 24, mistake_titles
        journey.shot("table-and-mistakes")
        third = pick_option(page, image_box(page, "mistake_image"), 2)
        match = re.fullmatch(r"#(\d+): (\d) → (\d) \(\d+(\.\d)?%\)", third)
        assert match and third.endswith(mistake_titles[2]), (third, mistake_titles[2])
        index, true_digit, read_as = map(int, match.groups()[:3])
        assert y_test[index] == true_digit != read_as
        open_inside(page, "mistake_image")
        assert_inside_shows(page, dense_run, index, true_digit, read_as)
        journey.shot("mistake-inside")

        assert not unreadable, "hard to read:\n" + "\n".join(unreadable)
        if journey.width < 1400:
            return  # the convnet is looked at once, in the large window

        # A convnet's evaluation: its caption names it, its matrix renders whole.
        open_app(page, app_url, f"evaluate?run={cnn_run}", "Evaluate the model")
        expect(main(page).get_by_text(f"Model: run {cnn_run}, weights after epoch 1/1 · "
                                      "Convolutional (CNN).")).to_be_visible()
        expect(confusion_plot(page)).to_be_visible()
        cnn_counts = confusion_counts(page)
        assert cnn_counts.sum() == TEST_IMAGES
        cnn_mistakes = int(cnn_counts.sum() - np.trace(cnn_counts))
        assert metric_value(page, f"Mistakes (of {TEST_IMAGES:,})") == f"{cnn_mistakes:,}"
        journey.shot("convnet")
        assert not figure_text_problems(page, "the convnet")
    finally:
        end_journey(journey)


def test_the_evaluation_follows_a_training_epoch_by_epoch(browser, fresh_page, app_url):
    """Evaluate, left open while one's own run trains, moves to each new epoch's weights
    and stops following once the run ends."""
    page = fresh_page
    open_app(page, app_url, "train", "Train the network")
    configure_training(page, epochs=5, batch_size="128", images="30,000")
    start_training(page)
    expect(page).to_have_url(re.compile(r"[?&]run="), timeout=RERUN_TIMEOUT_MS)
    run_id = re.search(r"[?&]run=([^&]+)", page.url).group(1)
    go_to(page, "Evaluate", "Evaluate the model")
    live = re.compile(rf"run {re.escape(run_id)}, weights after epoch [1-4]/5 .*"
                      r"Training continues")
    expect(model_caption(page)).to_have_text(live, timeout=TRAINING_TIMEOUT_MS)
    done = re.compile(rf"run {re.escape(run_id)}, weights after epoch 5/5 ")
    expect(model_caption(page)).to_have_text(done, timeout=TRAINING_TIMEOUT_MS)
    expect(model_caption(page)).not_to_contain_text("Training continues")
    expect(metric(page, "Test accuracy")).to_be_visible()
