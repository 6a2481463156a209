"""The Runs page, used once from end to end, at each window size.

Two runs trained in the test process for this window (1 epoch on 1,000 images, saved
where the session's server finds them): the visitor reads the table, shows the
hyperparameters, selects one run then both to compare their curves, renames one
`<b>bold</b>` (shown as typed, never as markup), downloads its model, configuration
and history, deletes it (after a Cancel), imports a `.keras` file, has a file of random
bytes and a picture refused in words, and draws with the other run.

And the numbers: a run with accuracies Keras reports as float32 (0.6418 as 0.64179998…)
reads in the table as the sidebar says it, and the Compare chart's axis labels differ.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from .conftest import _saved_run
from .journey import (
    assert_text_not_truncated,
    assert_wholly_in_window,
    choose_option,
    end_journey,
    open_journey,
)
from .test_browser import (
    ACCURACY_CHART,
    DRAW_PROMPT,
    LOSS_CHART,
    open_app,
    sidebar,
    table_rows,
    wait_until_idle,
)

RESULT_HEADERS = ["Run", "Name", "Created", "Status", "Model", "Epochs", "Test accuracy",
                  "Val. accuracy", "Train accuracy", "Per epoch"]
HYPERPARAMETER_HEADERS = ["Hidden units", "Activation", "Dropout", "Augment", "Optimizer",
                          "Learning rate", "LR schedule", "Batch size", "Training images"]
BOLD = "<b>bold</b>"
MODEL_FILE_NAME = "my-model.keras"
ACTIONS = ("Use for drawing", "Model (.keras)", "Config (.json)", "History (.csv)", "Delete…")
ROW_PX = 35  # the height of a row of st.dataframe's grid, and of its header
CHECKBOX_X = 16  # the middle of the selection column, from the grid's left edge
MISSING_WORDS = re.compile(r"\b(None|null|NaN|nan|undefined)\b")
imported_runs: list[str] = []  # runs a journey imported, removed with its own runs
# The Compare charts as Plotly drew them (each `.js-plotly-plot` carries its figure), and
# a chart's title without the markup Streamlit's theme wraps it in.
COMPARE_PLOTS = """const titleOf = plot => (plot._fullLayout?.title?.text ?? '').replace(/<[^>]*>/g, '');
    const comparePlots = () => [...document.querySelectorAll('.js-plotly-plot')].filter(
        plot => plot._fullData && ['%s', '%s'].includes(titleOf(plot)));
""" % (LOSS_CHART, ACCURACY_CHART)


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory) -> Path:
    """A real `.keras` file: the app's dense network, fitted for a few steps on MNIST."""
    from mnist_core.data import load_mnist, prepare
    from mnist_core.model import build_model

    data = load_mnist()
    x, y = prepare(data.x_train[:2_000], data.y_train[:2_000])
    model = build_model()
    model.fit(x, y, epochs=1, batch_size=128, verbose=0)
    path = tmp_path_factory.mktemp("import") / MODEL_FILE_NAME
    model.save(path)
    return path


@pytest.fixture
def two_runs(app_url):
    """Two finished dense runs of this test's own, the newest last; leftovers removed after."""
    from mnist_core.runs.store import RunStore

    runs = [_saved_run("dense", 1_000), _saved_run("dense", 1_000)]
    yield runs
    store = RunStore(recover=False)
    for run_id in [*runs, *imported_runs]:
        if store.exists(run_id):
            store.delete(run_id)
    imported_runs.clear()


