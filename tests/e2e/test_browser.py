"""The app in a real browser, used the way a person uses it.

Train on the Train page and watch the charts grow, draw digits with the mouse on the
Draw page and read the prediction, leave and come back during a training, and get a
first model from the Draw page alone. Tests that share `shared_page` run in file
order in one Streamlit session: the drawing test uses the model the training test left.

Run: .venv/bin/python -m pytest tests/e2e -q   (leave them out: -m 'not e2e')
"""

from __future__ import annotations

import math
import re
import time

from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

APP_LOAD_TIMEOUT_MS = 90_000  # a first load may import TensorFlow on a busy machine
RERUN_TIMEOUT_MS = 30_000
TRAINING_TIMEOUT_MS = 240_000  # a few epochs, even while other tests load the CPU
DRAW_PROMPT = "Draw a digit on the canvas to see what the network thinks it is."
LOSS_CHART = "Loss (categorical cross-entropy)"
ACCURACY_CHART = "Accuracy"
SOFTMAX_CHART = "Softmax output"

Point = tuple[float, float]
Stroke = list[Point]


# --- the app in general -----------------------------------------------------------------


def open_app(page: Page, base_url: str, path: str, heading: str) -> None:
    """Load a page by URL and wait for the app's own heading, not just the HTML shell."""
    page.goto(f"{base_url}/{path}")
    expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=APP_LOAD_TIMEOUT_MS)
    wait_until_idle(page)


def wait_until_idle(page: Page, timeout_ms: int = RERUN_TIMEOUT_MS) -> None:
    """Wait for the script run to end (Streamlit marks its state on the app's root)."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        timeout=timeout_ms
    )


def go_to(page: Page, link: str, heading: str) -> None:
    """Follow a sidebar navigation link and wait for that page's heading."""
    page.get_by_test_id("stSidebar").get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=APP_LOAD_TIMEOUT_MS)
    wait_until_idle(page)


def exceptions(page: Page) -> Locator:
    """Streamlit's exception boxes: a traceback shown to the user."""
    return page.get_by_test_id("stException")


def metric(page: Page, label: str) -> Locator:
    """The st.metric whose label is exactly `label`."""
    return page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )


def metric_value(page: Page, label: str) -> str:
    """The value a metric displays, e.g. '96.88%' or '7'."""
    return metric(page, label).get_by_test_id("stMetricValue").inner_text().strip()


def percent(text: str) -> float:
    """'96.88%' -> 0.9688."""
    match = re.fullmatch(r"([\d.]+)\s*%", text.strip())
    assert match, f"not a percentage: {text!r}"
    return float(match.group(1)) / 100


def save_screenshot(page: Page, path) -> None:
    """A screenshot of the whole page, for a person to look at.

    Streamlit scrolls its main area inside the window, so a "full page" screenshot
    would stop at the window's bottom edge: the window is made as tall as the content
    for the shot, then restored.
    """
    size = page.viewport_size
    content_height = page.evaluate(
        """() => Math.max(...['stMain', 'stSidebarContent'].map(id =>
            document.querySelector(`[data-testid="${id}"]`)?.scrollHeight ?? 0))"""
    )
    page.set_viewport_size({"width": size["width"], "height": min(max(size["height"],
                                                                          content_height), 8000)})
    try:
        page.wait_for_timeout(250)  # the page lays itself out for the taller window
        page.screenshot(path=path, full_page=True)
    finally:
        page.set_viewport_size(size)


def sidebar(page: Page) -> Locator:
    return page.get_by_test_id("stSidebar")


# --- sidebar widgets ---------------------------------------------------------------------


def set_number_input(page: Page, label: str, value: int) -> None:
    """Type into a sidebar st.number_input and commit with Enter, as a person would."""
    field = sidebar(page).get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    expect(field).to_have_value(str(value))
    wait_until_idle(page)


def _slider(page: Page, label: str) -> Locator:
    return sidebar(page).get_by_test_id("stSlider").filter(
        has=page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True)
    )


def slider_text(page: Page, label: str) -> str:
    """The value a slider shows above its thumb, e.g. '64' or '10,000'."""
    return _slider(page, label).get_by_test_id("stSliderThumbValue").inner_text().strip()


