"""Runs that belong to someone, in the three ways the server runs (docs/running.md).

- Signed in (`[auth]` in secrets.toml): a real OpenID Connect flow against a mock
  identity provider on 127.0.0.1. Two people sign in in two browsers and each trains;
  each Runs page lists only their own run; Bob opening Alice's link sees it read-only
  (no rename, no delete, but he can draw with it); Alice's latest run follows her to a
  new browser; signing out hides her runs; and after a restart the runs are still
  theirs, since the owner is saved with each run.
- Anonymous shared (`MNIST_SHARED=1`): two browsers see only their own runs.
- Local (the default): a restarted server opens the latest finished run for a new tab.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from mnist_core.runs.owners import NotYourRun
from mnist_core.runs.store import RunStore

from .conftest import app_server, close_page, new_page
from .identity import LOGOUT_LOG_LINE, add_user, auth_secrets, identity_provider, sign_in, sign_out
from .test_browser import (
    DRAW_PROMPT,
    configure_training,
    draw_digit,
    go_to,
    open_app,
    sidebar,
    start_training,
    table_rows,
    wait_for_training_to_finish,
    wait_until_idle,
)
from .test_journey_home import HOME, LATEST_CAPTION
from .test_journey_runs import runs_table, toggle_row

READ_ONLY = "opened by its link: read-only"
SIGN_IN_FOR_RUNS = "Sign in to train, and to find your runs here from any browser."
# What `streamlit run` prints as it starts and stops, in any terminal.
STARTUP_LINES = ("Uvicorn server started", "You can now view", "URL: http", "Stopping...")
# Streamlit's own note (INFO) when a fragment's timer fires just after a full rerun
# removed the fragment, e.g. the training monitor as its run ends and the page changes.
FRAGMENT_GONE = "does not exist anymore - it might have been removed during a preceding"


def run_in(page: Page) -> str:
    """The run id in a page's address."""
    return parse_qs(urlparse(page.url).query)["run"][0]


def train_quickly(page: Page) -> str:
    """Train one epoch on 1,000 images from the Train page; the new run's id."""
    go_to(page, "Train", "Train the network")
    configure_training(page, epochs=1, batch_size="128", images="1,000")
    start_training(page)
    wait_for_training_to_finish(page)
    return run_in(page)


def listed_runs(page: Page) -> dict[str, str]:
    """{run id: owner column} of the Runs page's table ("" where it has no owner column)."""
    go_to(page, "Runs", "Runs")
    none = page.get_by_text("No saved runs yet").or_(page.get_by_text(SIGN_IN_FOR_RUNS))
    expect(runs_table(page).or_(none)).to_be_visible()
    if not runs_table(page).count():
        return {}
    expect(runs_table(page).locator("tbody td").first).to_be_attached()
    return {row["Run"]: row.get("Owner", "") for row in table_rows(runs_table(page))}


def sign_in_and_find(page: Page, url: str, sub: str, latest: str) -> None:
    """Open Home in a browser that never signed in, sign in: the latest run is opened."""
    open_app(page, url, "", HOME)
    sign_in(page, sub)
    expect(sidebar(page).get_by_test_id("stAlert")).to_contain_text(f"Model ready — run {latest}")


def owner_on_disk(runs_dir: Path, run_id: str) -> tuple[str, str | None]:
    meta = json.loads((runs_dir / run_id / "run.json").read_text())
    return meta["owner"], meta["owner_name"]


def assert_quiet_log(log: Path, allowed: tuple[str, ...] = ()) -> None:
    """Nothing in the server's log but the lines a test expects."""
    lines = [line for line in log.read_text().splitlines()
             if line.strip() and not any(text in line for text in allowed)
             and not any(text in line for text in STARTUP_LINES)]
    assert not lines, "the server's log showed:\n" + "\n".join(lines)


