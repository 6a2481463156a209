"""AppTest tests of the Data page: browse by set, digit and page; look one image up."""

from __future__ import annotations

import json

import numpy as np
import pytest
from apptest_helpers import ROOT, app_at

from mnist_core import explore


@pytest.fixture
def at():
    return app_at("data")


def grid_titles(at) -> list[str]:
    """The titles over the browse grid's images, as the browser receives them."""
    browse = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [annotation["text"] for annotation in browse["layout"]["annotations"]]


def number_input(at, label_start: str):
    return next(w for w in at.number_input if w.label.startswith(label_start))


def test_the_page_renders_the_training_set_by_default(at, mnist):
    assert not at.exception
    assert at.title[0].value == "Explore the data"
    assert at.radio(key="data_set").value == "train"
    assert grid_titles(at) == [f"#{i}: {mnist.y_train[i]}" for i in range(explore.PAGE_SIZE)]
    assert "60,000 images in the training set: page 1 of 1250" in at.caption[0].value
    # The browse grid, class balance, pixel histogram, mean images and three preparation steps.
    assert len(at.get("plotly_chart")) == 7
    assert not at.button  # "Look inside" is for test images only


def test_set_digit_and_page_change_the_grid(at, mnist):
    at.radio(key="data_set").set_value("test").run()
    assert grid_titles(at) == [f"#{i}: {mnist.y_test[i]}" for i in range(explore.PAGE_SIZE)]

    at.selectbox(key="data_digit").set_value(4).run()
    fours = np.flatnonzero(mnist.y_test == 4)
    assert grid_titles(at) == [f"#{i}: 4" for i in fours[:explore.PAGE_SIZE]]
    assert f"{len(fours):,} images of the digit 4 in the test set" in at.caption[0].value

    last_page = explore.page_count(fours)
    number_input(at, "Page").set_value(last_page).run()
    assert not at.exception
    assert grid_titles(at) == [f"#{i}: 4" for i in fours[(last_page - 1) * explore.PAGE_SIZE:]]
    assert f"page {last_page} of {last_page}" in at.caption[0].value


def test_index_search_shows_that_image_and_its_label(at, mnist):
    index = 12_345
    number_input(at, "Image number in the training set").set_value(index).run()
    label = int(mnist.y_train[index])
    assert {m.label: m.value for m in at.metric}["Label"] == str(label)
    pixels = json.loads(at.get("plotly_chart")[4].proto.spec)
    assert pixels["layout"]["title"]["text"] == f"#{index}, label {label}"
    assert pixels["layout"]["xaxis"]["ticks"] == pixels["layout"]["yaxis"]["ticks"] == ""
    one_hot = at.dataframe[0].value.iloc[0].tolist()
    assert one_hot == [int(digit == label) for digit in range(10)]


def test_look_inside_button_hands_the_test_image_to_the_inside_page(at, mnist):
    at.radio(key="data_set").set_value("test").run()
    number_input(at, "Image number in the test set").set_value(42).run()
    at.button[0].click().run()
    assert at.session_state["inspect_index"] == 42
    if '"pages/inside.py"' in (ROOT / "app.py").read_text():  # once the Inside page is routed
        assert not at.exception
        assert at.title[0].value != "Explore the data"