def select_slider_option(page: Page, label: str, option: str, max_steps: int = 10) -> None:
    """Move a sidebar select_slider with the arrow keys until it shows `option`.

    The thumb is a visually hidden range input; keyboard focus is how a person without
    a mouse moves it, and it is exact where dragging would depend on pixel positions.
    """
    thumb = _slider(page, label).locator('input[type="range"]')
    thumb.focus()
    seen = []
    for _ in range(max_steps):
        shown = thumb.get_attribute("aria-valuetext")
        if shown == option:
            break
        seen.append(shown)
        # The options ascend; "all 60,000" counts as the largest.
        page.keyboard.press("ArrowLeft" if _as_number(shown) > _as_number(option) else "ArrowRight")
    else:
        raise AssertionError(f"slider {label!r} never showed {option!r}; it showed {seen}")
    thumb.blur()
    wait_until_idle(page)
    assert slider_text(page, label) == option


def _as_number(text: str | None) -> float:
    """A slider's shown value as a number: "none" is the least, "all 60,000" 60,000."""
    if text == "none":
        return 0.0
    digits = re.sub(r"[^\d.]", "", text or "")
    return float(digits) if digits else math.inf


def configure_training(page: Page, epochs: int, batch_size: str, images: str) -> None:
    """Set the sidebar's training settings; the Train page's caption echoes them."""
    set_number_input(page, "Epochs", epochs)
    select_slider_option(page, "Batch size", batch_size)
    select_slider_option(page, "Training images", images)


# --- the Train page ----------------------------------------------------------------------


def progress_bar(page: Page) -> Locator:
    return page.get_by_test_id("stProgress")


