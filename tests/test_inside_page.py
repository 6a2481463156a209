"""AppTest tests of the "Inside the model" page: the first layer's weights, the hidden
activations and the saliency maps, for a test image chosen by `inspect_index` (as the Data
and Evaluate pages set it) and for a drawing from the Draw page, with a dense model and a CNN.

Each model is one quick training from the Draw page (1 epoch, few images); each test then
opens its own session attached to that run by its `?run=` id, as a reload would.
"""

from __future__ import annotations

import json
import threading

import keras
import numpy as np
import pytest
from apptest_helpers import ROOT, TIMEOUT, app_at, job_of, wait_for_training
from job_helpers import wait_until
from streamlit.testing.v1 import AppTest

SEVEN = 0  # mnist.x_test[0] is a 7 that every trained model reads right
ZERO = 3  # mnist.x_test[3] is a 0
TEST_IMAGE, DRAWING = "A test image", "My drawing"


def quick_train(architecture: str, train_size: int, hidden_layers: int | None = None) -> str:
    """One epoch of `architecture` on the first `train_size` images, from the Draw page."""
    at = app_at("draw")
    at.selectbox(key="architecture").set_value(architecture).run()
    if hidden_layers is not None:
        at.number_input(key="hidden_layers").set_value(hidden_layers).run()
    at.select_slider(key="train_size").set_value(train_size).run()
    next(b for b in at.button if b.label == "Quick train (1 epoch)").click().run()
    wait_for_training(at)
    job = job_of(at)
    assert job.progress().status.value == "finished", job.progress().error
    assert job.model_config.architecture == architecture
    return job.run_id


@pytest.fixture(scope="module")
def dense_run() -> str:
    return quick_train("dense", 5_000)


@pytest.fixture(scope="module")
def cnn_run() -> str:
    return quick_train("cnn", 1_000)


def inside_page(run_id: str | None = None, **session) -> AppTest:
    """A new session on the Inside page, attached to `run_id`, with `session` state set first."""
    from ui.session import LATEST_CHECKED

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if run_id is not None:
        at.query_params["run"] = run_id
    at.session_state[LATEST_CHECKED] = True  # not the latest run of other tests
    for key, value in session.items():
        at.session_state[key] = value
    at.switch_page("pages/inside.py")
    at.run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def chart_titles(at: AppTest) -> list[str]:
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    return [spec["layout"].get("title", {}).get("text", "") for spec in specs]


def widget(widgets, label: str):
    """The one widget of a kind with this label (the page gives its widgets no keys)."""
    (found,) = [w for w in widgets if w.label == label]
    return found


def source_switch(at: AppTest):
    (switch,) = [s for s in at.segmented_control if s.options == [TEST_IMAGE, DRAWING]]
    return switch


def test_without_a_model_the_page_shows_the_ready_reader():
    at = inside_page()
    assert not at.exception
    assert any("the ready reader shipped with the app" in c.value for c in at.caption)
    assert at.get("plotly_chart")


def test_without_a_model_or_reader_the_page_says_so_and_links_to_train(without_reader):
    at = inside_page()
    assert at.title[0].value == "Inside the model"
    assert any("No trained model yet" in w.value for w in at.warning)
    assert [link.proto.page for link in at.page_link] == ["train"]
    assert not at.get("plotly_chart")


def test_a_test_image_chosen_by_inspect_index_is_shown_inside_the_dense_model(dense_run, mnist):
    at = inside_page(dense_run, inspect_index=ZERO)
    assert source_switch(at).value == TEST_IMAGE
    assert at.number_input[0].value == ZERO
    assert any(f"test image {ZERO}, labelled **0**" in c.value for c in at.caption)
    assert not at.warning and not at.error
    shown = metrics(at)
    assert shown["Prediction"] == "0" and shown["Label"] == "0"
    assert any("weights after epoch 1/1" in c.value for c in at.caption)  # the epoch is stated
    titles = chart_titles(at)
    assert titles[0].startswith("Softmax output")
    assert titles[1] == "hidden_1: weights of 16 units (28×28 each)"
    assert titles[2].startswith("hidden_1 (Dense): 512 units, ") and "firing" in titles[2]
    assert titles[3].startswith("Why 0 and not ")
    assert [h.value for h in at.header] == ["1 · One digit", "2 · What the first layer looks for",
                                             "3 · Which units fire", "4 · Why 0?"]


def test_the_controls_change_units_method_and_rival(dense_run):
    at = inside_page(dense_run, inspect_index=SEVEN)
    assert metrics(at)["Prediction"] == "7"
    widget(at.segmented_control, "Which units").set_value("Most active for this input").run()
    widget(at.select_slider, "How many").set_value(32).run()
    assert not at.exception
    assert "weights of 32 units" in chart_titles(at)[1]

    widget(at.segmented_control, "Method").set_value("Occlusion").run()
    widget(at.selectbox, "And not").set_value(1).run()
    assert not at.exception
    assert chart_titles(at)[-1] == "Why 7 and not 1? (occlusion)"
    assert any("Occlusion: 6×6 squares" in c.value for c in at.caption)


def test_an_injected_drawing_is_the_default_input(dense_run, mnist):
    drawing = mnist.x_test[SEVEN].astype(np.float32) / 255
    at = inside_page(dense_run, drawing=drawing)
    assert source_switch(at).value == DRAWING
    assert any("Your drawing" in c.value for c in at.caption)
    assert metrics(at)["Prediction"] == "7"
    assert "Label" not in metrics(at)
    assert chart_titles(at)[-1].startswith("Why 7 and not ")
    assert len(at.get("plotly_chart")) == 4

    source_switch(at).set_value(TEST_IMAGE).run()  # and a test image, from the same page
    assert not at.exception
    assert at.number_input[0].value == 0


