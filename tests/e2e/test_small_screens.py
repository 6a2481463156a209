"""A phone-sized window and the keyboard: the Draw page reflows, a closed sidebar is
skipped by Tab."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import close_page, new_page
from .journey import assert_wholly_in_window
from .test_browser import LARGE, draw_digit, one, open_app, save_screenshot

PHONE = {"width": 390, "height": 844}


def test_on_a_phone_the_answer_comes_right_under_the_canvas(browser, app_url, dense_run,
                                                             artifacts):
    """At 390 px the canvas fits whole, and the prediction follows it, not the page's
    other pictures (before: the 28×28 input, full width, came in between)."""
    page = new_page(browser, PHONE)
    try:
        open_app(page, app_url, f"draw?run={dense_run}", "Draw a digit")
        assert_wholly_in_window(page, page.locator(".st-key-draw_input"), "the canvas")
        draw_digit(page, one(*LARGE))
        canvas_bottom = page.locator(".st-key-draw_input").bounding_box()
        answer = page.locator(".st-key-draw_answer").bounding_box()
        assert answer["y"] - (canvas_bottom["y"] + canvas_bottom["height"]) < 60, (
            canvas_bottom, answer)
        assert answer["x"] + answer["width"] <= PHONE["width"]
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways: {width} px"
        save_screenshot(page, artifacts / "draw-phone.png")
    finally:
        close_page(page)


def test_tab_skips_a_closed_sidebar(browser, app_url):
    """On a phone the sidebar starts closed; its 21 controls took 21 Tab presses on the
    way to the page's own (43 to Start training). Closed, none of them takes focus."""
    page = new_page(browser, PHONE)
    try:
        open_app(page, app_url, "train", "Train the network")
        expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true")
        # A new tab may first open the server's latest finished run and rerun: wait for
        # the page's own controls, then for the summary table's to settle.
        expect(page.get_by_role("button", name="Start training")).to_be_enabled()
        page.wait_for_timeout(1_000)
        focused = []
        for _ in range(30):
            page.keyboard.press("Tab")
            where = page.evaluate("""() => {
                const el = document.activeElement;
                return [!!el.closest('[data-testid="stSidebar"]'), el.innerText || ''];
            }""")
            focused.append(where)
            if "Start training" in where[1]:
                break
        assert not [text for in_sidebar, text in focused if in_sidebar], focused
        assert "Start training" in focused[-1][1], f"not reached in 30 presses: {focused}"
    finally:
        close_page(page)