def progress_position(page: Page) -> tuple[int, int] | None:
    """(epoch, batch) from 'Training: epoch 1/2, batch 120/422', or None if not shown."""
    texts = progress_bar(page).all_inner_texts()
    match = re.search(r"epoch (\d+)/\d+, batch (\d+)/\d+", texts[0] if texts else "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def finished_alert(page: Page) -> Locator:
    return page.get_by_test_id("stAlert").filter(has_text="Training finished: test accuracy")


def read_chart_traces(page: Page) -> dict[str, dict[str, list[float]]]:
    """The Plotly charts' data straight from the DOM: {title: {trace name: x values}}.

    Each `.js-plotly-plot` element carries the figure Plotly drew (`.data`, `.layout`);
    titles lose the HTML markup Streamlit's theme wraps them in.
    """
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.js-plotly-plot')]
            .filter(plot => plot.layout && plot.data)
            .map(plot => {
                const title = plot.layout.title;
                const text = (typeof title === 'string' ? title : (title && title.text) || '')
                    .replace(/<[^>]*>/g, '');
                return [text, Object.fromEntries(
                    plot.data.map(trace => [trace.name, Array.from(trace.x || [])]))];
            }))"""
    )


def history_chart(page: Page, title: str) -> Locator:
    """A Plotly chart by its title; while a rerun replaces it, briefly there may be two."""
    return page.locator(".js-plotly-plot").filter(has_text=title)


def epochs_in_chart(page: Page, title: str) -> tuple[list[float], list[float]]:
    """The epochs plotted in a history chart now: (train x values, validation x values)."""
    traces = read_chart_traces(page).get(title, {})
    return traces.get("train", []), traces.get("validation", [])


def record_chart_epochs(page: Page, title: str) -> None:
    """Make the page log each distinct (train, validation) epoch list the chart shows.

    On a loaded 2-core machine the browser can be unresponsive for seconds while it
    redraws the charts twice a second, so polling from the test could miss an epoch
    that the page did show; a recorder inside the page sees every state it renders.
    """
    page.evaluate(
        """title => {
            const log = window.__chartEpochs = [];
            let last = null;
            window.__chartRecorder = setInterval(() => {
                const plot = [...document.querySelectorAll('.js-plotly-plot')]
                    .filter(p => (p.layout?.title?.text ?? p.layout?.title ?? '')
                        .toString().includes(title)).pop();
                if (!plot?.data) return;
                const xs = name => Array.from(plot.data.find(t => t.name === name)?.x ?? []);
                const state = JSON.stringify([xs('train'), xs('validation')]);
                if (state !== last) { log.push(JSON.parse(state)); last = state; }
            }, 50);
        }""",
        title,
    )


def recorded_chart_epochs(page: Page) -> list[list[list[float]]]:
    """Stop the recorder; the (train, validation) epoch lists the chart went through."""
    return page.evaluate("() => { clearInterval(window.__chartRecorder); return window.__chartEpochs; }")


def history_table(page: Page) -> Locator:
    """The per-epoch st.dataframe: its accessible table has a 'Val. accuracy' column."""
    return page.get_by_test_id("stDataFrame").filter(
        has=page.locator("th", has_text="Val. accuracy")
    )


def table_rows(table: Locator) -> list[dict[str, str]]:
    """The rows of an st.dataframe, read from the accessible table behind its canvas."""
    headers = [h.strip() for h in table.locator("thead th").all_text_contents()]
    return [
        dict(zip(headers, (c.strip() for c in row.locator("td").all_text_contents())))
        for row in table.locator("tbody tr").all()
    ]


def start_training(page: Page) -> None:
    page.get_by_role("button", name="Start training").click()
    expect(progress_bar(page)).to_be_visible(timeout=RERUN_TIMEOUT_MS)


def wait_for_training_to_finish(page: Page) -> float:
    """Wait for the success alert; the test accuracy it reports, 0–1.

    The end of a training reruns the whole page: until that rerun ends, the metrics of
    the last poll can still be shown beside the new ones.
    """
    expect(finished_alert(page)).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
    wait_until_idle(page)
    expect(metric(page, "Test accuracy")).to_be_visible()
    return percent(metric_value(page, "Test accuracy"))


# --- the Draw page -----------------------------------------------------------------------


def canvas(page: Page) -> Locator:
    """The drawing surface: fabric.js's upper canvas, in the component's open shadow root."""
    return page.locator("canvas.upper-canvas").first


def draw_stroke(page: Page, points: Stroke) -> None:
    """One pen-down, move, pen-up gesture through `points` (canvas pixels, 0–280).

    Like a person, the pointer rests on the canvas before pressing: until it hovers
    the canvas, the canvas's toolbar is an invisible layer over the canvas's top-right
    corner, and a press there would hit the toolbar instead of drawing.
    """
    surface = canvas(page)
    hit = "([el, x, y]) => { const at = el.getRootNode().elementFromPoint(x, y);" \
        " return at === el ? true : (at ? at.outerHTML.slice(0, 120) : 'nothing'); }"
    deadline, found = time.monotonic() + 10, None
    while True:  # the page may still be settling after a rerun: measure again until it holds
        box = surface.bounding_box()
        assert box, "the canvas is not on screen"
        start = (box["x"] + points[0][0], box["y"] + points[0][1])
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=2)
        page.mouse.move(*start, steps=4)
        found = page.evaluate(hit, [surface.element_handle(), *start])
        if found is True:
            break
        assert time.monotonic() < deadline, f"the pen's start is covered by {found}"
        page.wait_for_timeout(200)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
    page.mouse.up()


def _model_input_source() -> str:
    return "document.querySelector('[data-testid=\"stImage\"] img')?.getAttribute('src') ?? null"


def draw_digit(page: Page, strokes: list[Stroke]) -> str:
    """Draw the strokes, each awaited like a person lifting the pen; the predicted digit.

    Each mouse-up sends the drawing and reruns the app, which redraws 'What the model
    sees': waiting for that image to change after every stroke makes sure the
    prediction read at the end is for the whole digit, not its first stroke.
    """
    for number, stroke in enumerate(strokes, start=1):
        before = page.evaluate(f"() => {_model_input_source()}")
        surface = canvas(page).element_handle()
        draw_stroke(page, stroke)
        try:
            page.wait_for_function(
                f"before => {{ const src = {_model_input_source()}; "
                "return src !== null && src !== before; }",
                arg=before,
                timeout=RERUN_TIMEOUT_MS,
            )
        except PlaywrightTimeoutError:
            where = "still shown" if surface.evaluate("el => el.isConnected") else "gone"
            raise AssertionError(
                f"stroke {number}/{len(strokes)} did not change 'What the model sees' within "
                f"{RERUN_TIMEOUT_MS // 1000} s (the canvas it was drawn on is {where})"
            ) from None
    return wait_for_prediction(page)


def wait_for_prediction(page: Page) -> str:
    """Wait for the run to end with a Prediction metric shown; the digit it shows."""
    wait_until_idle(page)
    expect(metric(page, "Prediction")).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    return metric_value(page, "Prediction")


def softmax_chart(page: Page) -> Locator:
    return page.locator(".js-plotly-plot").filter(has_text=SOFTMAX_CHART)


def softmax_heights(page: Page) -> list[float]:
    """The ten bar heights of the softmax chart.

    The bar heights arrive base64-encoded (numpy); Plotly's decoded copy is `_fullData`.
    """
    heights = page.evaluate(
        """title => {
            const plot = [...document.querySelectorAll('.js-plotly-plot')]
                .find(p => (p.layout?.title?.text ?? '').includes(title));
            return plot ? Array.from(plot._fullData[0].y) : null;
        }""",
        SOFTMAX_CHART,
    )
    assert heights and len(heights) == 10, f"softmax chart bars: {heights}"
    return heights


def softmax_argmax(page: Page) -> int:
    """The digit with the tallest bar in the softmax chart."""
    heights = softmax_heights(page)
    return max(range(10), key=heights.__getitem__)


def clear_canvas(page: Page) -> None:
    """Press the app's Clear button; wait for the fresh canvas and the prompt."""
    old_canvas = canvas(page).element_handle()
    page.get_by_role("button", name="Clear", exact=True).click()
    page.wait_for_function("el => !el.isConnected", arg=old_canvas, timeout=RERUN_TIMEOUT_MS)
    wait_until_idle(page)
    expect(canvas(page)).to_be_visible()
    expect(page.get_by_text(DRAW_PROMPT)).to_be_visible()
    expect(metric(page, "Prediction")).to_have_count(0)


