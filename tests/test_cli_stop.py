"""Ctrl-C during `python -m mnist_core train`, sent for real to a training process.

The first Ctrl-C stops after the current batch and keeps what was trained (the run,
and --out); a second one quits at once. Neither prints a traceback.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from mnist_core.model import load_model
from mnist_core.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 300


def start_training(*args: str) -> subprocess.Popen:
    """`train` in its own process, its output (both streams) read line by line."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.Popen([sys.executable, "-m", "mnist_core", "train", *args], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def read_until(process: subprocess.Popen, pattern: str) -> list[str]:
    lines = []
    for line in process.stdout:
        lines.append(line)
        if re.search(pattern, line):
            return lines
    raise AssertionError("the process ended before printing " + pattern + ":\n" + "".join(lines))


def test_ctrl_c_stops_after_the_batch_and_keeps_the_run_and_the_out_file(tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "stopped.keras"
    process = start_training("--epochs", "5", "--train-size", "4000", "--batch-size", "32",
                             "--hidden-units", "64", "--runs-dir", str(runs), "--out", str(out))
    try:
        before = read_until(process, r"^113/113 - ")  # Keras' line for the first epoch
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    output = "".join(before) + rest
    assert process.returncode == 130, output
    assert "Traceback" not in output
    assert "Stopping after the current batch (Ctrl-C again to quit at once)…" in output
    stopped = re.search(r"^Stopped during epoch (\d) at batch (\d+)/113: run (\S{8}) keeps the "
                        r"weights at that point; (\d) complete epochs? in its history; saved "
                        rf"in (\S+) and to {re.escape(str(out))}\.$", output, re.MULTILINE)
    assert stopped, output
    epoch, batch, run_id, complete, run_dir = stopped.groups()
    assert int(epoch) >= 2 and int(complete) == int(epoch) - 1 and 1 <= int(batch) < 113
    assert Path(run_dir) == runs.resolve() / run_id

    store = RunStore(runs)
    run = store.load(run_id)
    assert run.status == "stopped"
    assert len(run.history) == int(epoch)  # the complete epochs, and Keras' metrics of the cut one
    assert json.loads((runs / run_id / "run.json").read_text())["test_accuracy"] > 0.5
    kept, written = store.load_model(run_id), load_model(str(out))
    for a, b in zip(kept.get_weights(), written.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_second_ctrl_c_quits_at_once(tmp_path):
    """The first Ctrl-C lands in the first batch; the second while the deeper CNN is
    still being tested on 10,000 images: the process leaves without waiting for it."""
    runs, out = tmp_path / "runs", tmp_path / "never.keras"
    process = start_training("--architecture", "deep_cnn", "--epochs", "3", "--train-size", "640",
                             "--batch-size", "32", "--runs-dir", str(runs), "--out", str(out))
    try:
        before = read_until(process, r"^Epoch 1/3$")
        process.send_signal(signal.SIGINT)
        before += read_until(process, r"^Stopping after the current batch")
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    output = "".join(before) + rest
    assert process.returncode == 130, output
    assert "Traceback" not in output
    run_id = re.search(r"^Run (\S{8}): saved as it trains", output, re.MULTILINE).group(1)
    assert re.search(rf"^Quit: run {run_id} (has no weights yet|keeps the weights saved at its "
                     r"last epoch's end) and will show as interrupted\.$", output, re.MULTILINE)
    assert "Test accuracy" not in output and "Stopped during" not in output
    assert not out.exists()
    assert RunStore(runs).load(run_id).status == "interrupted"
