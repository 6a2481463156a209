"""The Train page, used once from end to end, at each window size.

Every sidebar setting is changed once and its effect read on the page (the model
summary, the caption, the code, the address bar); the code is shown in two styles; a
training starts (its run is in the address bar at once), its charts are read while it
runs, and Stop ends it mid-epoch with a message that says exactly what is kept.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .journey import assert_text_not_truncated, choose_option, end_journey, open_journey
from .test_browser import (
    ACCURACY_CHART,
    LOSS_CHART,
    metric,
    metric_value,
    open_app,
    progress_bar,
    select_slider_option,
    set_number_input,
    sidebar,
    wait_until_idle,
)

RUN_IN_URL = re.compile(r"[?&]run=([A-Za-z0-9_-]{8})")
# 9,000 images in batches of 16: 563 steps an epoch, a few seconds, easy to stop mid-way.
STOPPABLE = "train?epochs=10&train_size=10000&batch_size=16"


def summary_table(page: Page):
    """The model summary table (its accessible copy lists each layer's type)."""
    return page.get_by_test_id("stDataFrame").filter(
        has=page.locator("th", has_text="Output shape"))


def move_slider(page: Page, label: str, presses: int) -> str:
    """Press the right arrow `presses` times on a sidebar slider; the value it then shows."""
    slider = sidebar(page).get_by_test_id("stSlider").filter(
        has=page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True))
    thumb = slider.locator('input[type="range"]')
    thumb.focus()
    for _ in range(presses):
        page.keyboard.press("ArrowRight")
    thumb.blur()
    wait_until_idle(page)
    return slider.get_by_test_id("stSliderThumbValue").inner_text().strip()


def y_range(page: Page, title: str) -> list[float]:
    return page.evaluate(
        """title => { const plot = [...document.querySelectorAll('.js-plotly-plot')]
            .find(p => (p.layout?.title?.text ?? '').includes(title));
            return plot._fullLayout.yaxis.range; }""", title)


def epoch_points(page: Page, title: str, trace: str) -> list[float]:
    return page.evaluate(
        """([title, name]) => { const plot = [...document.querySelectorAll('.js-plotly-plot')]
            .find(p => (p.layout?.title?.text ?? '').includes(title));
            const t = plot._fullData.find(t => t.name === name);
            return t ? Array.from(t.y) : []; }""", [title, trace])