# --- digits as a person draws them, in a square at (x, y) of side `size` (canvas px) --
# The shapes live in mnist_core.stroke_digits, with every other digit and style.

from mnist_core.stroke_digits import four, one, one_with_flag, seven, zero  # noqa: E402

LARGE = (50, 30, 220)  # nearly the whole 280×280 canvas
TOP_LEFT_SMALL = (15, 15, 90)
BOTTOM_RIGHT_SMALL = (175, 175, 90)
DRAWINGS = [  # (label, digit, strokes)
    ("large 1", 1, one(*LARGE)),
    ("small 1 with a flag, bottom right", 1, one_with_flag(*BOTTOM_RIGHT_SMALL)),
    ("large 7", 7, seven(*LARGE)),
    ("small 7, top left", 7, seven(*TOP_LEFT_SMALL)),
    ("large 0", 0, zero(*LARGE)),
    ("small 0, bottom right", 0, zero(*BOTTOM_RIGHT_SMALL)),
    ("large 4", 4, four(*LARGE)),
    ("small 4, top left", 4, four(*TOP_LEFT_SMALL)),
]


# --- the tests ---------------------------------------------------------------------------



PROBE_JS = """() => {
    // Mouse-up → the Prediction metric in the DOM, timed inside the page.
    const probe = window.__latency = {up: null, shown: null};
    const shown = () => [...document.querySelectorAll('[data-testid="stMetricLabel"]')]
        .some(label => label.textContent.trim() === 'Prediction');
    document.addEventListener('mouseup', () => {
        probe.up = performance.now(); probe.shown = shown() ? probe.up : null;
    }, true);
    new MutationObserver(() => {
        if (probe.up !== null && probe.shown === null && shown()) probe.shown = performance.now();
    }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def install_latency_probe(page: Page) -> None:
    page.evaluate(PROBE_JS)


def stroke_latency(page: Page, stroke) -> float:
    """Draw one stroke on an empty canvas; seconds from its mouse-up to the Prediction metric.

    Timed in the page (performance.now at the mouse-up event and when a MutationObserver
    first sees the metric), so Playwright's polling adds nothing.
    """
    assert metric(page, "Prediction").count() == 0, "clear the canvas first"
    draw_stroke(page, stroke)
    expect(metric(page, "Prediction")).to_be_visible()
    probe = page.evaluate("() => window.__latency")
    assert probe["up"] is not None and probe["shown"] is not None, probe
    return (probe["shown"] - probe["up"]) / 1000


def test_train_shows_live_progress_charts_and_accuracy(shared_page, app_url, artifacts):
    """Sidebar settings, Start, a live progress bar, charts that grow per epoch, a result."""
    page = shared_page
    open_app(page, app_url, "train", "Train the network")
    configure_training(page, epochs=2, batch_size="64", images="30,000")
    expect(page.get_by_text("Training: 2 epoch(s), batch size 64")).to_be_visible()

    start_training(page)
    for title in (LOSS_CHART, ACCURACY_CHART):
        expect(history_chart(page, title).first).to_be_visible()

    # The charts grow epoch by epoch: one point each after epoch 1, then two.
    record_chart_epochs(page, LOSS_CHART)
    expect(metric(page, "Epochs done")).to_contain_text(re.compile("[12]/2"),
                                                         timeout=TRAINING_TIMEOUT_MS)
    train_x, validation_x = epochs_in_chart(page, LOSS_CHART)  # read live, mid-training
    if train_x == [1]:  # usually: epoch 2 is still running
        assert validation_x == [1]
        page.screenshot(path=artifacts / "train-running.png")

    accuracy = wait_for_training_to_finish(page)
    for title in (LOSS_CHART, ACCURACY_CHART):
        expect(history_chart(page, title)).to_have_count(1)
        assert epochs_in_chart(page, title) == ([1, 2], [1, 2]), title
    shown = [state for state in recorded_chart_epochs(page) if state[0]]
    assert shown and shown[0] == [[1], [1]] and shown[-1] == [[1, 2], [1, 2]], (
        f"the loss chart's (train, validation) epochs, in order: {shown}"
    )
    assert all(state in ([[1], [1]], [[1, 2], [1, 2]]) for state in shown), shown
    table = history_table(page)
    expect(table.locator("tbody tr")).to_have_count(2)
    rows = table_rows(table)
    assert [row["Epoch"] for row in rows] == ["1", "2"]
    for row in rows:
        assert 0.5 < float(row["Val. accuracy"]) <= 1, row
    assert metric_value(page, "Epochs done") == "2/2"
    assert accuracy > 0.9, f"test accuracy {accuracy:.2%}"
    expect(progress_bar(page)).to_have_count(0)
    expect(exceptions(page)).to_have_count(0)
    save_screenshot(page, artifacts / "train.png")


def ensure_model(page: Page, app_url: str) -> None:
    """The drawing test needs a model: the training test leaves one; train if run alone."""
    if sidebar(page).get_by_text("Model ready").count():
        return
    open_app(page, app_url, "train", "Train the network")
    configure_training(page, epochs=2, batch_size="64", images="30,000")
    start_training(page)
    wait_for_training_to_finish(page)


def test_draw_recognises_digits_large_and_off_centre(shared_page, app_url, artifacts):
    """Mouse-drawn 1, 7, 0 and 4, large and small off-centre, are read correctly."""
    page = shared_page
    ensure_model(page, app_url)
    go_to(page, "Draw", "Draw a digit")
    expect(page.get_by_text(DRAW_PROMPT)).to_be_visible()
    expect(canvas(page)).to_be_visible()

    readings, misread = [], []
    for number, (label, digit, strokes) in enumerate(DRAWINGS):
        if number:
            clear_canvas(page)
        predicted = draw_digit(page, strokes)
        expect(softmax_chart(page).first).to_be_visible()
        expect(page.get_by_text("What the model sees")).to_be_visible()
        assert softmax_argmax(page) == int(predicted), "the chart's tallest bar is not the answer"
        readings.append(f"{label}: read as {predicted} ({metric_value(page, 'Probability')})")
        if predicted != str(digit):
            misread.append(readings[-1])
            save_screenshot(page, artifacts / f"draw-misread-{number}.png")
    save_screenshot(page, artifacts / "draw.png")
    (artifacts / "draw-readings.txt").write_text("\n".join(readings) + "\n")
    assert not misread, f"misread drawings: {misread}"

    clear_canvas(page)  # asserts the prompt is back and no prediction is left
    expect(softmax_chart(page)).to_have_count(1)  # in place for the next drawing, empty
    assert softmax_heights(page) == [0] * 10
    expect(exceptions(page)).to_have_count(0)


def test_training_continues_while_on_another_page(shared_page, app_url):
    """Visiting Home during a training does not stop it; it finishes with a result."""
    page = shared_page
    open_app(page, app_url, "train", "Train the network")
    configure_training(page, epochs=3, batch_size="128", images="30,000")
    start_training(page)
    expect(progress_bar(page)).to_contain_text(re.compile(r"epoch \d/3, batch [1-9]"),
                                                timeout=TRAINING_TIMEOUT_MS)
    before = progress_position(page)
    assert before is not None

    go_to(page, "Home", "MNIST Playground")
    expect(sidebar(page).get_by_text("Training in progress…")).to_be_visible()
    time.sleep(3)  # a person reading the Home page; the training goes on meanwhile

    go_to(page, "Train", "Train the network")
    after = progress_position(page)
    finished = finished_alert(page).count() > 0
    assert finished or (after is not None and after > before), (
        f"progress before leaving: {before}, after coming back: {after}"
    )
    accuracy = wait_for_training_to_finish(page)
    assert metric_value(page, "Epochs done") == "3/3"
    assert accuracy > 0.9, f"test accuracy {accuracy:.2%}"
    expect(exceptions(page)).to_have_count(0)
