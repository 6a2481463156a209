"""AppTest tests: every page renders, training runs from the Train page, Draw predicts.

AppTest runs the real script without a browser; the canvas's JavaScript never runs,
so drawings are injected through the canvas's session-state key.
"""

from __future__ import annotations

import json

import pytest
from apptest_helpers import (
    ROOT,
    TIMEOUT,
    app_at,
    canvas_key,
    canvas_state,
    drawn_digit,
    job_of,
    wait_for_training,
)
from streamlit.testing.v1 import AppTest


@pytest.mark.parametrize(
    "page, heading",
    [("home", "MNIST Playground"), ("data", "Explore the data"), ("train", "Train the network"),
     ("runs", "Runs"), ("draw", "Draw a digit"), ("evaluate", "Evaluate the model"),
     ("inside", "Inside the model")],
)
def test_every_page_renders_without_exception(page, heading):
    at = app_at(page)
    assert not at.exception
    assert at.title[0].value == heading


def test_home_shows_the_data_and_its_preparation(mnist):
    at = app_at("home")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Training images"] == f"{len(mnist.x_train):,}"
    assert metrics["Test images"] == f"{len(mnist.x_test):,}"
    source = next(c for c in at.caption if c.value.startswith("Source:"))
    assert source.value == "Source: MNIST (local file)"  # the path is in its tooltip
    assert "MNIST_DATA" in source.proto.help
    sidebar_source = next(c for c in at.sidebar.caption if c.value.startswith("Data:"))
    assert sidebar_source.value == "Data: MNIST (local file)"
    assert not at.warning  # the full dataset, not the offline sample


def test_train_page_shows_the_classic_model_summary():
    at = app_at("train")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Total parameters"] == "407,050"
    rows = at.dataframe[0].value
    assert list(rows["Parameters"]) == [401_920, 5_130]


def test_sidebar_changes_the_model_summary():
    at = app_at("train")
    at.number_input(key="hidden_layers").set_value(2).run()
    at.select_slider(key="units").set_value(64).run()
    metrics = {m.label: m.value for m in at.metric}
    expected = (784 * 64 + 64) + (64 * 64 + 64) + (64 * 10 + 10)
    assert metrics["Total parameters"] == f"{expected:,}"


def test_training_from_the_train_page_produces_history_and_charts():
    at = app_at("train")
    at.number_input(key="epochs").set_value(1)
    at.select_slider(key="train_size").set_value(5_000).run()
    at.button[0].click().run()  # Start training
    assert job_of(at).train_config.train_size == 5_000
    wait_for_training(at)
    assert not at.exception
    progress = job_of(at).progress()
    assert progress.status.value == "finished"
    assert len(progress.history) == 1
    assert len(at.get("plotly_chart")) == 2  # loss and accuracy
    assert any("Training finished" in s.value for s in at.success)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Epochs done"] == "1/1"
    # One epoch on 5,000 images lands at 79–87% (12 runs); chance is 10%.
    assert float(metrics["Test accuracy"].rstrip("%")) > 70


def test_draw_without_a_model_or_reader_offers_quick_training(without_reader):
    at = app_at("draw")
    assert "No trained model yet" in at.warning[0].value
    labels = [b.label for b in at.button]
    assert "Quick train (1 epoch)" in labels
    assert "No trained model yet." in [c.value for c in at.sidebar.caption]


def test_draw_without_a_model_reads_with_the_ready_reader_at_once(mnist):
    """A newcomer draws a 7 and gets a reading without training: the reader's."""
    from ui.reader import ready_reader

    at = app_at("draw")
    (note,) = [i.value for i in at.info if "No model of your own yet" in i.value]
    assert f"{ready_reader().info.test_accuracy:.2%}" in note and "Train page" in note
    assert "Quick train (1 epoch)" in [b.label for b in at.button]
    index = 0  # a 7
    at.session_state[canvas_key(at)] = canvas_state(drawn_digit(mnist, index))
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Prediction"] == str(mnist.y_test[index])
    assert "The ready reader" not in metrics  # no yardstick beside the reader itself
    assert "run_id" not in at.session_state and not at.session_state["my_drawings"]