def test_every_setting_the_code_a_training_and_a_stop(browser, app_url, app_log, viewport):
    journey = open_journey(browser, "train", viewport, app_log)
    page = journey.page
    try:
        open_app(page, app_url, "train", "Train the network")
        assert metric_value(page, "Total parameters") == "407,050"  # the classic model
        journey.shot("classic-model")

        # Every setting once, each seen on the page and in the address bar.
        set_number_input(page, "Epochs", 3)
        expect(page.get_by_text(re.compile(r"Training: 3 epoch\(s\)"))).to_be_visible()
        select_slider_option(page, "Batch size", "64")
        expect(page.get_by_text(re.compile(r"batch size 64"))).to_be_visible()
        assert move_slider(page, "Validation split", 2) == "0.20"
        expect(page.get_by_text(re.compile(r"20% held out for validation"))).to_be_visible()
        select_slider_option(page, "Training images", "5,000")
        select_slider_option(page, "Add drawing-style examples", "15,000")
        expect(page.get_by_text("15,000 drawing-style examples added to the training images")
               ).to_be_visible()
        set_number_input(page, "Hidden layers", 2)
        expect(metric(page, "Layers")).to_contain_text("3")
        expect(metric(page, "Total parameters")).to_contain_text(
            f"{784 * 512 + 512 + 512 * 512 + 512 + 5130:,}")
        select_slider_option(page, "Units per hidden layer", "256")
        expect(metric(page, "Total parameters")).to_contain_text(
            f"{784 * 256 + 256 + 256 * 256 + 256 + 2570:,}")
        assert move_slider(page, "Dropout", 4) == "0.20"
        expect(summary_table(page)).to_contain_text("Dropout")
        choose_option(page, sidebar(page).get_by_test_id("stSelectbox").filter(
            has_text="Activation"), "tanh")
        sidebar(page).get_by_text("Data augmentation", exact=True).click()
        expect(summary_table(page)).to_contain_text("RandomRotation")
        choose_option(page, sidebar(page).get_by_test_id("stSelectbox").filter(
            has_text="Optimizer"), "adam")
        select_slider_option(page, "Learning rate", "0.003")
        choose_option(page, sidebar(page).get_by_test_id("stSelectbox").filter(
            has_text="Learning-rate schedule"), "cosine decay to 0")
        expect(page.get_by_test_id("stMain").get_by_text("Compiled with optimizer")).to_contain_text(
            "optimizer adam (learning rate 0.003, cosine decay to 0)")
        expect(page).to_have_url(re.compile("lr_schedule=cosine"))
        for part in ("epochs=3", "batch_size=64", "validation_split=0.2", "train_size=5000",
                     "hidden_layers=2", "units=256", "dropout=0.2", "activation=tanh",
                     "augment=true", "optimizer=adam", "learning_rate=0.003",
                     "lr_schedule=cosine", "drawing_examples=15000"):
            assert part in page.url, (part, page.url)
        journey.shot("every-setting")

        # The code, in two of Keras' three styles.
        page.get_by_text("Show the code: this setup in plain Keras").click()
        code = page.get_by_test_id("stCode").first
        expect(code).to_contain_text('activation="tanh"')
        expect(code).to_contain_text("model.fit(")
        expect(code).to_contain_text("Left out: the app adds 15000 drawing-style examples")
        page.get_by_role("tab", name="Functional").click()
        expect(page.get_by_test_id("stCode").filter(has_text="keras.Model(")).to_be_visible()
        journey.shot("code")

        # The convnet, then a setup that trains quickly and can be stopped mid-epoch.
        choose_option(page, sidebar(page).get_by_test_id("stSelectbox").filter(
            has_text="Architecture"), "Convolutional (CNN)")
        expect(sidebar(page).get_by_text("Two blocks of 3×3 convolutions")).to_be_visible()
        expect(summary_table(page)).to_contain_text("Conv2D")
        open_app(page, app_url, STOPPABLE, "Train the network")
        start = page.get_by_role("button", name="Start training")
        assert_text_not_truncated(page, start, "the Start training button")
        before = RUN_IN_URL.search(page.url)  # a new tab opened the latest finished run
        start.click()
        page.wait_for_function(  # the new run is in the address bar at once
            """before => { const run = new URLSearchParams(location.search).get('run');
                return run !== null && run !== before; }""",
            arg=before.group(1) if before else None, timeout=3_000)
        run_id = RUN_IN_URL.search(page.url).group(1)
        expect(page.get_by_test_id("stMain").get_by_text(f"Run {run_id}")).to_be_visible()

        # Mid-run: the charts' y axes follow the epoch points, not the first batches.
        expect(progress_bar(page)).to_contain_text(re.compile(r"epoch 2/10, batch \d{2,}"),
                                                   timeout=120_000)
        page.wait_for_timeout(3_500)  # the charts redraw every 3 s
        loss_top = y_range(page, LOSS_CHART)[1]
        losses = epoch_points(page, LOSS_CHART, "train")
        assert losses and loss_top < 1.5 and max(losses) <= loss_top, (losses, loss_top)
        accuracy_bottom = y_range(page, ACCURACY_CHART)[0]
        accuracies = epoch_points(page, ACCURACY_CHART, "train")
        assert accuracies and 0.5 < accuracy_bottom <= min(accuracies), (accuracies,
                                                                          accuracy_bottom)
        journey.shot("training")

        # Stop mid-epoch: it says where it stopped and which weights the run keeps.
        page.get_by_role("button", name="Stop", exact=True).click()
        stopped = page.get_by_text(re.compile(r"Stopped during epoch \d+ of 10, after batch"))
        expect(stopped).to_be_visible(timeout=60_000)
        said = re.search(r"Stopped during epoch (\d+) of 10, after batch ([\d,]+) of 563\. The "
                         r"run keeps the weights of that moment: (\d+) full epochs? and ([\d,]+) "
                         r"batches of the next\.", stopped.inner_text())
        assert said, stopped.inner_text()
        epoch, batch, full, batches = said.groups()
        assert int(full) == int(epoch) - 1 and batch == batches
        expect(progress_bar(page)).to_have_count(0)
        wait_until_idle(page)  # mid-rerun, the old metrics are still shown beside the new
        assert metric_value(page, "Epochs done") == f"{full}/10"
        expect(metric(page, "Test accuracy")).to_be_visible()
        expect(page.get_by_text(f"Epoch {epoch} was stopped after {batch} of its 563 "
                                "batches")).to_be_visible()
        expect(sidebar(page).get_by_text(f"stopped during epoch {epoch}")).to_be_visible()
        journey.shot("stopped")
    finally:
        end_journey(journey)


def test_drawing_style_examples_are_made_with_a_progress_bar(browser, app_url, app_log):
    """A first training with drawing-style examples makes them, and says so as it goes."""
    journey = open_journey(browser, "train-drawing-examples", "1400x1000",
                           app_log)
    page = journey.page
    try:
        open_app(page, app_url, "train?epochs=1&train_size=1000&drawing_examples=5000",
                 "Train the network")
        expect(page.get_by_text("5,000 drawing-style examples added to the training images")
               ).to_be_visible()
        page.get_by_role("button", name="Start training").click()
        expect(progress_bar(page)).to_contain_text(
            re.compile(r"Making the drawing-style examples: [\d,]+ of 5,000"), timeout=60_000)
        journey.shot("making-examples")
        expect(page.get_by_text("Training finished")).to_be_visible(timeout=240_000)
        assert metric_value(page, "Epochs done") == "1/1"
    finally:
        end_journey(journey)