def test_signed_in_people_each_have_their_own_runs(browser, artifacts, tmp_path):
    runs_dir = tmp_path / "runs"
    log = artifacts / "streamlit-signed-in.log"
    with identity_provider() as provider:
        add_user(provider, "alice", name="Alice", email="alice@example.com")
        add_user(provider, "bob", name="Bob", email="bob@example.com")
        options = ("--secrets.files", str(auth_secrets(tmp_path, None, provider)))
        with app_server(log, *options, MNIST_RUNS_DIR=str(runs_dir)) as (_, url):
            alice, bob = new_page(browser), new_page(browser)
            try:
                open_app(alice, url, "train", "Train the network")
                expect(alice.get_by_role("button", name="Start training")).to_have_count(0)
                expect(alice.get_by_text("Sign in to train: your runs are then kept")).to_be_visible()
                sign_in(alice, "alice", alice.get_by_test_id("stMain").get_by_role(
                    "button", name="Sign in", exact=True))  # the Train page's own
                expect(sidebar(alice).get_by_text("Signed in as Alice")).to_be_visible()
                alice_run = train_quickly(alice)

                open_app(bob, url, "", HOME)
                sign_in(bob, "bob")
                bob_run = train_quickly(bob)

                assert listed_runs(alice) == {alice_run: "you"}
                assert listed_runs(bob) == {bob_run: "you"}

                # Bob opens Alice's link: hers to read, not to change.
                open_app(bob, url, f"runs?run={alice_run}", "Runs")
                expect(sidebar(bob).get_by_text(f"Alice's run, {READ_ONLY}")).to_be_visible()
                assert listed_runs(bob) == {alice_run: "Alice", bob_run: "you"}
                toggle_row(bob, alice_run)
                expect(bob.get_by_text(f"Alice's run, {READ_ONLY}")).to_be_visible()
                expect(bob.get_by_role("button", name="Delete…")).to_have_count(0)
                expect(bob.get_by_role("button", name="Rename")).to_have_count(0)
                bob.get_by_role("button", name="Use for drawing").click()
                expect(bob.get_by_text(DRAW_PROMPT)).to_be_visible()
                from mnist_core.stroke_digits import one

                assert draw_digit(bob, one(120, 40, 200)) in "0123456789"
                assert (runs_dir / alice_run / "model.keras").is_file()  # still there, still hers

                # Alice's latest run follows her to a browser she never used.
                elsewhere = new_page(browser)
                try:
                    sign_in_and_find(elsewhere, url, "alice", alice_run)
                    sign_out(elsewhere)
                    assert listed_runs(elsewhere) == {}
                    expect(elsewhere.get_by_text(SIGN_IN_FOR_RUNS)).to_be_visible()
                    sign_in(elsewhere, "bob", elsewhere.get_by_test_id("stMain").get_by_role(
                        "button", name="Sign in", exact=True))  # the Runs page's own
                    assert listed_runs(elsewhere) == {bob_run: "you"}
                finally:
                    close_page(elsewhere)
            finally:
                close_page(alice)
                close_page(bob)
        assert owner_on_disk(runs_dir, alice_run) == (f"user:{provider} alice", "Alice")
        assert owner_on_disk(runs_dir, bob_run) == (f"user:{provider} bob", "Bob")
        # What the Runs page's Delete would ask of the server, asked in Bob's name: refused.
        with pytest.raises(NotYourRun, match="Alice's: only they can delete it"):
            RunStore(runs_dir, recover=False).delete(alice_run, by=f"user:{provider} bob")
        assert (runs_dir / alice_run / "run.json").is_file()
        assert_quiet_log(log, allowed=(LOGOUT_LOG_LINE, FRAGMENT_GONE))

        # A restarted server: the owners came back from disk with the runs.
        with app_server(log, *options, MNIST_RUNS_DIR=str(runs_dir)) as (_, url):
            page = new_page(browser)
            try:
                sign_in_and_find(page, url, "bob", bob_run)
                assert listed_runs(page) == {bob_run: "you"}
            finally:
                close_page(page)
        assert_quiet_log(log, allowed=(FRAGMENT_GONE,))


def test_anonymous_visitors_of_a_shared_server_see_only_their_own_runs(
        browser, artifacts, tmp_path):
    runs_dir = tmp_path / "runs"
    log = artifacts / "streamlit-anonymous.log"
    with app_server(log, MNIST_SHARED="1", MNIST_RUNS_DIR=str(runs_dir)) as (_, url):
        first, second = new_page(browser), new_page(browser)
        try:
            open_app(first, url, "", HOME)
            expect(sidebar(first).get_by_role("button", name="Sign in")).to_have_count(0)
            first_run = train_quickly(first)
            open_app(second, url, "", HOME)
            expect(second).not_to_have_url(re.compile(r"[?&]run="))  # nobody's latest run
            second_run = train_quickly(second)

            assert listed_runs(first) == {first_run: "you"}
            assert listed_runs(second) == {second_run: "you"}

            # A link loads the app afresh: a new session, with only the linked run.
            open_app(second, url, f"runs?run={first_run}", "Runs")
            assert listed_runs(second) == {first_run: "another visitor"}
            toggle_row(second, first_run)
            expect(second.get_by_text(f"Another visitor's run, {READ_ONLY}")).to_be_visible()
            expect(second.get_by_role("button", name="Delete…")).to_have_count(0)
            wait_until_idle(second)
        finally:
            close_page(first)
            close_page(second)
    assert owner_on_disk(runs_dir, first_run)[0].startswith("session:")
    assert owner_on_disk(runs_dir, first_run)[0] != owner_on_disk(runs_dir, second_run)[0]
    assert_quiet_log(log, allowed=(FRAGMENT_GONE,))


def test_a_restarted_local_server_opens_the_latest_finished_run(browser, artifacts, tmp_path):
    runs_dir = tmp_path / "runs"
    log = artifacts / "streamlit-local-restart.log"
    with app_server(log, MNIST_RUNS_DIR=str(runs_dir)) as (_, url):
        page = new_page(browser)
        try:
            open_app(page, url, "", HOME)
            run_id = train_quickly(page)
        finally:
            close_page(page)
    assert owner_on_disk(runs_dir, run_id) == ("local", None)
    with app_server(log, MNIST_RUNS_DIR=str(runs_dir)) as (_, url):
        page = new_page(browser)
        try:
            open_app(page, url, "", HOME)
            expect(page).to_have_url(re.compile(rf"[?&]run={re.escape(run_id)}(&|$)"))
            expect(sidebar(page).get_by_test_id("stAlert")).to_contain_text(
                f"Model ready — run {run_id}")
            expect(sidebar(page).get_by_text(LATEST_CAPTION)).to_be_visible()
            go_to(page, "Draw", "Draw a digit")
            expect(page.get_by_text(DRAW_PROMPT)).to_be_visible()
        finally:
            close_page(page)
    assert_quiet_log(log, allowed=(FRAGMENT_GONE,))
