"""The Draw page, used once from end to end by a newcomer, at each window size.

A server of its own with no saved runs: the visitor gets a first model with one click,
draws with the mouse (a tall 1, a small fat 0, a 7), changes the pen, clears, keeps a
labelled drawing, downloads and forgets the collection, uploads a blank picture, a file
that is no picture and a photo, and sets up the network that reads drawings best.
"""

from __future__ import annotations

import io
import re

import numpy as np
from PIL import Image
from playwright.sync_api import Page, expect

from mnist_core.stroke_digits import STYLES
from mnist_core.wording import a_digit

from .journey import (
    assert_text_not_truncated,
    assert_wholly_in_window,
    choose_option,
    end_journey,
    image_heights,
    open_journey,
)
from .test_browser import (
    DRAW_PROMPT,
    LARGE,
    TOP_LEFT_SMALL,
    canvas,
    clear_canvas,
    draw_digit,
    go_to,
    metric,
    metric_value,
    one,
    open_app,
    select_slider_option,
    seven,
    sidebar,
    wait_until_idle,
    zero,
)

UPLOAD_PROMPT = "Upload a picture of one handwritten digit to see what the network thinks it is."
STEP_IMAGE_MAX_PX = 300


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def photo_of_a_seven() -> bytes:
    """A dark 7 on light paper, as a phone would photograph one."""
    paper = np.full((240, 240), 225, np.uint8)
    ink = Image.new("L", (240, 240), 0)
    from PIL import ImageDraw

    pen = ImageDraw.Draw(ink)
    pen.line([(60, 50), (180, 50), (110, 200)], fill=255, width=16)
    return png(np.where(np.asarray(ink) > 0, 30, paper).astype(np.uint8))


def upload(page: Page, name: str, data: bytes, mime: str) -> None:
    page.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(
        {"name": name, "mimeType": mime, "buffer": data})
    wait_until_idle(page)


def set_main_slider(page: Page, label: str, value: int) -> None:
    """Move a slider of the page (not the sidebar) with the keyboard to `value`."""
    slider = page.get_by_test_id("stMain").get_by_test_id("stSlider").filter(
        has=page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True))
    thumb = slider.locator('input[type="range"]')
    thumb.focus()
    for _ in range(60):
        now = int(float(thumb.input_value()))
        if now == value:
            break
        page.keyboard.press("ArrowRight" if now < value else "ArrowLeft")
    thumb.blur()
    wait_until_idle(page)
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text(str(value))


def answer(page: Page):
    return page.locator(".st-key-draw_answer")


