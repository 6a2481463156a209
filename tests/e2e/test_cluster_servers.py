"""Two app servers, one run store, one Ray cluster: a class that outgrew one machine.

A run started on the first server trains on the cluster; its link opens it on the
second server, which follows it epoch by epoch and draws with it; Stop on the first
ends it for both. A run that finds no free CPUs waits, and the page says so.
"""

from __future__ import annotations

import re
import socket

import pytest
from playwright.sync_api import expect

from mnist_core.config import MAX_EPOCHS
from mnist_core.stroke_digits import one
from tests.ray_head import ray_head

from .conftest import app_server, close_page, new_page
from .test_browser import (
    RERUN_TIMEOUT_MS,
    TRAINING_TIMEOUT_MS,
    configure_training,
    draw_digit,
    go_to,
    metric_value,
    open_app,
    progress_bar,
    progress_position,
)
from .test_two_users import run_in

WAITING = "Waiting for the Ray cluster to start it: a worker with 2 free CPUs."


@pytest.fixture
def two_servers(artifacts, tmp_path):
    """Two app servers sharing a runs directory and a Ray head with 2 CPUs (one training)."""
    with ray_head(cpus=2) as head:
        shared = {"MNIST_RAY_ADDRESS": head.client_address, "MNIST_RUNS_DIR": str(tmp_path)}
        with app_server(artifacts / "cluster-first.log", **shared) as (_, first), \
                app_server(artifacts / "cluster-second.log", **shared) as (_, second):
            yield first, second


def test_a_run_started_on_one_server_is_followed_and_drawn_with_on_another(browser,
                                                                          two_servers):
    first_url, second_url = two_servers
    trainer, viewer, latecomer = new_page(browser), new_page(browser), new_page(browser)
    try:
        open_app(trainer, first_url, "train", "Train the network")
        # As long a training as the sidebar allows, in small batches: it must outlast the
        # steps below (in CI, 30 epochs of 128 once finished before Stop was pressed).
        configure_training(trainer, MAX_EPOCHS, "16", "all 60,000")
        trainer.get_by_role("button", name="Start training").click()
        # A worker starts for it first (it loads TensorFlow): the page says so.
        expect(trainer.get_by_text(WAITING)).to_be_visible(timeout=RERUN_TIMEOUT_MS)
        expect(trainer).to_have_url(re.compile(r"[?&]run="), timeout=RERUN_TIMEOUT_MS)
        run = run_in(trainer)
        expect(progress_bar(trainer)).to_contain_text(re.compile(r"batch [1-9]"),
                                                      timeout=TRAINING_TIMEOUT_MS)

        # The link on the other server: the same run, moving on.
        viewer.goto(f"{second_url}/train?run={run}")
        expect(progress_bar(viewer)).to_contain_text(re.compile(r"batch [1-9]"),
                                                     timeout=TRAINING_TIMEOUT_MS)
        seen = progress_position(viewer)
        expect(progress_bar(viewer)).not_to_contain_text(
            f"epoch {seen[0]}/{MAX_EPOCHS}, batch {seen[1]}/", timeout=RERUN_TIMEOUT_MS)
        expect(viewer.get_by_text(re.compile(r"^Epochs done"))).to_be_visible(
            timeout=TRAINING_TIMEOUT_MS)  # an epoch's weights: ready to draw with

        # The cluster's 2 CPUs are taken: a third person's training waits, and says so.
        open_app(latecomer, second_url, "train", "Train the network")
        configure_training(latecomer, 1, "128", "5,000")
        latecomer.get_by_role("button", name="Start training").click()
        expect(latecomer.get_by_text(WAITING)).to_be_visible(timeout=RERUN_TIMEOUT_MS)
        latecomer.get_by_role("button", name="Stop", exact=True).click()
        expect(latecomer.get_by_text("This run was cancelled before it started.")).to_be_visible(
            timeout=RERUN_TIMEOUT_MS)

        # The viewer draws with the run's latest weights, on the second server.
        go_to(viewer, "Draw", "Draw a digit")
        assert draw_digit(viewer, one(120, 40, 200)) == "1"
        expect(viewer.get_by_text(run)).not_to_have_count(0)

        # Stop on the first server ends it for both.
        trainer.get_by_role("button", name="Stop", exact=True).click()
        stopped = re.compile(r"Stopped (during epoch|after \d+ full epoch)")
        expect(trainer.get_by_text(stopped)).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
        go_to(viewer, "Train", "Train the network")
        expect(viewer.get_by_text(stopped)).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
        assert int(metric_value(viewer, "Epochs done").split("/")[0]) >= 1
    finally:
        for page in (latecomer, viewer, trainer):
            close_page(page)


def test_start_with_the_cluster_down_says_so_and_starts_nothing(browser, artifacts, tmp_path):
    with socket.socket() as sock:  # a local port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"ray://127.0.0.1:{port}"
    with app_server(artifacts / "cluster-down.log", MNIST_RAY_ADDRESS=address,
                    MNIST_RUNS_DIR=str(tmp_path)) as (_, url):
        page = new_page(browser)
        try:
            open_app(page, url, "train", "Train the network")
            page.get_by_role("button", name="Start training").click()
            expect(page.get_by_text(re.compile(
                rf"The Ray cluster at {re.escape(address)} cannot be reached .*Nothing was "
                "started: try again once the cluster is up."))).to_be_visible(
                timeout=RERUN_TIMEOUT_MS)
            expect(page.get_by_role("button", name="Start training")).to_be_enabled()
            assert "run=" not in page.url and not any(tmp_path.iterdir())
        finally:
            close_page(page)
