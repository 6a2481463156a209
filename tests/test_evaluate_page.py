"""AppTest tests of the Evaluate page: no model, then a quick-trained one.

One quick training (the Draw page's one-epoch button, 5,000 images) serves every
test that needs a model: each test opens its own session on the Evaluate page and
attaches to that run by its `?run=` id, as a reload would. The page's numbers are
compared with `mnist_core.evaluate` run on a network rebuilt from the run's weights.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from apptest_helpers import app_at, app_with_run, job_of, wait_for_training
from streamlit.testing.v1 import AppTest

from mnist_core.evaluate import (
    CELL_IMAGES_SHOWN,
    MISTAKES_SHOWN,
    Evaluation,
    evaluate,
    mistake_title,
)
from mnist_core.model import build_model
from mnist_core.runs.owners import Owner

TRUE_DIGIT, READ_AS = "evaluate_true_digit", "evaluate_read_as"


@pytest.fixture(scope="module")
def run_id() -> str:
    """One quick training from the Draw page: 5,000 images, 1 epoch."""
    at = app_at("draw")
    at.select_slider(key="train_size").set_value(5_000).run()
    next(b for b in at.button if b.label == "Quick train (1 epoch)").click().run()
    wait_for_training(at)
    assert not at.exception
    assert job_of(at).progress().status.value == "finished", job_of(at).progress().error
    return at.session_state["run_id"]


@pytest.fixture(scope="module")
def expected(run_id, mnist) -> Evaluation:
    """The run's evaluation computed here, on a network of its own with the run's weights."""
    from ui.server import runs

    job = runs().get(run_id)
    model = build_model(job.model_config)
    model.set_weights(list(job.latest_snapshot().weights))
    return evaluate(model, mnist.x_test, mnist.y_test)


def evaluate_page(run_id: str) -> AppTest:
    """A new session on the Evaluate page that uses the quick-trained run (a reload with ?run=)."""
    at = app_with_run("evaluate", run_id)
    assert not at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def titles(figure: dict) -> list[str]:
    return [a["text"] for a in figure["layout"].get("annotations", []) if a.get("text")]


def cell_gallery(at: AppTest) -> dict:
    (gallery,) = [f for f in figures(at) if any(t.startswith("#") for t in titles(f))]
    return gallery


def cell_count(at: AppTest) -> int:
    """The number in "**12** test image(s) of a 4 read as a 9…"."""
    (text,) = [m.value for m in at.markdown if "test image(s) of a" in m.value]
    return int(re.match(r"\*\*([\d,]+)\*\*", text).group(1).replace(",", ""))


def test_without_a_model_the_page_evaluates_the_ready_reader(mnist):
    from ui.reader import ready_reader

    at = app_at("evaluate")
    assert not at.exception
    assert any("the ready reader shipped with the app" in c.value for c in at.caption)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"] == f"{ready_reader().info.test_accuracy:.2%}"


def test_without_a_model_or_reader_the_page_says_so_and_points_to_train(without_reader):
    at = app_at("evaluate")
    assert not at.exception
    assert any("No trained model yet" in w.value for w in at.warning)
    (link,) = at.get("page_link")
    assert (link.proto.page, link.proto.label) == ("train", "Go to Train")
    assert not at.metric and not at.get("plotly_chart")


def test_the_page_shows_the_models_test_accuracy_and_loss(run_id, expected, mnist):
    at = evaluate_page(run_id)
    shown = metrics(at)
    assert shown["Test accuracy"] == f"{expected.accuracy:.2%}"
    assert shown["Test loss"] == f"{expected.loss:.4f}"
    assert shown[f"Mistakes (of {len(mnist.y_test):,})"] == f"{expected.mistakes:,}"
    from ui.server import runs

    # The same accuracy as Keras' model.evaluate at the end of the training.
    assert shown["Test accuracy"] == f"{runs().get(run_id).progress().test_accuracy:.2%}"
    assert any(f"Model: run `{run_id}`" in c.value and "weights after epoch 1/1" in c.value
               for c in at.caption)


def test_the_confusion_matrix_and_the_table_show_the_counts(run_id, expected):
    at = evaluate_page(run_id)
    (matrix,) = [f for f in figures(at) if len(titles(f)) == 100]
    written = {(a["y"], a["x"]): int(a["text"]) for a in matrix["layout"]["annotations"]}
    assert all(written[t, r] == expected.confusion[t, r] for t in range(10) for r in range(10))
    (table,) = at.dataframe
    assert list(table.value["digit"]) == [str(d) for d in range(10)] + ["average"]
    assert table.value["recall"].iloc[3] == round(expected.recall[3], 4)  # rounded as shown


def test_the_digit_table_has_human_headers_and_one_precision(run_id, expected):
    """Every percentage with two decimals (99.30%, not 99.3% beside 99.08%); no count
    in the average row, where a total of 10,000 read as a count of the average."""
    (table,) = evaluate_page(run_id).dataframe
    columns = json.loads(table.proto.columns)
    labels = {name: config["label"] for name, config in columns.items() if name != "_index"}
    assert labels == {"digit": "Digit", "test images": "Test images",
                      "read as this digit": "Read as this digit", "precision": "Precision",
                      "recall": "Recall", "F1": "F1"}
    for name in ("precision", "recall", "F1"):
        # Streamlit's "percent" shows step's decimals less two: 0.0001 gives 99.08%.
        assert columns[name]["type_config"] == {"type": "number", "format": "percent",
                                                "step": 0.0001}
    assert table.value["test images"].iloc[:10].tolist() == expected.confusion.sum(1).tolist()
    assert table.value[["test images", "read as this digit"]].iloc[-1].isna().all()
    assert table.proto.placeholder == "—"


def test_the_most_frequent_mistake_is_chosen_first_and_its_images_shown(run_id, expected):
    at = evaluate_page(run_id)
    true_digit, read_as = expected.most_frequent_mistake()
    assert (at.selectbox(key=TRUE_DIGIT).value, at.selectbox(key=READ_AS).value) == (
        true_digit, read_as)
    indices = expected.cell(true_digit, read_as)
    assert cell_count(at) == len(indices)
    assert titles(cell_gallery(at)) == [
        f"#{i} · p({read_as})={expected.probabilities[i, read_as]:.2f}"
        for i in indices[:CELL_IMAGES_SHOWN]]


def test_choosing_a_cell_shows_exactly_its_images(run_id, expected):
    at = evaluate_page(run_id)
    # The second most frequent mistake: a cell other than the default one.
    counts = expected.confusion * (1 - np.eye(10, dtype=int))
    order = counts.ravel().argsort()[::-1]
    true_digit, read_as = divmod(int(order[1]), 10)
    at.selectbox(key=TRUE_DIGIT).set_value(true_digit)
    at.selectbox(key=READ_AS).set_value(read_as).run()
    assert not at.exception
    indices = expected.cell(true_digit, read_as)
    assert cell_count(at) == len(indices) == expected.confusion[true_digit, read_as]
    shown = [int(t.split(" ")[0][1:]) for t in titles(cell_gallery(at))]
    assert shown == indices[:CELL_IMAGES_SHOWN].tolist()
    assert all(expected.y_test[i] == true_digit and expected.predicted[i] == read_as
               for i in shown)
    # The chosen cell is outlined in the matrix.
    (matrix,) = [f for f in figures(at) if len(titles(f)) == 100]
    (outline,) = matrix["layout"]["shapes"]
    assert (outline["x0"] + 0.5, outline["y0"] + 0.5) == (read_as, true_digit)
    # A diagonal cell: the images read right.
    at.selectbox(key=READ_AS).set_value(true_digit).run()
    assert not at.exception
    assert cell_count(at) == expected.confusion[true_digit, true_digit]


def test_the_most_confident_mistakes_are_shown_with_their_readings(run_id, expected, mnist):
    at = evaluate_page(run_id)
    (gallery,) = [f for f in figures(at) if titles(f) and " → " in titles(f)[0]]
    mistakes = expected.most_confident_mistakes(MISTAKES_SHOWN)
    assert len(titles(gallery)) == len(mistakes) == MISTAKES_SHOWN
    first = int(mistakes[0])
    read = int(expected.predicted[first])
    assert titles(gallery) == [mistake_title(expected, i) for i in mistakes]
    assert titles(gallery)[0].startswith(f"{mnist.y_test[first]} → {read} (")
    # Each gallery offers its images to the Inside page.
    picker = at.selectbox(key="mistake_image")
    assert picker.options[0] == f"#{first}: {mistake_title(expected, first)}"
    assert [b.label for b in at.button].count("Look inside the model") == 2


def test_a_convnet_is_evaluated_too(mnist):
    """A quick CNN run (1,000 images, 1 epoch): the page evaluates it like the dense model."""
    at = app_at("draw")
    at.selectbox(key="architecture").set_value("cnn").run()
    at.select_slider(key="train_size").set_value(1_000).run()
    next(b for b in at.button if b.label == "Quick train (1 epoch)").click().run()
    wait_for_training(at)
    job = job_of(at)
    assert job.model_config.architecture == "cnn"
    assert job.progress().status.value == "finished", job.progress().error
    at = evaluate_page(at.session_state["run_id"])
    assert any("weights after epoch 1/1 · Convolutional (CNN)" in c.value for c in at.caption)
    assert metrics(at)["Test accuracy"] == f"{job.progress().test_accuracy:.2%}"
    assert len(at.get("plotly_chart")) == 3  # the matrix and both galleries


def test_an_imported_model_is_evaluated_and_named_by_its_file(trained_model, mnist):
    """A model uploaded on the Runs page is a finished run with one snapshot: evaluated alike."""
    from mnist_core.runs.train import TrainingJob
    from ui.server import runs

    job = TrainingJob.imported(mnist, trained_model, "my_model.keras")
    runs().add(job, Owner("someone else"))
    at = evaluate_page(job.run_id)
    assert any(f"Model: run `{job.run_id}`, imported from my_model.keras" in c.value
               for c in at.caption)
    expected = evaluate(trained_model, mnist.x_test, mnist.y_test)
    assert metrics(at)["Test accuracy"] == f"{expected.accuracy:.2%}"
    assert metrics(at)["Test accuracy"] == f"{job.progress().test_accuracy:.2%}"


def test_the_cell_caption_says_an_8(run_id):
    """ "test image(s) of a 8 read as a 8" read wrong: the caption says "an 8"."""
    at = evaluate_page(run_id)
    at.selectbox(key="evaluate_true_digit").set_value(8).run()
    at.selectbox(key="evaluate_read_as").set_value(8).run()
    caption = next(m.value for m in at.markdown if "test image(s) of" in m.value)
    assert "test image(s) of an 8 read right" in caption