def test_a_newcomer_draws_uploads_and_sets_up_the_best_reader(browser, newcomer_app, viewport):
    url, log = newcomer_app
    journey = open_journey(browser, "draw", viewport, log)
    page = journey.page
    try:
        open_app(page, url, "draw", "Draw a digit")
        # A fresh server's first request at a page's address: the page inside the app's
        # frame (Streamlit would run a file of pages/ alone), its links and settings.
        expect(sidebar(page).get_by_role("link", name="Home", exact=True)).to_be_visible()
        expect(sidebar(page).get_by_label("Epochs")).to_be_visible()
        expect(page.get_by_test_id("stAlert").filter(has_text="No model of your own yet")
               ).to_contain_text("the ready reader")
        expect(sidebar(page).get_by_text("No model of your own yet")).to_be_visible()
        assert "run=" not in page.url  # no saved run to open
        expect(canvas(page)).to_be_visible()
        assert_wholly_in_window(page, page.locator(".st-key-draw_input"), "the canvas")
        journey.shot("no-model")

        # Before any training, the ready reader reads a 7 at once.
        assert draw_digit(page, seven(*LARGE)) == "7"
        expect(metric(page, "The ready reader")).to_have_count(0)
        journey.shot("ready-reader")
        clear_canvas(page)

        # One click: a first model, and the address bar holds its run at once.
        select_slider_option(page, "Training images", "5,000")
        page.get_by_role("button", name="Quick train (1 epoch)").click()
        expect(page).to_have_url(re.compile(r"[?&]run=[A-Za-z0-9_-]{8}"), timeout=5_000)
        expect(page.get_by_text(DRAW_PROMPT)).to_be_visible(timeout=120_000)
        expect(sidebar(page).get_by_text("Model ready")).to_be_visible()
        assert_wholly_in_window(page, page.locator(".st-key-draw_input"), "the canvas")
        journey.shot("ready")

        # A tall 1: the answer, the ready reader's beside it, and the preparation in
        # small squares on one row.
        assert draw_digit(page, one(*LARGE)) == "1"
        expect(metric(page, "The ready reader").get_by_test_id("stMetricValue")).to_have_text(
            re.compile(r"^1, \d+%$"))
        assert_text_not_truncated(page, metric(page, "Probability"), "the probability")
        verdict = answer(page).get_by_test_id("stAlert").first.inner_text()
        assert "It's a 1." in verdict or ("Not sure — 1 or" in verdict
                                          and "copies" in verdict), verdict
        steps = page.locator(".st-key-preparation_steps")
        heights = image_heights(page, steps)
        assert len(heights) == 4 and max(heights) <= STEP_IMAGE_MAX_PX, heights
        tops = {round(img.bounding_box()["y"]) for img in steps.locator("img").all()}
        assert len(tops) == 1, f"the four steps are not on one row: {tops}"
        journey.shot("tall-one")

        # A fatter pen on a small 0: the hint to draw larger.
        clear_canvas(page)
        set_main_slider(page, "Pen width", 34)
        draw_digit(page, zero(*TOP_LEFT_SMALL))
        expect(page.get_by_text("Draw it larger, or with a thinner pen.")).to_be_visible()
        journey.shot("fat-pen")

        # Keep a labelled 7, download the collection, forget it.
        clear_canvas(page)
        set_main_slider(page, "Pen width", 18)
        assert draw_digit(page, seven(*LARGE)) == "7"
        choose_option(page, page.get_by_test_id("stSelectbox").filter(
            has_text="This drawing is a"), "7")
        page.get_by_role("button", name="Keep it").click()
        expect(page.get_by_text("Kept as a 7.")).to_be_visible()
        expect(metric(page, "My drawings")).to_contain_text("1")
        with page.expect_download() as download:
            page.get_by_role("button", name="Download (.npz)").click()
        assert download.value.suggested_filename == "my_drawings.npz"
        journey.shot("kept")
        page.get_by_role("button", name="Forget them").click()
        expect(page.get_by_text("Label a drawing and keep it to build your own test set.")
               ).to_be_visible()

        # Upload: a blank picture, a file that is no picture, then a photo of a 7.
        page.get_by_text("Upload a picture", exact=True).click()
        expect(page.get_by_text(UPLOAD_PROMPT)).to_be_visible()
        expect(page.get_by_text(DRAW_PROMPT)).to_have_count(0)
        upload(page, "blank.png", png(np.full((200, 200), 255, np.uint8)), "image/png")
        expect(page.get_by_text("this picture looks blank")).to_be_visible()
        shown = page.get_by_test_id("stImage").filter(has_text="blank.png")
        expect(shown).to_be_visible()
        assert shown.evaluate(
            "el => getComputedStyle(el.closest('[data-testid=stVerticalBlock]')).borderStyle"
        ) != "none", "the white picture has no border on the white page"
        journey.shot("blank-upload")
        upload(page, "scan.pdf", b"%PDF-1.4 not a picture", "application/pdf")
        expect(page.get_by_text("scan.pdf is not a picture this app can read")).to_be_visible()
        upload(page, "seven.png", photo_of_a_seven(), "image/png")
        expect(metric(page, "Prediction")).to_be_visible()
        assert metric_value(page, "Prediction") == "7"
        expect(page.get_by_text("scan.pdf is not a picture")).to_have_count(0)
        journey.shot("photo-upload")

        # The network that reads drawings best, set up in one click.
        page.get_by_role("button", name="Set up the network that reads drawings best").click()
        expect(sidebar(page).get_by_role("combobox", name="Architecture")).to_have_value(
            "Deeper CNN (batch norm)")
        expect(page).to_have_url(re.compile(r"architecture=deep_cnn"))
        expect(page).to_have_url(re.compile(r"drawing_examples=15000"))
        go_to(page, "Train", "Train the network")
        expect(page.get_by_text("15,000 drawing-style examples added to the training images")
               ).to_be_visible()
        assert metric_value(page, "Total parameters") == "871,402"
        journey.shot("best-reader-set-up")
    finally:
        end_journey(journey)


