"""Browser end-to-end fixtures: one Streamlit server and one headless Chromium per test session.

The tests drive the real app the way a person does (sidebar widgets, buttons, mouse
strokes on the canvas), so they need Debian's Chromium; Playwright's own browser
download is never used.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 60
VIEWPORT = {"width": 1400, "height": 1000}
# Journeys run at a desktop's size and at a small laptop's (with the sidebar open).
VIEWPORTS = {"1400x1000": VIEWPORT, "1024x768": {"width": 1024, "height": 768}}


def pytest_configure(config):
    from playwright.sync_api import expect

    # The app reruns on a busy 2-core machine: Playwright's 5 s default is too short.
    expect.set_options(timeout=30_000)
    config.addinivalue_line(
        "markers", "e2e: browser end-to-end tests (a Streamlit server and Debian's Chromium)"
    )


def pytest_collection_modifyitems(items):
    """Every test in this folder is an e2e test, so `-m 'not e2e'` leaves them all out.

    Under pytest-xdist each worker runs its share of them beside its own server and
    browser (pytest 9 ignores pytest-xdist 3.8's `xdist_group`: the suffix it gives a
    test's id no longer reaches the scheduler, so grouping them on one worker is not
    on offer).
    """
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)


def _require_chromium() -> None:
    """CI must never skip these tests silently; a developer without Chromium may."""
    if CHROMIUM.is_file():
        return
    message = f"{CHROMIUM} not found: install Debian's chromium, or run pytest -m 'not e2e'"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_until_healthy(proc: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with code {proc.returncode}:\n{_log_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(
        f"streamlit did not answer {url}/_stcore/health within {SERVER_START_TIMEOUT_S} s:\n"
        f"{_log_tail(log_path)}"
    )


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/ at the project root (git-ignored): logs and screenshots."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@contextlib.contextmanager
def app_server(log_path: Path, *options: str,
               **env: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """`streamlit run app.py` on a free local port, with `options` (`--secrets.files …`)
    after its own and `env` added to its environment.

    Yields the process and its URL once healthy; stopped by its own process id on the
    way out, unless it has died already (a test may kill it).
    """
    port = _free_port()
    # No logging settings of the tests' own: the log shows what a user's terminal shows.
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TF_CPP")}, **env}
    env.setdefault("MNIST_DATA", str(SHARED_MNIST))
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        *options,
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(process, url, log_path)
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture(scope="session")
def app_log(artifacts) -> Path:
    """The log of the session's server: what `streamlit run app.py` prints in a terminal.

    Named by this test process, so that two test sessions on one machine never write
    into each other's log.
    """
    return artifacts / f"streamlit-e2e-{os.getpid()}.log"


@pytest.fixture(scope="session")
def app_url(app_log):
    """The app served by `streamlit run app.py` on a free local port, for the whole session."""
    _require_chromium()
    with app_server(app_log) as (_, url):
        yield url


@pytest.fixture
def newcomer_app(artifacts, tmp_path, request) -> Iterator[tuple[str, Path]]:
    """(url, log) of a server of its own with no saved runs: a newcomer's first visit.

    The session's server holds the runs of earlier tests, and a new visitor there opens
    the latest of them.
    """
    _require_chromium()
    log = artifacts / f"streamlit-{request.node.name}.log"
    with app_server(log, MNIST_RUNS_DIR=str(tmp_path / "runs")) as (_, url):
        yield url, log


@contextlib.contextmanager
def launched_chromium():
    """Debian's headless Chromium through Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the session; each test opens its own context."""
    _require_chromium()
    with launched_chromium() as browser:
        yield browser


def new_page(browser, viewport: dict = VIEWPORT):
    """A fresh browser context, hence a fresh Streamlit session."""
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(30_000)
    return context.new_page()


def close_page(page) -> None:
    """Close a test's page; stop its training first if a failed test left one running.

    Trainings outlive sessions on the server and take its (few) training slots; a
    leftover one would slow down or queue the next test's training.
    """
    try:
        if page.get_by_test_id("stSidebar").get_by_text("Training in progress").count():
            page.get_by_test_id("stSidebar").get_by_role("link", name="Train", exact=True).click()
            stop = page.get_by_role("button", name="Stop", exact=True)
            stop.wait_for(timeout=30_000)
            if stop.is_enabled():
                stop.click()
    except Exception as error:  # best effort: the server stops at the end of the session
        print(f"could not stop a leftover training: {error}")
    finally:
        page.context.close()


@pytest.fixture
def fresh_page(browser, app_url):
    """A page of its own for one test: a new Streamlit session."""
    page = new_page(browser)
    try:
        yield page
    finally:
        close_page(page)


@pytest.fixture(scope="module")
def shared_page(browser, app_url):
    """One page (one Streamlit session) shared by the tests of a module, in file order.

    Training, drawing and page switching build on each other: the drawing test uses
    the model that the training test left in this session.
    """
    page = new_page(browser)
    try:
        yield page
    finally:
        close_page(page)


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    """Each journey runs once per window size: "1400x1000", then "1024x768"."""
    return request.param


def _saved_run(architecture: str, train_size: int) -> str:
    """A run trained here and saved where the session's server finds it (`?run=ID`)."""
    from mnist_core.config import ModelConfig, TrainConfig
    from mnist_core.data import load_mnist
    from mnist_core.runs.records import JobStatus
    from mnist_core.runs.store import RunStore
    from mnist_core.runs.train import TrainingJob

    job = TrainingJob(load_mnist(), ModelConfig(architecture=architecture),
                      TrainConfig(epochs=1, train_size=train_size), store=RunStore())
    job.run()
    assert job.progress().status == JobStatus.FINISHED, job.progress().error
    return job.run_id


@pytest.fixture(scope="session")
def dense_run(app_url) -> str:
    """The id of a finished classic dense run (1 epoch, 10,000 images, ~90% on the test set)."""
    return _saved_run("dense", 10_000)


@pytest.fixture(scope="session")
def cnn_run(app_url) -> str:
    """The id of a finished convnet run (1 epoch, 5,000 images)."""
    return _saved_run("cnn", 5_000)
