"""The learning views in a real browser, for the dense network and the convnet.

A quick model of each kind, then the Data, Evaluate, Inside and Runs pages: each must
render its figures without an error. Screenshots land in test-artifacts/ to be looked at.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .test_browser import (
    RERUN_TIMEOUT_MS,
    TRAINING_TIMEOUT_MS,
    exceptions,
    finished_alert,
    go_to,
    metric,
    open_app,
    save_screenshot,
    select_slider_option,
    set_number_input,
    sidebar,
    start_training,
    wait_until_idle,
)


def choose(page: Page, label: str, option: str) -> None:
    """Pick `option` in a sidebar selectbox, as a person does: open it, click the option."""
    sidebar(page).get_by_test_id("stSelectbox").filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_until_idle(page)


def train_one_epoch(page: Page) -> None:
    go_to(page, "Train", "Train the network")
    set_number_input(page, "Epochs", 1)
    start_training(page)
    expect(finished_alert(page)).to_be_visible(timeout=TRAINING_TIMEOUT_MS)


def plotly_titles(page: Page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .map(p => p.layout?.title?.text ?? '')""")


def check_views(page: Page, artifacts, kind: str) -> None:
    go_to(page, "Evaluate", "Evaluate the model")
    expect(metric(page, "Test accuracy")).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    expect(page.get_by_role("heading", name="Which digits it confuses")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    expect(exceptions(page)).to_have_count(0)
    save_screenshot(page, artifacts / f"evaluate-{kind}.png")

    go_to(page, "Inside the model", "Inside the model")
    for heading in ("1 · One digit", "2 · What the first layer looks for", "3 · Which units fire"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible(
            timeout=RERUN_TIMEOUT_MS)
    expect(page.locator(".js-plotly-plot")).to_have_count(4, timeout=RERUN_TIMEOUT_MS)
    expect(exceptions(page)).to_have_count(0)
    save_screenshot(page, artifacts / f"inside-{kind}.png")


def test_data_evaluate_inside_and_runs_render_for_both_kinds_of_model(
        fresh_page, app_url, artifacts):
    page = fresh_page
    open_app(page, app_url, "data", "Explore the data")
    expect(page.get_by_role("heading", name="Browse")).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(7, timeout=RERUN_TIMEOUT_MS)
    expect(exceptions(page)).to_have_count(0)
    save_screenshot(page, artifacts / "data.png")

    select_slider_option(page, "Training images", "5,000")
    train_one_epoch(page)
    check_views(page, artifacts, "dense")

    choose(page, "Architecture", "Convolutional (CNN)")
    expect(sidebar(page).get_by_text("Two blocks of 3×3 convolutions")).to_be_visible()
    train_one_epoch(page)
    check_views(page, artifacts, "cnn")
    assert any("conv" in title.lower() or "filter" in title.lower()
               for title in plotly_titles(page)), plotly_titles(page)

    go_to(page, "Runs", "Runs")
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    expect(exceptions(page)).to_have_count(0)
    save_screenshot(page, artifacts / "runs.png")