@pytest.fixture
def one_run(app_url):
    """A finished dense run of this test's own, removed after."""
    from mnist_core.runs.store import RunStore

    run_id = _saved_run("dense", 1_000)
    yield run_id
    store = RunStore(recover=False)
    if store.exists(run_id):
        store.delete(run_id)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((28, 28), 128, np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def upload(page: Page, name: str, data: bytes, mime: str = "application/octet-stream") -> None:
    page.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(
        {"name": name, "mimeType": mime, "buffer": data})
    wait_until_idle(page)


def runs_table(page: Page) -> Locator:
    return page.get_by_test_id("stDataFrame")


def table_cell(page: Page, text: str) -> Locator:
    """A cell of the runs table's accessible copy holding exactly `text`."""
    return runs_table(page).locator("td").filter(has_text=re.compile(f"^{re.escape(text)}$"))


GRID_NOW = """frame => {
    const scroller = frame.querySelector('.dvn-scroller');
    const cells = {};
    for (const th of frame.querySelectorAll('thead th'))
        (cells[0] ??= {})[th.getAttribute('aria-colindex')] = th.textContent.trim();
    for (const tr of frame.querySelectorAll('tbody tr'))
        for (const td of tr.querySelectorAll('td'))
            (cells[tr.getAttribute('aria-rowindex')] ??= {})[td.getAttribute('aria-colindex')] =
                td.textContent.trim();
    return {left: scroller.scrollLeft, end: scroller.scrollWidth - scroller.clientWidth, cells};
}"""


def whole_table(page: Page) -> tuple[list[str], list[dict[str, str]]]:
    """(headers, rows) of the runs table, every column of it.

    The accessible copy holds only the columns in view, so the grid is scrolled
    sideways with the mouse wheel, as a person does, and read at each stop.
    """
    frame = runs_table(page)
    expect(frame.locator("tbody td").first).to_be_attached()
    box = frame.get_by_test_id("data-grid-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    cells: dict[int, dict[int, str]] = {}

    def read() -> dict:
        now = frame.evaluate(GRID_NOW)
        for row, columns in now["cells"].items():
            cells.setdefault(int(row), {}).update({int(c): text for c, text in columns.items()})
        return now

    now = read()
    for _ in range(30):  # a third of a grid at a time: one huge wheel step jams the scrolling
        if now["left"] >= now["end"] - 1:
            break
        shown = max(int(column) for column in now["cells"]["0"])
        page.mouse.wheel(box["width"] / 3, 0)
        # The grid redraws its accessible copy after a scroll, later on a busy machine:
        # wait for the columns that came into view.
        frame.evaluate("""(frame, shown) => new Promise(done => {
            const started = performance.now();
            const look = () => {
                const last = Math.max(...[...frame.querySelectorAll('thead th')]
                    .map(th => +th.getAttribute('aria-colindex')));
                if (last > shown || performance.now() - started > 3000) done();
                else setTimeout(look, 50);
            };
            look(); })""", shown)
        before, now = now["left"], read()
        assert now["left"] > before, f"the grid did not scroll sideways (at {before} px)"
    for _ in range(20):
        if now["left"] <= 0:
            break
        page.mouse.wheel(-box["width"] / 2, 0)
        page.wait_for_timeout(100)
        now = frame.evaluate(GRID_NOW)
    page.mouse.move(0, 0)
    header = [cells[0][column] for column in sorted(cells[0])]
    rows = [[cells[row].get(column, "") for column in sorted(cells[0])]
            for row in sorted(cells) if row]
    return header, [dict(zip(header, row)) for row in rows]


def assert_nothing_reads_none(header: list[str], rows: list[dict[str, str]]) -> None:
    """Empty values show as a dash or nothing, never as a programmer's word."""
    words = [f"{row['Run']}: {column} = {value!r}" for row in rows
             for column, value in row.items() if MISSING_WORDS.search(value)]
    assert not words, f"the table shows {words} (columns {header})"


def row_of(page: Page, run_id: str) -> dict[str, str]:
    expect(table_cell(page, run_id)).to_have_count(1)
    rows = [row for row in table_rows(runs_table(page)) if row.get("Run") == run_id]
    assert len(rows) == 1, f"run {run_id} in the table: {rows}"
    return rows[0]


def toggle_row(page: Page, run_id: str) -> None:
    """Click the selection box at the left of the run's row in the grid (a canvas)."""
    expect(table_cell(page, run_id)).to_have_count(1)
    ids = [row["Run"] for row in table_rows(runs_table(page))]
    position = ids.index(run_id)
    grid = runs_table(page).get_by_test_id("data-grid-canvas")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    y = box["y"] + ROW_PX * (position + 1) + ROW_PX / 2
    assert y < box["y"] + box["height"], f"run {run_id} is row {position}, below the grid's fold"
    page.mouse.click(box["x"] + CHECKBOX_X, y)
    wait_until_idle(page)


def flip_toggle(page: Page, label: str, on: bool) -> None:
    """Click a toggle's label, as a person does (its switch input lies under the label)."""
    switch = page.get_by_role("switch", name=label)
    page.get_by_test_id("stCheckbox").filter(has=switch).locator("label").first.click()
    expect(switch).to_be_checked(checked=on)
    wait_until_idle(page)


def compare_charts(page: Page) -> dict:
    """The Compare charts as drawn: {title: [(trace name, colour, dash)]}."""
    return page.evaluate("() => {" + COMPARE_PLOTS + """
        return Object.fromEntries(comparePlots().map(plot => [titleOf(plot),
            plot._fullData.map(t => [t.name, t.line.color, t.line.dash])])); }""")


def wait_for_compared(page: Page, labels: list[str]) -> dict:
    """Wait until both Compare charts draw the runs `labels` (their legend text), exactly.

    Each run has a training line and a validation line: `<label> train`, `<label>
    validation`. The legend shows a name as typed: Plotly's trace names are escaped.
    """
    wanted = sorted(f"{label} {kind}" for label in labels for kind in ("train", "validation"))
    page.wait_for_function("wanted => {" + COMPARE_PLOTS + """
        const shown = plot => [...plot.querySelectorAll('.legend .legendtext')]
            .map(text => text.textContent).sort();
        const plots = comparePlots();
        return plots.length === 2 && plots.every(plot =>
            JSON.stringify(shown(plot)) === JSON.stringify(wanted)); }""", arg=wanted)
    return compare_charts(page)


def assert_one_colour_per_run(charts: dict, labels: list[str]) -> None:
    for title, traces in charts.items():
        colours = {label: {colour for name, colour, _ in traces
                           if name.rsplit(" ", 1)[0] in (label, escape(label))}
                   for label in labels}
        assert all(len(c) == 1 for c in colours.values()), f"{title}: {colours}"
        assert len({c.pop() for c in colours.values()}) == len(labels), f"{title}: {traces}"
        assert {dash for *_, dash in traces} == {"solid", "dot"}, f"{title}: {traces}"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def legend_markup(page: Page) -> list[dict]:
    """Per Compare chart: its legend's texts, its <b> elements, and whether any is bold."""
    return page.evaluate("() => {" + COMPARE_PLOTS + """
        return comparePlots().map(plot => {
            const legend = plot.querySelector('.legend');
            const parts = [...legend.querySelectorAll('.legendtext, .legendtext *')];
            return {texts: [...legend.querySelectorAll('.legendtext')].map(t => t.textContent),
                    bElements: legend.querySelectorAll('b').length,
                    bold: parts.some(part => {
                        const weight = getComputedStyle(part).fontWeight;
                        return weight === 'bold' || Number(weight) >= 600; })};
        }); }""")


def shot(journey, state: str) -> None:
    """`journey.shot`, the pointer first moved off the page: resting over a chart, it
    shows the chart's toolbar and a tooltip over its title."""
    journey.page.mouse.move(0, 0)
    journey.shot(state)


def download(page: Page, button: str, expected_name: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    assert info.value.suggested_filename == expected_name
    return Path(info.value.path()).read_bytes()


def alert(page: Page, text: str) -> Locator:
    return page.get_by_test_id("stMain").get_by_test_id("stAlert").filter(has_text=text)


def model_ready(page: Page) -> Locator:
    return sidebar(page).get_by_test_id("stAlert").filter(has_text="Model ready")


def test_runs_compared_renamed_downloaded_deleted_imported_and_drawn_with(
        browser, app_url, app_log, viewport, two_runs, keras_file):
    from mnist_core.config import ModelConfig
    from mnist_core.runs.store import RunStore

    store = RunStore(recover=False)
    first, second = two_runs  # second is the newer: a new session opens it
    journey = open_journey(browser, "runs", viewport, app_log)
    page = journey.page
    try:
        open_app(page, app_url, "runs", "Runs")
        expect(model_ready(page)).to_be_visible()

        # The table: human headers, both runs, and no "None" where a value does not apply.
        for run_id in two_runs:
            row = row_of(page, run_id)
            assert row["Status"] == "finished" and row["Model"] == "dense", row
            assert row["Epochs"] == "1/1" and 0 < float(row["Test accuracy"]) <= 1, row
        header, rows = whole_table(page)
        assert header == RESULT_HEADERS
        assert_nothing_reads_none(header, rows)
        expect(page.get_by_text("Select one or more rows")).to_be_visible()
        shot(journey, "table")

        flip_toggle(page, "Show the hyperparameters", on=True)
        page.wait_for_function(
            "n => +document.querySelector('[data-testid=stDataFrame] table')"
            "?.getAttribute('aria-colcount') > n", arg=len(RESULT_HEADERS))
        header, rows = whole_table(page)
        assert header[:len(RESULT_HEADERS)] == RESULT_HEADERS, header
        missing = [column for column in HYPERPARAMETER_HEADERS if column not in header]
        assert not missing, f"hyperparameter columns missing: {missing} (shown: {header})"
        assert_nothing_reads_none(header, rows)
        row = next(row for row in rows if row["Run"] == first)
        assert row["Hidden units"] == " ".join(map(str, ModelConfig().hidden_units)), row
        assert row["Optimizer"] == ModelConfig().optimizer, row
        shot(journey, "hyperparameters")
        flip_toggle(page, "Show the hyperparameters", on=False)
        expect(runs_table(page).locator("table")).to_have_attribute(
            "aria-colcount", str(len(RESULT_HEADERS)))

        # One run selected: its curves, and what can be done with it.
        toggle_row(page, first)
        expect(page.get_by_role("heading", name="Compare")).to_be_visible()
        expect(page.get_by_role("heading", name="Selected run")).to_be_visible()
        assert_one_colour_per_run(wait_for_compared(page, [first]), [first])
        for action in ACTIONS:
            button = page.get_by_role("button", name=action)
            assert_text_not_truncated(page, button, f"the {action!r} button")
            assert_wholly_in_window(page, button, f"the {action!r} button")
        shot(journey, "one-selected")

        # Renamed to markup: the table and the legends show the text as typed.
        # By its key: while the rerun that selected the run settles, the field of the
        # run selected before can linger beside it.
        name = page.locator(f".st-key-runs_name_{first} input")
        expect(name).to_have_value("")
        name.fill(BOLD)
        page.get_by_role("button", name="Rename").click()
        expect(alert(page, f"Run {first} renamed.")).to_be_visible()
        expect(table_cell(page, BOLD)).to_have_count(1)
        assert row_of(page, first)["Name"] == BOLD
        label = f"{first} · {BOLD}"
        wait_for_compared(page, [label])
        for legend in legend_markup(page):
            assert all(BOLD in text for text in legend["texts"]), legend
            assert legend["bElements"] == 0 and not legend["bold"], legend
        shot(journey, "renamed-markup")

        # Two runs selected: both overlaid, one colour each; a menu picks the one to act on.
        toggle_row(page, second)
        charts = wait_for_compared(page, [label, second])
        assert_one_colour_per_run(charts, [label, second])
        run_menu = page.get_by_test_id("stMain").get_by_test_id("stSelectbox").filter(
            has_text="Run")
        expect(run_menu).to_have_count(1)
        shot(journey, "two-selected")

        # The renamed run's three files.
        choose_option(page, run_menu, label)
        # The rerun for the menu has come back (a download clicked while it runs is lost:
        # the rerun replaces the button's file id; see the report).
        expect(name).to_have_value(BOLD)
        wait_until_idle(page)
        keras = download(page, "Model (.keras)", f"mnist-{first}.keras")
        # Again, the same file (a rerun on the click used to drop it before it was fetched).
        assert download(page, "Model (.keras)", f"mnist-{first}.keras") == keras
        with zipfile.ZipFile(io.BytesIO(keras)) as archive:
            assert "config.json" in archive.namelist(), archive.namelist()
            assert json.loads(archive.read("config.json"))["class_name"] == "Sequential"
        config = json.loads(download(page, "Config (.json)", f"mnist-{first}-config.json"))
        assert config["model"]["architecture"] == "dense", config
        assert config["train"]["train_size"] == 1_000, config
        history = list(csv.DictReader(io.StringIO(download(
            page, "History (.csv)", f"mnist-{first}-history.csv").decode())))
        assert len(history) == 1 and history[0]["epoch"] == "1", history
        assert 0 < float(history[0]["val_accuracy"]) <= 1, history

        # Delete: asked first; Cancel keeps it; Yes removes it from the table and the disk.
        page.get_by_role("button", name="Delete…").click()
        expect(alert(page, "Really delete run")).to_contain_text(label)
        shot(journey, "delete-asked")
        page.get_by_role("button", name="Cancel", exact=True).click()
        expect(alert(page, "Really delete run")).to_have_count(0)
        assert store.exists(first) and row_of(page, first)["Name"] == BOLD
        page.get_by_role("button", name="Delete…").click()
        page.get_by_role("button", name=f"Yes, delete {first}").click()
        expect(alert(page, f"Run {first} deleted.")).to_be_visible()
        expect(table_cell(page, first)).to_have_count(0)
        assert not store.exists(first), f"run {first} is still on disk"
        wait_for_compared(page, [second])
        expect(run_menu).to_have_count(0)
        shot(journey, "deleted")

        # Import a real .keras file: listed at once, tested, and now the sidebar's model.
        upload(page, MODEL_FILE_NAME, keras_file.read_bytes())
        imported = alert(page, f"Imported {MODEL_FILE_NAME} as run")
        expect(imported).to_be_visible(timeout=60_000)
        run_id = re.search(r"as run (\S{8}): test accuracy", imported.inner_text()).group(1)
        imported_runs.append(run_id)
        row = row_of(page, run_id)
        assert row["Epochs"] == "imported" and row["Status"] == "finished", row
        assert 0.5 < float(row["Test accuracy"]) <= 1, row
        expect(model_ready(page)).to_contain_text(
            f"Model ready — run {run_id}, imported from {MODEL_FILE_NAME}")
        shot(journey, "imported")
        before = model_ready(page).inner_text()

        # Random bytes and a picture under a .keras name: refused in words; the model stays.
        upload(page, "noise.keras", np.random.default_rng(0).bytes(4_096))
        refusal = alert(page, "noise.keras is not a Keras model file")
        expect(refusal).to_contain_text("Not imported.")
        details = page.get_by_test_id("stExpander").filter(has_text="Technical details")
        details.get_by_text("Technical details").click()
        detail = details.get_by_test_id("stCode")
        expect(detail).to_be_visible()
        assert re.search(r"\w+(Error|Exception)\b", detail.inner_text()), detail.inner_text()
        assert model_ready(page).inner_text() == before
        shot(journey, "noise-refused")
        upload(page, "x.keras", png_bytes(), "image/png")
        expect(alert(page, "x.keras is not a Keras model file")).to_contain_text(
            "Not imported.")
        expect(alert(page, "noise.keras")).to_have_count(0)
        assert model_ready(page).inner_text() == before
        shot(journey, "picture-refused")

        # Draw with the run still selected: the Draw page, with that run.
        page.get_by_role("button", name="Use for drawing").click()
        expect(page.get_by_role("heading", name="Draw a digit")).to_be_visible()
        wait_until_idle(page)
        expect(page).to_have_url(re.compile(rf"/draw\?(.*&)?run={re.escape(second)}(&|$)"))
        expect(model_ready(page)).to_contain_text(f"Model ready — run {second}")
        # Chosen here, and no longer the latest finished run (the import is newer).
        expect(sidebar(page).get_by_text("Your latest finished run, opened for you.")
               ).to_have_count(0)
        expect(page.get_by_text(DRAW_PROMPT)).to_be_visible()
        shot(journey, "drawing-with-it")
    finally:
        end_journey(journey)


def test_the_table_and_the_charts_show_accuracies_as_the_rest_of_the_app(
        browser, app_url, app_log, one_run):
    """A run that got 6,418 of 10,000 test digits right, 59 of 100 validation digits and
    59.11% of its training batches: the table says 64.18%, 59.00% and 59.11%, as the
    sidebar says 64.18%; the Compare chart's accuracy axis labels each tick differently.

    Keras reports accuracies as float32: 0.6418 arrives as 0.64179998…, which a display
    that cuts digits off (rather than rounding) shows as 64.17%.
    """
    from mnist_core.runs.store import RunStore

    run_id = one_run  # the newest run: a new session opens it
    run_dir = RunStore(recover=False).run_dir(run_id)
    meta = json.loads((run_dir / "run.json").read_text())
    meta["test_accuracy"] = float(np.float32(0.6418))
    (run_dir / "run.json").write_text(json.dumps(meta))
    history = json.loads((run_dir / "history.json").read_text())
    history[-1].update(accuracy=float(np.float32(0.5911)), val_accuracy=float(np.float32(0.59)))
    (run_dir / "history.json").write_text(json.dumps(history))

    journey = open_journey(browser, "runs-numbers", "1400x1000", app_log)
    page = journey.page
    try:
        open_app(page, app_url, "runs", "Runs")
        expect(model_ready(page)).to_contain_text(f"run {run_id}, 1 epoch, test accuracy 64.18%")
        toggle_row(page, run_id)
        wait_for_compared(page, [run_id])
        shot(journey, "numbers")
        problems = []
        row = row_of(page, run_id)
        shown = {column: f"{float(row[column]):.2%}"
                 for column in ("Test accuracy", "Val. accuracy", "Train accuracy")}
        if shown != {"Test accuracy": "64.18%", "Val. accuracy": "59.00%",
                     "Train accuracy": "59.11%"}:
            problems.append(f"the table cuts digits off: {shown} (accessible copy {row})")
        ticks = page.evaluate("() => {" + COMPARE_PLOTS + """
            return comparePlots().filter(plot => titleOf(plot) === 'Accuracy')
                .map(plot => [...plot.querySelectorAll('.ytick text')].map(t => t.textContent));
            }""")
        assert len(ticks) == 1, ticks
        if len(set(ticks[0])) != len(ticks[0]):
            problems.append(f"the Accuracy chart's y axis repeats labels: {ticks[0]}")
        assert not problems, "\n".join(problems)
    finally:
        end_journey(journey)