def test_choosing_my_drawing_with_nothing_drawn_points_to_the_draw_page(dense_run):
    at = inside_page(dense_run)
    assert source_switch(at).value == TEST_IMAGE  # nothing drawn: a test image by default
    source_switch(at).set_value(DRAWING).run()
    assert not at.exception
    assert any("Nothing drawn yet" in i.value for i in at.info)
    assert "draw" in [link.proto.page for link in at.page_link]
    assert len(at.get("plotly_chart")) == 0


def test_the_cnn_shows_its_filters_and_feature_maps(cnn_run, mnist):
    at = inside_page(cnn_run, inspect_index=SEVEN,
                     drawing=mnist.x_test[1].astype(np.float32) / 255)
    assert source_switch(at).value == TEST_IMAGE  # asked for by another page: it wins
    titles = chart_titles(at)
    assert titles[1] == "conv_1: weights of 16 filters (3×3 each)"
    assert titles[2] == "conv_1 (Conv2D): 32 feature maps of 26×26"
    assert titles[3].startswith("Why ")
    layers = widget(at.selectbox, "Convolution layer")
    assert list(layers.options) == ["conv_1", "conv_2"]
    layers.set_value("conv_2").run()
    assert not at.exception
    assert chart_titles(at)[2] == "conv_2 (Conv2D): 64 feature maps of 11×11"

    source_switch(at).set_value(DRAWING).run()
    assert not at.exception
    assert any("Your drawing" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 4


def test_the_deeper_cnn_shows_each_of_its_four_convolutions():
    """Chosen in the sidebar and trained from the page: its convolutions keep 28×28 maps
    ("same" padding) until the first pooling; the batch normalisations are not probed."""
    at = inside_page(quick_train("deep_cnn", 1_000), inspect_index=SEVEN)
    titles = chart_titles(at)
    assert titles[1] == "conv_1_1: weights of 16 filters (3×3 each)"
    assert titles[2] == "conv_1_1 (Conv2D): 32 feature maps of 28×28"
    layers = widget(at.selectbox, "Convolution layer")
    assert list(layers.options) == ["conv_1_1", "conv_1_2", "conv_2_1", "conv_2_2"]
    layers.set_value("conv_2_2").run()
    assert not at.exception
    assert chart_titles(at)[2] == "conv_2_2 (Conv2D): 64 feature maps of 14×14"
    assert any("Deeper CNN (batch norm)" in c.value for c in at.caption)


def test_a_new_request_wins_once_then_the_drawing_comes_back(dense_run, mnist):
    """Data and Evaluate set "inspect_index" and open this page: that image is shown. On a
    later visit the user's drawing is shown again, until another image is requested."""
    drawing = mnist.x_test[SEVEN].astype(np.float32) / 255
    at = inside_page(dense_run, inspect_index=ZERO, drawing=drawing)
    assert source_switch(at).value == TEST_IMAGE and at.number_input[0].value == ZERO

    at.switch_page("pages/home.py").run()
    at.switch_page("pages/inside.py").run()  # back through the menu: the request is old news
    assert not at.exception
    assert source_switch(at).value == DRAWING
    assert metrics(at)["Prediction"] == "7"

    at.switch_page("pages/home.py").run()
    at.session_state["inspect_index"] = 1  # another page asks for test image 1
    at.switch_page("pages/inside.py").run()
    assert source_switch(at).value == TEST_IMAGE and at.number_input[0].value == 1
    at.number_input[0].set_value(2).run()  # within the visit, the choice stays the user's
    assert source_switch(at).value == TEST_IMAGE and at.number_input[0].value == 2
    assert any("test image 2, labelled" in c.value for c in at.caption)


def test_a_network_without_hidden_layers_shows_its_digit_templates():
    at = inside_page(quick_train("dense", 1_000, hidden_layers=0), inspect_index=SEVEN)
    titles = chart_titles(at)
    assert titles[1] == "output: weights of 10 digits (28×28 each)"
    assert widget(at.segmented_control, "Which digits").options == ["First units"]
    assert widget(at.select_slider, "How many").options == ["8", "10"]
    assert any("No hidden layer" in c.value for c in at.caption)
    assert len(titles) == 3  # softmax, templates, saliency: no activations to show
    assert titles[2].startswith("Why ")


class HoldAfterFirstEpoch(keras.callbacks.Callback):
    """Keeps a run training after its first epoch's snapshot until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def on_epoch_end(self, epoch, logs=None) -> None:
        if epoch == 0:
            self.release.wait(timeout=120)


def test_a_model_still_training_is_shown_at_its_latest_epoch(mnist):
    from mnist_core.runs.owners import Owner
    from mnist_core.runs.train import TrainConfig, TrainingJob
    from ui.server import runs

    gate = HoldAfterFirstEpoch()
    job = TrainingJob(mnist, train_config=TrainConfig(epochs=2, train_size=1_000),
                      callbacks=[gate])
    runs().submit(job, Owner("another session"))
    try:
        wait_until(job, lambda progress: progress.history)  # epoch 1 done, its snapshot taken
        at = inside_page(job.run_id, inspect_index=SEVEN)
        assert job.progress().status.value == "running"
        captions = " ".join(c.value for c in at.caption)
        assert "weights after epoch 1/2: training continues" in captions
        assert len(at.get("plotly_chart")) == 4
        assert chart_titles(at)[-1].startswith("Why ")
    finally:
        gate.release.set()
    wait_until(job, lambda progress: progress.status.is_done)
    at.run()
    assert not at.exception
    assert any("weights after epoch 2/2" in c.value for c in at.caption)
