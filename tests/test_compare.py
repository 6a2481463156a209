"""mnist_core.compare: the runs table's rows and the overlaid curves of several runs."""

from __future__ import annotations

import pytest

from mnist_core.compare import RUN_COLOURS, compare_figure, run_label, table_rows
from mnist_core.store import RunSummary
from mnist_core.train import EpochRecord


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
    assert [row["train size"] for row in table] == ["all", "5000", None]
    assert [row["status"] for row in table] == ["finished", "interrupted", "unreadable"]
    assert table[0]["test accuracy"] == 0.98
