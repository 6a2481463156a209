"""`python -m mnist_core`'s options: help texts with defaults, one-line errors, and no
TensorFlow for the commands that do not need it."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_core import settings
from mnist_core.cli import build_parser, configs, main
from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.settings import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]


def _train_parser() -> argparse.ArgumentParser:
    return build_parser().parse_args(["train"]).command_parser


def test_every_train_option_has_help_showing_its_default():
    """`train --help` showed no defaults, and seven options had no help at all."""
    train = _train_parser()
    text = " ".join(train.format_help().split())  # argparse wraps lines anywhere
    options = [action for action in train._actions if action.option_strings
               and action.dest != "help"]
    assert len(options) == 16
    for action in options:
        assert action.help, action.dest
        if action.default not in (None, False):
            shown = (" ".join(map(str, action.default)) if isinstance(action.default, list)
                     else str(action.default))
            assert f"(default: {shown})" in text, action.dest


def test_train_defaults_are_the_apps():
    """Unset options build exactly ModelConfig() and TrainConfig(), as the sidebar's
    defaults do."""
    args = build_parser().parse_args(["train"])
    assert configs(args) == (ModelConfig(), TrainConfig()) == settings.configs(DEFAULTS)
    assert args.out is None and not args.no_save


def _error_of(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


@pytest.mark.parametrize("argv, words", [
    (["train", "--learning-rate", "abc"],
     "argument --learning-rate: invalid float value: 'abc'"),
    (["train", "--hidden-units"], "argument --hidden-units: expected at least one argument"),
    (["train", "--hidden-units", "256", "0"], "argument --hidden-units: 0 is not a positive whole number"),
    (["train", "--hidden-units", "-5"], "argument --hidden-units: -5 is not a positive whole number"),
    (["train", "--hidden-units", "many"], "argument --hidden-units: 'many' is not a whole number"),
    (["train", "--optimizer", "adagrad"], "argument --optimizer: invalid choice: 'adagrad'"),
    (["train", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["train", "--no-save", "--runs-dir", "x"], "argument --runs-dir: not allowed with argument --no-save"),
    (["runs", "delete"], "the following arguments are required: ID"),
    (["evaluate"], "one of the arguments --model --run is required"),
], ids=["float", "no-units", "zero-units", "negative-units", "word-units", "choice", "unknown",
        "exclusive", "runs-delete-id", "evaluate-which"])
def test_argument_errors_are_one_line_pointing_to_the_commands_help(capsys, argv, words):
    """`--learning-rate abc` printed the whole usage block; other bad values one line."""
    err = _error_of(capsys, *argv)
    command = " ".join(argv[:2] if argv[0] == "runs" else argv[:1])
    assert err.startswith(f"Error: {words}")
    assert err.endswith(f". See: python -m mnist_core {command} --help\n")
    assert err.count("\n") == 1


def test_a_missing_command_points_to_the_main_help(capsys):
    assert _error_of(capsys) == ("Error: the following arguments are required: command. "
                                 "See: python -m mnist_core --help\n")


def test_a_bad_value_the_config_refuses_is_one_line_too(capsys):
    assert main(["train", "--epochs", "0"]) == 2
    assert capsys.readouterr().err == "Error: epochs must be 1–50\n"


def _keras_loaded_after(*argvs: list[str]) -> list[str]:
    """Run `main(argv)` for each argv in a fresh interpreter: which of keras and tensorflow
    were imported at the end."""
    code = (
        "import json, sys\n"
        "from mnist_core.cli import main\n"
        f"for argv in {[list(argv) for argv in argvs]!r}:\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps([m for m in ('keras', 'tensorflow') if m in sys.modules]), "
        "file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stderr.strip().splitlines()[-1])


def test_help_loads_no_tensorflow():
    """Every --help took ~6 s: TensorFlow was imported before argparse ran."""
    helps = [["--help"], ["train", "--help"], ["predict", "--help"], ["evaluate", "--help"],
             ["runs", "--help"], ["runs", "list", "--help"], ["runs", "export", "--help"],
             ["runs", "delete", "--help"], ["train", "--epochs", "0"]]
    assert _keras_loaded_after(*helps) == []


def test_runs_commands_load_no_tensorflow(tmp_path):
    """Listing, showing, renaming and deleting runs read JSON files: no TensorFlow."""
    runs = str(tmp_path)
    commands = [["runs", "list", "--runs-dir", runs], ["runs", "show", "abcdEFGH", "--runs-dir", runs],
                ["runs", "rename", "abcdEFGH", "x", "--runs-dir", runs],
                ["runs", "delete", "abcdEFGH", "--yes", "--runs-dir", runs]]
    assert _keras_loaded_after(*commands) == []


def test_main_help_prints_nothing_on_stderr():
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-m", "mnist_core", "--help"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stderr == ""
    assert "Exit status:" in result.stdout