def test_draw_predicts_an_injected_drawing_and_prompts_when_empty(mnist):
    at = app_at("draw")
    at.select_slider(key="train_size").set_value(10_000).run()
    next(b for b in at.button if b.label == "Quick train (1 epoch)").click().run()
    wait_for_training(at)
    assert at.session_state["model_run_id"] == at.session_state["run_id"]
    assert any("Draw a digit on the canvas" in i.value for i in at.info)  # empty canvas

    index = 0  # a 7 in the test set, read correctly by any trained model
    at.session_state[canvas_key(at)] = canvas_state(drawn_digit(mnist, index))
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Prediction"] == str(mnist.y_test[index])
    assert len(at.get("plotly_chart")) == 1  # the softmax bars
    assert not any("Draw a digit on the canvas" in i.value for i in at.info)

    next(b for b in at.button if b.label == "Clear").click().run()
    assert "Prediction" not in {m.label for m in at.metric}
    assert any("Draw a digit on the canvas" in i.value for i in at.info)


def start_run(at: AppTest, epochs: int, train_size: int) -> None:
    at.number_input(key="epochs").set_value(epochs)
    at.select_slider(key="train_size").set_value(train_size).run()
    next(b for b in at.button if b.label == "Start training").click().run()


def test_clicking_widgets_during_a_run_does_not_stop_it():
    at = app_at("train")
    start_run(at, epochs=3, train_size=5_000)
    job = job_of(at)
    at.number_input(key="epochs").set_value(7).run()  # change the sidebar mid-run
    at.select_slider(key="batch_size").set_value(64).run()
    assert job_of(at) is job
    if not job.progress().status.is_done:
        captions = " ".join(c.value for c in at.caption)
        assert "the new values apply to the next run" in captions
        start = next(b for b in at.button if b.label == "Start training")
        assert start.disabled  # never two runs of one user at once
    wait_for_training(at)
    progress = job.progress()
    assert progress.status.value == "finished"
    assert len(progress.history) == 3  # the run kept its own settings
    assert job.train_config.batch_size == 128


def test_a_reload_with_the_run_id_reattaches_to_the_run():
    at = app_at("train")
    start_run(at, epochs=2, train_size=3_000)
    run_id = at.session_state["run_id"]
    assert at.query_params["run"] == run_id

    reloaded = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    reloaded.query_params["run"] = run_id
    reloaded.switch_page("pages/train.py")
    reloaded.run()
    assert not reloaded.exception
    assert reloaded.session_state["run_id"] == run_id
    assert "owner" not in reloaded.session_state  # a new session: only the link ties it
    assert any(run_id in c.value for c in reloaded.caption)
    wait_for_training(reloaded)
    assert any("Training finished" in s.value for s in reloaded.success)


def test_an_unknown_run_id_in_the_url_is_dropped_with_a_message():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["run"] = "AAAAAAAA"
    at.run()
    assert not at.exception
    assert "run_id" not in at.session_state
    assert "run" not in at.query_params
    assert any("AAAAAAAA" in t.value for t in at.toast)


def test_train_shows_the_setup_as_keras_code_in_three_styles():
    """The code follows the sidebar: another optimizer changes all three scripts."""
    at = app_at("train")
    assert not at.exception
    assert len(at.code) == 3
    assert all("RMSprop(learning_rate=0.001)" in block.value for block in at.code)
    assert "keras.Sequential(" in at.code[0].value
    assert "keras.Model(inputs=" in at.code[1].value
    assert "class MnistModel(keras.Model)" in at.code[2].value
    at.selectbox(key="optimizer").set_value("adam").run()
    assert all("Adam(learning_rate=0.001)" in block.value for block in at.code)


def test_the_model_summary_counts_parameters_with_thousands_separators():
    """The layer table showed 401920 under a metric saying 407,050."""
    at = app_at("train")
    (table,) = [d for d in at.dataframe if "Parameters" in d.value.columns]
    columns = json.loads(table.proto.columns)
    assert columns["Parameters"]["type_config"]["format"] == "localized"
    assert table.value["Parameters"].tolist() == [401_920, 5_130]
