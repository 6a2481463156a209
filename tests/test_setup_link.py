"""A setup travels in the link: parsed safely, clamped or refused with a message."""

from __future__ import annotations

import pytest
from apptest_helpers import ROOT, TIMEOUT
from streamlit.testing.v1 import AppTest

from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.settings import (
    DEFAULTS,
    DRAWINGS_SETUP,
    SETTINGS,
    configs,
    link_parameters,
    setup_from_link,
)

SHARED = {"epochs": "12", "batch_size": "64", "optimizer": "adam", "learning_rate": "0.003",
          "hidden_layers": "2", "units": "256", "dropout": "0.2", "augment": "true",
          "validation_split": "0.15", "train_size": "5000", "activation": "tanh"}


def test_a_good_link_gives_its_values_without_complaint():
    values, messages = setup_from_link(SHARED)
    assert messages == []
    assert values == {"epochs": 12, "batch_size": 64, "optimizer": "adam", "learning_rate": 0.003,
                      "hidden_layers": 2, "units": 256, "dropout": 0.2, "augment": True,
                      "validation_split": 0.15, "train_size": 5000, "activation": "tanh"}


def test_link_parameters_round_trip_and_leave_defaults_out():
    values, _ = setup_from_link(SHARED)
    assert setup_from_link(link_parameters(values)) == (values, [])
    assert link_parameters(DEFAULTS) == {}
    assert link_parameters({**DEFAULTS, "epochs": 7, "run": "abc"}) == {"epochs": "7"}


@pytest.mark.parametrize("key, text, value, words", [
    ("epochs", "500", 50, "500 is outside 1–50"),
    ("epochs", "-3", 1, "outside"),
    ("hidden_layers", "99", 4, "outside 0–4"),
    ("batch_size", "100", 128, "100 is not offered"),
    ("batch_size", "1e9", 1024, "not offered"),
    ("learning_rate", "5", 1.0, "not offered"),
    ("dropout", "0.93", 0.5, "outside 0–0.5"),
    ("validation_split", "0.12", 0.1, "outside"),
    ("train_size", "7", 1000, "not offered"),
])
def test_numbers_out_of_range_are_clamped_and_reported(key, text, value, words):
    values, messages = setup_from_link({key: text})
    assert values == {key: value}
    assert len(messages) == 1 and words in messages[0] and key in messages[0]


@pytest.mark.parametrize("key, text", [
    ("epochs", "five"), ("epochs", "2.5"), ("batch_size", "nan"), ("learning_rate", "NaN"),
    ("optimizer", "adamw"), ("architecture", "<script>"), ("activation", ""),
    ("augment", "maybe"), ("dropout", "0x1"), ("train_size", "everything"),
])
def test_unusable_values_are_ignored_and_reported(key, text):
    values, messages = setup_from_link({key: text})
    assert values == {}
    assert len(messages) == 1 and "ignored" in messages[0]


def test_every_default_is_a_valid_setup():
    """The defaults parse as themselves and build valid configs (the classic model)."""
    assert setup_from_link(link_parameters(DEFAULTS)) == ({}, [])
    for key, setting in SETTINGS.items():
        text = str(setting.default).lower() if isinstance(setting.default, bool) \
            else str(setting.default)
        assert setup_from_link({key: text}) == ({key: setting.default}, []), key
    assert configs(DEFAULTS) == (ModelConfig(), TrainConfig())


def test_the_setup_for_drawings_is_the_deeper_cnn_with_drawing_examples_and_survives_a_link():
    values, messages = setup_from_link(link_parameters(DRAWINGS_SETUP))
    assert messages == [] and {**DEFAULTS, **values} == {**DEFAULTS, **DRAWINGS_SETUP}
    model_config, train_config = configs(DRAWINGS_SETUP)
    assert model_config == ModelConfig(architecture="deep_cnn", hidden_units=(), dropout=0.5,
                                       augment=True, optimizer="adam")
    assert (train_config.epochs, train_config.lr_schedule) == (6, "cosine")
    assert train_config.drawing_examples == 15_000


def test_convnets_ignore_the_dense_settings():
    dense_settings = {"hidden_layers": 3, "units": 64, "dropout": 0.2, "cnn_dropout": 0.3}
    model_config, _ = configs({**dense_settings, "architecture": "cnn"})
    assert (model_config.hidden_units, model_config.dropout) == ((), 0.3)
    model_config, _ = configs(dense_settings)
    assert (model_config.hidden_units, model_config.dropout) == ((64, 64, 64), 0.2)


def app_with_link(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params.update(query)
    at.switch_page("pages/train.py")
    return at.run()


def test_a_link_sets_the_sidebar_and_the_model_summary():
    at = app_with_link({"hidden_layers": "2", "units": "256", "optimizer": "adam", "epochs": "8"})
    assert not at.exception
    model_config, train_config = at.session_state["config"]
    assert model_config.hidden_units == (256, 256) and model_config.optimizer == "adam"
    assert train_config.epochs == 8
    total = next(m for m in at.metric if m.label == "Total parameters").value
    assert total == f"{784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10:,}"
    assert not at.toast


def test_a_link_to_the_deeper_cnn_with_cosine_decay_sets_up_both():
    at = app_with_link({"architecture": "deep_cnn", "optimizer": "adam",
                        "lr_schedule": "cosine", "epochs": "12"})
    assert not at.exception
    model_config, train_config = at.session_state["config"]
    assert (model_config.architecture, model_config.dropout) == ("deep_cnn", 0.5)
    assert (train_config.lr_schedule, train_config.epochs) == ("cosine", 12)
    total = next(m for m in at.metric if m.label == "Total parameters").value
    assert total == "871,402"
    assert any("batch-normalised" in c.value for c in at.caption)  # what the network is
    assert any("cosine decay to 0" in c.value for c in at.caption)  # how it is compiled
    codes = [c.value for c in at.code]
    assert codes and all("LearningRateScheduler(cosine_decay)" in code
                         and "layers.BatchNormalization(momentum=0.9" in code for code in codes)
    assert not at.toast


def test_a_bad_link_is_clamped_with_a_message_and_the_page_works():
    at = app_with_link({"epochs": "100000", "optimizer": "evil", "batch_size": "abc"})
    assert not at.exception
    _, train_config = at.session_state["config"]
    assert train_config.epochs == 50 and train_config.batch_size == 128
    assert at.session_state["optimizer"] == "rmsprop"
    toasts = " ".join(t.value for t in at.toast)
    assert "epochs" in toasts and "optimizer" in toasts and "batch_size" in toasts


def test_changing_the_sidebar_updates_the_link():
    at = app_with_link({})
    assert not {"epochs", "optimizer"} & set(at.query_params)
    at.number_input(key="epochs").set_value(9).run()
    at.selectbox(key="optimizer").set_value("sgd").run()
    assert at.query_params["epochs"] == "9" and at.query_params["optimizer"] == "sgd"
    at.number_input(key="epochs").set_value(5).run()  # back to the default: out of the link
    assert "epochs" not in at.query_params
