"""mnist_core.compare: the runs table's rows and the overlaid curves of several runs."""

from __future__ import annotations

from datetime import datetime

import pytest

from mnist_core.compare import run_label, table_rows
from mnist_core.config import ModelConfig
from mnist_core.figures.training import RUN_COLOURS, compare_figure
from mnist_core.model import build_model
from mnist_core.runs.records import EpochRecord
from mnist_core.runs.store import RunStore
from mnist_core.runs.stored import RunSummary
from mnist_core.runs.train import TrainingJob


def rows(losses, accuracies, val_losses, val_accuracies):
    return [
        {"epoch": epoch, "loss": loss, "accuracy": accuracy, "val_loss": val_loss,
         "val_accuracy": val_accuracy, "seconds": 1.5, "samples_per_second": 1000.0}
        for epoch, (loss, accuracy, val_loss, val_accuracy)
        in enumerate(zip(losses, accuracies, val_losses, val_accuracies), start=1)
    ]


HISTORIES = {
    "Run00001 · adam": rows([0.5, 0.3], [0.85, 0.91], [0.4, 0.35], [0.88, 0.9]),
    "Run00002": rows([0.7, 0.5, 0.4], [0.8, 0.86, 0.88], [0.6, 0.5, 0.45], [0.82, 0.85, 0.87]),
}


@pytest.mark.parametrize("metric", ["loss", "accuracy"])
def test_each_run_has_a_solid_train_and_a_dotted_validation_line_in_its_own_colour(metric):
    fig = compare_figure(HISTORIES, metric)
    assert len(fig.data) == 4
    colours = []
    for (label, history), (train, validation) in zip(HISTORIES.items(),
                                                   zip(fig.data[::2], fig.data[1::2])):
        assert train.name == f"{label} train"
        assert validation.name == f"{label} validation"
        assert list(train.x) == list(validation.x) == [row["epoch"] for row in history]
        assert list(train.y) == [row[metric] for row in history]
        assert list(validation.y) == [row[f"val_{metric}"] for row in history]
        assert train.line.dash is None and validation.line.dash == "dot"
        assert train.line.color == validation.line.color
        assert train.legendgroup == validation.legendgroup == label
        colours.append(train.line.color)
    assert colours == list(RUN_COLOURS[:2])  # one colour per run, never shared


def test_epoch_records_work_as_well_as_saved_rows():
    records = [EpochRecord(**row) for row in HISTORIES["Run00002"]]
    fig = compare_figure({"Run00002": records}, "accuracy")
    assert list(fig.data[0].y) == [0.8, 0.86, 0.88]
    assert list(fig.data[1].y) == [0.82, 0.85, 0.87]


def test_a_run_without_validation_has_only_its_train_line():
    history = rows([0.5, 0.3], [0.85, 0.91], [None, None], [None, None])
    fig = compare_figure({"NoVal001": history, **HISTORIES}, "loss")
    assert [trace.name for trace in fig.data] == [
        "NoVal001 train", "Run00001 · adam train", "Run00001 · adam validation",
        "Run00002 train", "Run00002 validation",
    ]
    assert [trace.line.color for trace in fig.data] == [RUN_COLOURS[0]] + [RUN_COLOURS[1]] * 2 \
        + [RUN_COLOURS[2]] * 2


def test_colours_repeat_only_after_every_colour_was_used():
    many = {f"Run{index:05d}": HISTORIES["Run00002"] for index in range(len(RUN_COLOURS) + 1)}
    colours = [trace.line.color for trace in compare_figure(many, "loss").data[::2]]
    assert len(set(colours[:-1])) == len(RUN_COLOURS)
    assert colours[-1] == colours[0]


def test_no_runs_gives_empty_axes():
    assert compare_figure({}, "accuracy").data == ()


def test_run_label_names_the_run_when_it_has_a_name():
    assert run_label("Abcd1234", "adam") == "Abcd1234 · adam"
    assert run_label("Abcd1234", None) == run_label("Abcd1234", "") == "Abcd1234"


def test_table_rows_share_one_set_of_columns_across_architectures():
    dense = RunSummary("Dense001", "classic", "finished", 1.7e9, "dense",
                       {"hidden units": "512", "train size": "all"}, epochs=5,
                       epochs_completed=5, test_accuracy=0.98)
    cnn = RunSummary("Conv0001", None, "interrupted", 1.7e9, "cnn",
                     {"conv filters": "32 64", "train size": 5000}, epochs=3, epochs_completed=1)
    broken = RunSummary("Broken01", None, "unreadable", None, None, problem="bad json")
    table = table_rows([dense, cnn, broken])
    assert [list(row) for row in table] == [list(table[0])] * 3
    assert {"hidden units", "conv filters", "test accuracy", "status"} <= set(table[0])
    assert table[0]["conv filters"] is None and table[1]["hidden units"] is None
    assert [row["train size"] for row in table] == ["all", "5,000", None]
    assert [row["status"] for row in table] == ["finished", "interrupted", "unreadable"]
    assert table[0]["test accuracy"] == 0.98
    assert [row["epochs"] for row in table[:2]] == ["5/5", "1/3"]
    # A date-time for the table to format and sort; None when the run could not be read.
    assert table[0]["created"] == datetime.fromtimestamp(1.7e9) and table[2]["created"] is None


def test_an_imported_run_reads_imported_not_0_of_1(mnist, tmp_path):
    """An uploaded model was never trained here: no epochs, no training settings, a test
    accuracy; the model's own settings (layers, optimizer) are kept."""
    store = RunStore(tmp_path)
    job = TrainingJob.imported(mnist, build_model(ModelConfig(hidden_units=(16,))), "x.keras")
    job.store = store
    job.save()
    trained = RunSummary("Dense001", None, "finished", 1.7e9, "dense",
                         {"hidden units": "512", "lr schedule": "constant", "batch size": 128,
                          "train size": 5000}, epochs=2, epochs_completed=2)
    imported, dense = table_rows([*store.list_runs(), trained])
    assert imported["id"] == job.run_id and imported["epochs"] == "imported"
    assert imported["test accuracy"] == pytest.approx(job.progress().test_accuracy)
    assert imported["train accuracy"] is None and imported["s/epoch"] is None
    assert imported["lr schedule"] is imported["batch size"] is imported["train size"] is None
    assert imported["hidden units"] == "16" and imported["optimizer"] == "rmsprop"
    assert (dense["epochs"], dense["batch size"], dense["train size"]) == ("2/2", 128, "5,000")


def test_run_names_reach_the_legend_as_text_not_html():
    """A run named <b>bold</b> is not bold in the legend: Plotly reads HTML in names."""
    label = run_label("Abcd1234", "<b>bold</b> & co")
    fig = compare_figure({label: HISTORIES["Run00002"]}, "loss")
    assert [trace.name for trace in fig.data] == [
        "Abcd1234 · &lt;b&gt;bold&lt;/b&gt; &amp; co train",
        "Abcd1234 · &lt;b&gt;bold&lt;/b&gt; &amp; co validation"]
    assert "<b>" not in fig.to_json()


def test_the_accuracy_axis_reads_in_percent():
    yaxis = compare_figure(HISTORIES, "accuracy").layout.yaxis
    assert "%" in yaxis.tickformat and yaxis.hoverformat == ".2%"
