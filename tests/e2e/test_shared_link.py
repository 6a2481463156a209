"""A link carries the setup: another person opening it gets the same sidebar and model."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import close_page, new_page
from .test_browser import metric_value, open_app, set_number_input, sidebar, slider_text


def test_a_shared_link_reproduces_the_setup(browser, app_url):
    author, reader = new_page(browser), new_page(browser)
    try:
        open_app(author, app_url, "train", "Train the network")
        set_number_input(author, "Epochs", 12)
        set_number_input(author, "Hidden layers", 2)
        expect(author).to_have_url(re.compile(r"hidden_layers=2"))
        expect(author).to_have_url(re.compile(r"epochs=12"))
        shared = author.url

        reader.goto(shared)
        expect(reader.get_by_role("heading", name="Train the network")).to_be_visible(
            timeout=90_000)
        expect(sidebar(reader).get_by_label("Epochs", exact=True)).to_have_value("12")
        expect(sidebar(reader).get_by_label("Hidden layers", exact=True)).to_have_value("2")
        assert slider_text(reader, "Units per hidden layer") == "512"
        total = f"{784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10:,}"
        assert metric_value(reader, "Total parameters") == total
        assert metric_value(author, "Total parameters") == total
    finally:
        close_page(reader)
        close_page(author)


def test_a_link_with_absurd_values_is_clamped_and_says_so(browser, app_url):
    page = new_page(browser)
    try:
        open_app(page, app_url, "train?epochs=999999&optimizer=%3Cscript%3E", "Train the network")
        # The toasts first: they go after a while, the values stay.
        expect(page.get_by_text(re.compile(r"From the link: epochs"))).to_be_visible()
        expect(page.get_by_text(re.compile(r"From the link: optimizer"))).to_be_visible()
        expect(sidebar(page).get_by_label("Epochs", exact=True)).to_have_value("50")
        expect(page.get_by_test_id("stException")).to_have_count(0)
    finally:
        close_page(page)