# Twenty drawings in the styles people differ in, each at its own place and size.
HANDWRITING = [(digit, draw) for digit, draw in STYLES.values()][:20]


def keep(page: Page, digit: int, strokes) -> None:
    """Draw a digit, label it, keep it, and start again on a clear canvas."""
    draw_digit(page, strokes)
    choose_option(page, page.get_by_test_id("stSelectbox").filter(
        has_text="This drawing is a"), str(digit))
    page.get_by_role("button", name="Keep it").click()
    expect(page.get_by_text(f"Kept as {a_digit(digit)}.").last).to_be_visible()
    clear_canvas(page)


def test_twenty_drawings_adapt_a_copy_that_is_kept_or_discarded(browser, app_url, app_log,
                                                                dense_run):
    journey = open_journey(browser, "draw-adapt", "1400x1000", app_log)
    page = journey.page
    try:
        open_app(page, app_url, f"draw?run={dense_run}", "Draw a digit")
        for number, (digit, draw) in enumerate(HANDWRITING[:19]):
            keep(page, digit, draw(40 + 3 * number, 30 + 2 * number, 190 - 2 * number))
        expect(metric(page, "My drawings")).to_contain_text("19")
        expect(page.get_by_text("you have 19")).to_be_visible()
        expect(page.get_by_role("button", name="Adapt to my handwriting")).to_have_count(0)
        digit, draw = HANDWRITING[19]
        keep(page, digit, draw(60, 40, 200))

        # Adapt, then discard: the report goes, the run stays.
        page.get_by_role("button", name="Adapt to my handwriting").click()
        held_out = metric(page, "My drawings, held out")
        expect(held_out).to_be_visible(timeout=120_000)
        expect(held_out).to_contain_text(re.compile(r"\d+%.*points.*from \d+%", re.S))
        expect(metric(page, "MNIST test set")).to_contain_text(re.compile(r"points.*from", re.S))
        expect(page.get_by_text(f"A copy of run {dense_run}, fine-tuned on your 20 drawings")
               ).to_be_visible()
        journey.shot("adapted")
        page.get_by_role("button", name="Discard it").click()
        expect(held_out).to_have_count(0)
        assert f"run={dense_run}" in page.url

        # Adapt again and keep it: a new run, in the address bar and the sidebar.
        page.get_by_role("button", name="Adapt to my handwriting").click()
        expect(held_out).to_be_visible(timeout=120_000)
        page.get_by_role("button", name="Keep it as a new run").click()
        expect(page.get_by_text("The adapted model is a new run")).to_be_visible(
            timeout=60_000)
        page.wait_for_function(
            "old => { const run = new URLSearchParams(location.search).get('run');"
            " return run !== null && run !== old; }", arg=dense_run)
        expect(sidebar(page).get_by_text(f"adapted from run {dense_run} to 20 of your drawings")
               ).to_be_visible()
        expect(metric(page, "My drawings")).to_contain_text("20")  # the drawings stay
        journey.shot("kept-adapted")
    finally:
        end_journey(journey)
